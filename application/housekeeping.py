"""Retention (SPEC §5): the blobs of finished jobs go after a while, and with them the
before-images a revert would need (SPEC §8); their history stays. So do the blobs of jobs
abandoned before they started, and what killed uploads left half-written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from lading.application.errors import JobNotFound
from lading.application.import_jobs import ImportJobs
from lading.application.projections import JobFilter
from lading.domain.errors import TransitionNotAllowed
from lading.domain.lifecycle import TERMINAL_STATES, JobState
from lading.domain.timestamps import iso_utc

# A write in progress touches its temporary file at least every body-idle timeout (seconds);
# one untouched this long belongs to a process that was killed mid-upload.
STALE_TEMPORARY_AGE = timedelta(hours=1)
_NEVER_STARTED = (JobState.PENDING.value, JobState.READY.value)


class Housekeeping:
    def __init__(self, jobs: ImportJobs) -> None:
        self.jobs = jobs

    def purge(self, workspace: str, older_than_days: int = 30,
              pending_older_than: timedelta | None = None, now: datetime | None = None) -> int:
        """Purge the blobs and work files of jobs that ended more than `older_than_days` ago,
        and (when given) of jobs never started and untouched for `pending_older_than`; each
        gets a `BlobsPurged` event. Return how many blobs and stale temporaries were removed."""
        now = now or datetime.now(UTC)
        ended_before = iso_utc(now - timedelta(days=older_than_days))
        removed = 0
        for doc in self._unpurged(workspace, tuple(sorted(TERMINAL_STATES))):
            if doc.get("finishedAt") and doc["finishedAt"] < ended_before:
                removed += self.jobs.purge_blobs(workspace, UUID(doc["jobId"]))
        if pending_older_than is not None:
            idle_before = iso_utc(now - pending_older_than)
            for doc in self._unpurged(workspace, _NEVER_STARTED):
                if doc["updatedAt"] < idle_before:
                    try:
                        removed += self.jobs.purge_blobs(workspace, UUID(doc["jobId"]))
                    except (TransitionNotAllowed, JobNotFound):
                        pass  # started (or deleted) since it was listed: no longer abandoned
        removed += self.jobs.blobs.delete_stale_temporaries(workspace, now - STALE_TEMPORARY_AGE)
        return removed

    def _unpurged(self, workspace: str, states: tuple[str, ...]) -> Iterator[dict[str, Any]]:
        docs = self.jobs.list_jobs(JobFilter(workspace=workspace, limit=1_000_000, states=states))
        return (doc for doc in docs if doc.get("purgedAt") is None)
