"""What both work queues share: runnable jobs come from the job index (queued or running), and
`enqueue` only wakes workers in this process; another process finds the job on its next look."""

from __future__ import annotations

import threading
from collections.abc import Callable
from uuid import UUID


class JobIndexQueue:
    def __init__(self, runnable: Callable[[], list[str]]) -> None:
        self._runnable = runnable
        self._wakeup = threading.Condition()

    def enqueue(self, job_id: UUID) -> None:
        with self._wakeup:
            self._wakeup.notify_all()

    def wait(self, timeout: float) -> None:
        with self._wakeup:
            self._wakeup.wait(timeout)

    def runnable(self) -> list[UUID]:
        return [UUID(j) for j in self._runnable()]
