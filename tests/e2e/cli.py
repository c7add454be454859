"""Run the real `lading` command in a subprocess with its own LADING_HOME."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

# The crash tests' file: 60,000 profiles (1 % invalid) in 256 KiB chunks, enough chunks that a
# kill lands inside the job's validation or merge; tests/e2e/conftest.py's `crash_reference`
# is one uninterrupted import of it.
CRASH_ROWS = 60_000
CRASH_CHUNK_ENV = {"LADING_CHUNK_BYTES": "262144"}


class Lading:
    def __init__(self, home: Path, **env: str) -> None:
        self.home = home
        self.env = {**os.environ, "LADING_HOME": str(home), **env}
        for key in ("LADING_EVENT_STORE", "LADING_DESTINATION", "LADING_WORKSPACE"):
            if key not in env:
                self.env.pop(key, None)

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "lading.entrypoints.cli", *args], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def popen_python(self, script: str, *args: str) -> subprocess.Popen:
        """A Python script run in this home's environment (crash tests that kill themselves)."""
        return subprocess.Popen([sys.executable, script, *args], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run(self, *args: str, check_code: int | None = 0) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "lading.entrypoints.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=300)
        if check_code is not None:
            assert done.returncode == check_code, (done.returncode, done.stdout, done.stderr)
        return done

    def json(self, *args: str, check_code: int | None = 0):
        return json.loads(self.run(*args, check_code=check_code).stdout)

    def add_object(self, tmp: Path, name: str, schema: dict) -> None:
        path = tmp / f"{name}.json"
        path.write_text(json.dumps({"name": name, "schema": schema}))
        self.run("objects", "add", str(path))


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    """`lading worker` in its own session (so a kill reaches its child too), stderr kept."""
    return subprocess.Popen([sys.executable, "-m", "lading.entrypoints.cli", "worker", "--poll", "0.5"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def stop_worker(worker: subprocess.Popen) -> str:
    """Stop it as a service manager would (SIGTERM, then SIGKILL after 20 s); its stderr."""
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    return worker.stderr.read()
