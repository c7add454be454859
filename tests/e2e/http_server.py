"""A real `lading serve` in a subprocess on a free loopback port, with its own LADING_HOME."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from lading.entrypoints.bootstrap import Lading, bootstrap
from lading.entrypoints.samples import profiles_object
from lading.entrypoints.settings import load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LadingServer:
    def __init__(self, home: Path, *, worker: bool = True, **env: str) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "LADING_HOME": str(home), "LADING_RATE_LIMIT": "0", **env}
        for key in ("LADING_EVENT_STORE", "LADING_DESTINATION", "LADING_WORKSPACE", "LADING_BLOBS",
                    "LADING_PUBLIC_URL"):
            if key not in env:
                self.env.pop(key, None)
        self.worker = worker
        self.process: subprocess.Popen | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "lading.entrypoints.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout.strip()

    def key(self, workspace: str, scopes: str = "imports:read,imports:write") -> str:
        with self._library() as lading:
            return lading.keys.create(workspace, frozenset(scopes.split(",")))

    def add_profiles(self, workspace: str) -> None:
        descriptor = profiles_object()
        with self._library() as lading:
            lading.objects.add_object(workspace, descriptor["name"], descriptor["schema"])

    @contextmanager
    def _library(self) -> Iterator[Lading]:
        """Lading as a library on the server's settings: a test's set-up (a key, an object)
        without a CLI process each, whose start-up costs most of a module's set-up. The CLI's
        own commands are tested in tests/e2e/test_cli*.py."""
        lading = bootstrap(load_settings(self.env))
        try:
            yield lading
        finally:
            lading.close()

    def start(self) -> "LadingServer":
        args = [sys.executable, "-m", "lading.entrypoints.cli", "serve", "--host", "127.0.0.1",
                "--port", str(self.port)]
        if not self.worker:
            args.append("--no-worker")
        self.process = subprocess.Popen(args, env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"lading serve exited: {self.process.stdout.read()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("lading serve did not answer /healthz within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # The whole session: the server and its worker child.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def client(self, key: str | None = None, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)


def wait_for_state(client: httpx.Client, job_id: str, states: set[str], timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/import-jobs/{job_id}")
        assert response.status_code == 200, response.text
        status = response.json()["data"]
        if status["state"] in states:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {status['state']} after {timeout} s")
        time.sleep(0.1)


def upload_job(client: httpx.Client, object_name: str, content: bytes, file_name: str = "data.csv",
               mapping: dict | None = None, start: bool = True) -> str:
    """create -> PUT -> mapping -> start, asserting each step; return the job id."""
    created = client.post("/v1/import-jobs", json={"objectName": object_name, "fileName": file_name,
                                                   "fileSize": len(content)})
    assert created.status_code == 201, created.text
    slot = created.json()["data"]
    put = httpx.put(slot["uploadUrl"], content=content, headers=slot["headers"], timeout=60)
    assert put.status_code == 200, put.text
    mapped = client.post(f"/v1/import-jobs/{slot['jobId']}/mapping", json=mapping or {})
    assert mapped.status_code == 200, mapped.text
    if start:
        started = client.post(f"/v1/import-jobs/{slot['jobId']}/start")
        assert started.status_code == 200, started.text
    return slot["jobId"]


def imported(client: httpx.Client, content: bytes, **create_options) -> dict:
    """Create a profiles job with `create_options`, upload `content` to its signed slot, map by
    name, start it and return its status once it ended."""
    created = client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                   "fileSize": len(content), **create_options})
    assert created.status_code == 201, created.text
    slot = created.json()["data"]
    assert httpx.put(slot["uploadUrl"], content=content, headers=slot["headers"]).status_code == 200
    assert client.post(f"/v1/import-jobs/{slot['jobId']}/mapping", json={}).status_code == 200
    assert client.post(f"/v1/import-jobs/{slot['jobId']}/start").status_code == 200
    return wait_for_state(client, slot["jobId"], {"completed", "failed"})
