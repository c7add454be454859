"""Retention (SPEC §5): the blobs of finished jobs go after a while, and with them the
before-images a revert would need (SPEC §8); their history stays."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from uuid import UUID

from lading.application.import_jobs import ImportJobs
from lading.application.projections import JobFilter
from lading.domain.lifecycle import TERMINAL_STATES
from lading.domain.timestamps import iso_utc


class Housekeeping:
    def __init__(self, jobs: ImportJobs) -> None:
        self.jobs = jobs

    def purge(self, workspace: str, older_than_days: int = 30, now: datetime | None = None) -> int:
        """Delete the blobs, work files and before-images of jobs that ended more than
        `older_than_days` ago; return how many blobs were removed."""
        cutoff = iso_utc((now or datetime.now(UTC)) - timedelta(days=older_than_days))
        removed = 0
        ended = JobFilter(workspace=workspace, limit=1_000_000, states=tuple(sorted(TERMINAL_STATES)))
        for doc in self.jobs.list_jobs(ended):
            if doc.get("finishedAt") and doc["finishedAt"] < cutoff:
                files = self.jobs.files(self.jobs.load(_uuid(doc["jobId"]), workspace))
                removed += self.jobs.blobs.delete_prefix(files.prefix)
                shutil.rmtree(files.job_work_dir, ignore_errors=True)
                self.jobs.destination.forget_before_images(workspace, doc["objectName"],
                                                           _uuid(doc["jobId"]))
        return removed


def _uuid(value: str) -> UUID:
    return UUID(value)
