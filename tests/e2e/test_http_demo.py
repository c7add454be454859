"""`make run`'s demo: it registers the object and a key, prints a walk-through, serves — and
the printed walk-through, pasted into bash, runs the whole flow against it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from tests.e2e.http_server import free_port

RULE = "-" * 88


def test_the_printed_walkthrough_runs_the_whole_flow_against_the_demo_server(tmp_path):
    port = free_port()
    env = {**os.environ, "LADING_HOME": str(tmp_path / "var"), "LADING_PORT": str(port),
           "LADING_RATE_LIMIT": "0"}
    for key in ("LADING_EVENT_STORE", "LADING_DESTINATION", "LADING_PUBLIC_URL", "LADING_HOST"):
        env.pop(key, None)
    demo = subprocess.Popen([sys.executable, "-m", "lading.entrypoints.demo"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        lines, header, rules = [], [], 0
        while rules < 2:
            line = demo.stdout.readline()
            assert line, "the demo ended before printing its walk-through"
            if line.strip() == RULE:
                rules += 1
            elif rules == 1:
                lines.append(line)
            else:
                header.append(line)
        script = "set -e\n" + "".join(lines)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the demo server did not come up"
            time.sleep(0.1)
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        out = done.stdout
        assert '"state":"completed"' in out
        error_rows = [json.loads(l) for l in out.splitlines() if l.startswith('{"rowNumber"')]
        assert sorted(r["code"] for r in error_rows) == sorted([
            "VALIDATION_TYPE_MISMATCH", "VALIDATION_TYPE_MISMATCH", "REQUIRED_FIELD_MISSING",
            "VALIDATION_CONSTRAINT_VIOLATION", "VALIDATION_CONSTRAINT_VIOLATION", "DUPLICATE_KEY"])
        assert '"id","email"' in out or "id,email" in out, "the valid rows CSV header"
        assert '"type":"Completed"' in out
        console = f"http://127.0.0.1:{port}/console"
        assert any(console in line for line in header), "the demo prints the console's address"
        assert httpx.get(f"{console}/sign-in", timeout=10).status_code == 200
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=15)
