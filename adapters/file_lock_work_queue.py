"""The embedded work queue: runnable jobs come from the job index, and the right to work on a
job is an exclusive flock on a file, which the kernel releases the instant its process dies."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID


class FileLockWorkQueue:
    def __init__(self, directory: Path, runnable: Callable[[], list[str]]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._runnable = runnable
        self._wakeup = threading.Condition()

    def enqueue(self, job_id: UUID) -> None:
        # The job's Started event already makes it runnable; this only wakes local workers.
        with self._wakeup:
            self._wakeup.notify_all()

    def wait(self, timeout: float) -> None:
        with self._wakeup:
            self._wakeup.wait(timeout)

    def runnable(self) -> list[UUID]:
        return [UUID(j) for j in self._runnable()]

    @contextmanager
    def claim(self, job_id: UUID) -> Iterator[bool]:
        yield_value = False
        fd = os.open(self.directory / f"{job_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                yield_value = True
            except BlockingIOError:
                pass
            yield yield_value
        finally:
            os.close(fd)  # closing releases the lock

    @contextmanager
    def admission(self, workspace: str) -> Iterator[None]:
        """Serialise `start` within a workspace across processes (exact concurrency limits)."""
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in workspace)
        fd = os.open(self.directory / f"workspace-{safe}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
