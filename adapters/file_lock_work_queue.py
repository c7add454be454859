"""The embedded work queue: runnable jobs come from the job index, and the right to work on a
job is an exclusive flock on a file, which the kernel releases the instant its process dies."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

from adapters.job_index_queue import JobIndexQueue


class FileLockWorkQueue(JobIndexQueue):
    def __init__(self, directory: Path, runnable: Callable[[], list[str]]) -> None:
        super().__init__(runnable)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

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
