"""A real S3 protocol server for tests: moto's `moto_server` on a free loopback port.

moto is a test dependency, so a missing `moto_server` is an install error and fails the tests
that need it (never a skip): CI cannot pass by silently leaving the S3 paths out.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "lading-test", "AWS_SECRET_ACCESS_KEY": "lading-test-secret",
               "AWS_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _moto_server_command() -> list[str]:
    beside = Path(sys.executable).with_name("moto_server")
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    if found is None:
        pytest.fail("moto_server is not installed: pip install -e '.[test]' (moto[server] is a test extra)")
    return [found]


@contextmanager
def running_moto_server(recording: Path | None = None) -> Iterator[str]:
    """A moto server's endpoint; with `recording`, the server appends every request it
    receives (method, URL, headers) to that file as a JSON line (moto's recorder)."""
    port = free_port()
    env = None
    if recording is not None:
        env = {**os.environ, "MOTO_ENABLE_RECORDING": "1", "MOTO_RECORDER_FILEPATH": str(recording)}
    process = subprocess.Popen([*_moto_server_command(), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start on port {port}")
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def create_bucket(endpoint: str, name: str) -> None:
    from lading.adapters.s3_blob_store import s3_client

    s3_client(endpoint, CREDENTIALS["AWS_REGION"], CREDENTIALS["AWS_ACCESS_KEY_ID"],
              CREDENTIALS["AWS_SECRET_ACCESS_KEY"]).create_bucket(Bucket=name)
