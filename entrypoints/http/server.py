"""`lading serve`: the API under uvicorn, with the worker in a child process.

Validation and merging are CPU-heavy and the event store is synchronous; in the server's
process they would hold the GIL against request latency. The child is a plain `lading worker`
(the same command that scales out), restarted if it dies, and killed with its parent.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

import click

from lading.entrypoints.settings import ConfigError, Settings

WORKER_POLL_SECONDS = "0.2"


def _prepare_child() -> None:  # pragma: no cover - runs in the child before exec
    # Ctrl-C reaches the whole process group; the parent stops the worker itself (SIGTERM) once
    # the server has shut down, so the child neither dies first nor prints a KeyboardInterrupt.
    # An ignored signal stays ignored across exec, and Python then installs no handler for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform != "linux":
        return
    # Linux: the kernel sends SIGTERM to the worker when `lading serve` dies, even by kill -9.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind the server's socket here, so a busy port is one clear refusal naming the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use (another Lading?): choose"
                              f" another with LADING_PORT={port + 1} (or --port)") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror} (LADING_HOST,"
                          " LADING_PORT)") from None
    return sock


class WorkerSupervisor:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen[Any] | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _spawn(self) -> subprocess.Popen[Any]:
        return subprocess.Popen(
            [sys.executable, "-m", "lading.entrypoints.cli", "worker", "--poll", WORKER_POLL_SECONDS],
            env=self.env, preexec_fn=_prepare_child,
        )

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.process = self._spawn()
            code = self.process.wait()
            if not self._stopping.is_set():
                click.echo(f"lading: worker exited with {code}; restarting it", err=True)
                self._stopping.wait(1.0)

    def stop(self) -> None:
        self._stopping.set()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def serve(settings: Settings, host: str | None, port: int | None, *, worker: bool = True,
          access_log: bool = False, sock: socket.socket | None = None) -> None:
    import uvicorn

    from lading.entrypoints.bootstrap import bootstrap
    from lading.entrypoints.http.app import create_app
    from lading.entrypoints.http.slow_clients import protocol_with_deadlines

    host = host or settings.host
    port = port if port is not None else settings.port
    sock = sock or listening_socket(host, port)
    lading = bootstrap(settings)
    app = create_app(lading)
    supervisor = WorkerSupervisor({**os.environ, "LADING_HOME": str(settings.home)})
    if worker:
        supervisor.start()
    click.echo(f"Lading API on http://{host}:{port}  (docs: http://{host}:{port}/schema)", err=True)
    try:
        # log_config=None: uvicorn's records go through Lading's JSON Lines handler (logging_setup).
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, access_log=access_log,
                                      log_level=settings.log_level.lower(), log_config=None,
                                      lifespan="on", timeout_keep_alive=5,
                                      http=protocol_with_deadlines(settings.header_timeout,
                                                                   settings.body_idle_timeout),
                                      )).run(sockets=[sock])
    finally:
        supervisor.stop()
        lading.close()
