"""`lading replay`: rebuild the read models from the events, or check them against a rebuild."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lading.application.import_jobs import ImportJobs
from lading.application.projections import ReadModelStore
from lading.application.projector import rebuild


class ReadModelReplay:
    def __init__(self, jobs: ImportJobs, fresh_store: Callable[[], Any]) -> None:
        """`fresh_store()` makes an empty, throwaway ReadModelStore (closed after a check)."""
        self.jobs = jobs
        self.fresh_store = fresh_store

    def rebuild(self) -> int:
        """Rebuild the live read models from the whole history; return how many jobs they hold."""
        self.jobs.projector.catch_up()
        rebuild(self.jobs, self.jobs.read_models)
        return len(self.jobs.read_models.all_documents())

    def check(self) -> list[str]:
        """Rebuild into a fresh store and list every difference from the live read models."""
        self.jobs.projector.catch_up()
        fresh: ReadModelStore = self.fresh_store()
        try:
            rebuild(self.jobs, fresh)
            return _differences(self.jobs.read_models.all_documents(), fresh.all_documents())
        finally:
            fresh.close()


def _differences(live: dict[str, dict[str, Any]], rebuilt: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    for job_id in sorted(set(live) | set(rebuilt)):
        a, b = live.get(job_id), rebuilt.get(job_id)
        if a is None or b is None:
            out.append(f"job {job_id}: {'missing from live' if a is None else 'missing from rebuild'}")
            continue
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                out.append(f"job {job_id} field {key}: live={a.get(key)!r} rebuilt={b.get(key)!r}")
    return out
