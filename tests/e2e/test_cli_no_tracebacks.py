"""A mistake or an interruption is one line and the right exit code, never a traceback (issue 16)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.cli import Lading
from tests.e2e.http_server import free_port


def one_line_refusal(done: subprocess.CompletedProcess, code: int = 2) -> str:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if not line.startswith("lading: keeping data")]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def test_adding_a_binary_file_as_an_object_is_one_line(tmp_path):
    binary = tmp_path / "ls.json"
    binary.write_bytes(open(sys.executable, "rb").read(4096))
    line = one_line_refusal(Lading(tmp_path / "home").run("objects", "add", str(binary), check_code=None))
    assert "ls.json is not a JSON file" in line


def test_an_unreachable_postgresql_is_one_line_naming_the_setting(tmp_path):
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/lading"
    for key in ("LADING_EVENT_STORE", "LADING_DESTINATION"):
        started = time.monotonic()
        line = one_line_refusal(Lading(tmp_path / "home", **{key: closed}).run(
            "jobs", "list", check_code=None))
        assert line.startswith(f"error: {key}: PostgreSQL at 127.0.0.1:") and "does not answer" in line
        assert time.monotonic() - started < 20, "refused at once, not after a pool's timeout"


def test_a_wrong_setting_is_one_line_naming_it(tmp_path):
    line = one_line_refusal(Lading(tmp_path / "home", LADING_PORT="abc").run("jobs", "list",
                                                                              check_code=None))
    assert line == "error: LADING_PORT must be a whole number, not 'abc'"


def test_the_first_command_says_where_the_data_folder_is_then_never_again(tmp_path):
    cli = Lading(tmp_path / "fresh")
    first = cli.run("jobs", "list")
    assert f"keeping data in {tmp_path / 'fresh'}" in first.stderr
    assert "keeping data" not in cli.run("jobs", "list").stderr


def as_from_a_terminal() -> None:
    """Ctrl-C reaches a program started from a terminal. A runner that started this suite in
    the background has SIGINT ignored, and children inherit that; put the default back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def serving(tmp_path, port: int, module: str) -> subprocess.Popen:
    env = {**Lading(tmp_path / "home").env, "LADING_PORT": str(port)}
    command = ["lading.entrypoints.cli", "serve"] if module == "serve" else ["lading.entrypoints.demo"]
    process = subprocess.Popen([sys.executable, "-m", *command],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=as_from_a_terminal)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(process.communicate())


def worker_of(server: subprocess.Popen) -> int:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True)
        if children.stdout.split():
            return int(children.stdout.split()[0])
        time.sleep(0.1)
    raise AssertionError("serve started no worker child")


@pytest.mark.parametrize("module", ["serve", "make run"])
def test_ctrl_c_exits_130_quietly_and_stops_the_worker(tmp_path, module):
    port = free_port()
    server = serving(tmp_path, port, module)
    worker = worker_of(server)
    time.sleep(1)  # the worker is past its start-up, in its polling loop
    os.killpg(server.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    _, stderr = server.communicate(timeout=30)
    assert server.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert "restarting" not in stderr
    assert subprocess.run(["kill", "-0", str(worker)], capture_output=True).returncode != 0


def test_a_second_server_on_a_busy_port_names_the_port_and_the_setting(tmp_path):
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        env = {**Lading(tmp_path / "home").env, "LADING_PORT": str(port)}
        for command in (["-m", "lading.entrypoints.cli", "serve"], ["-m", "lading.entrypoints.demo"]):
            done = subprocess.run([sys.executable, *command], env=env, capture_output=True,
                                  text=True, timeout=60)
            line = one_line_refusal(done)
            assert f"port {port} on 127.0.0.1 is already in use" in line and "LADING_PORT=" in line
            assert "Try the whole flow" not in done.stdout, "refused before the tour is printed"


def _holds_open(pid: int, name: str) -> bool:
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if name in os.readlink(fd):
                return True
        except FileNotFoundError:
            continue  # closed while the list was read
    return False


def test_ctrl_c_on_a_standalone_worker_exits_130_quietly(tmp_path):
    cli = Lading(tmp_path / "home")
    worker = subprocess.Popen([sys.executable, "-m", "lading.entrypoints.cli", "worker", "--poll",
                               "0.1"], env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True, preexec_fn=as_from_a_terminal)
    deadline = time.monotonic() + 30
    while not _holds_open(worker.pid, "read_models.sqlite"):
        assert time.monotonic() < deadline and worker.poll() is None, "the worker never got going"
        time.sleep(0.1)  # wired once it holds its read models open
    os.killpg(worker.pid, signal.SIGINT)
    _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 130 and "Traceback" not in stderr, stderr
