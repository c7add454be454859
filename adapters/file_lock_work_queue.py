"""The embedded work queue: runnable jobs come from the job index, and the right to work on a
job is an exclusive flock on a file, which the kernel releases the instant its process dies."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from uuid import UUID

from lading.adapters.job_index_queue import JobIndexQueue


class FileLockWorkQueue(JobIndexQueue):
    def __init__(self, directory: Path, runnable: Callable[[], list[str]]) -> None:
        super().__init__(runnable)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def claim(self, job_id: UUID) -> AbstractContextManager[bool]:
        return self._try_lock(f"{job_id}.lock")

    def claim_workspace_run(self, workspace: str) -> AbstractContextManager[bool]:
        return self._try_lock(f"running-{_safe(workspace)}.lock")

    @contextmanager
    def _try_lock(self, name: str) -> Iterator[bool]:
        locked = False
        fd = os.open(self.directory / name, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = True
            except BlockingIOError:
                pass
            yield locked
        finally:
            os.close(fd)  # closing releases the lock

    @contextmanager
    def admission(self, workspace: str) -> Iterator[None]:
        """Serialise `start` within a workspace across processes (exact concurrency limits)."""
        fd = os.open(self.directory / f"workspace-{_safe(workspace)}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _safe(workspace: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in workspace)
