"""Time travel: a job's status as it was after one of its events, computed from the events.

The read model is the fold of `apply_event` over a job's events in order (projector.py); so is
this, over the first N of them. One reducer, one rule: what a poll showed after event N is
what `status_as_of(version=N)` answers, whenever it is asked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from lading.application.errors import JobNotFound
from lading.application.import_jobs import ImportJobs
from lading.application.projections import apply_event
from lading.domain.errors import DomainError


class AsOfInvalid(DomainError):
    """A point in a job's history that the job does not have (or that is not a point at all)."""


class TimeTravel:
    def __init__(self, jobs: ImportJobs) -> None:
        self.jobs = jobs

    def status_as_of(self, workspace: str, job_id: UUID, *, version: int | None = None,
                     instant: str | None = None) -> dict[str, Any]:
        """The status document after event `version`, or after the last event at or before
        `instant` (ISO 8601; without an offset, UTC). Exactly one of the two is given."""
        if (version is None) == (instant is None):
            raise AsOfInvalid("give either asOfVersion or asOf, not both")
        job = self.jobs.load(job_id, workspace)
        if job.is_deleted:  # like its status: a deleted job is gone; its events stay readable
            raise JobNotFound(job_id)
        last = job.version
        if version is not None and not 1 <= version <= last:
            raise AsOfInvalid(f"asOfVersion must be between 1 and {last}, the job's last event")
        moment = _instant(instant) if instant is not None else None
        doc: dict[str, Any] | None = None
        for event in self.jobs.events_of(job_id):
            if version is not None and event.originator_version > version:
                break
            if moment is not None and event.timestamp > moment:
                break
            doc = apply_event(doc, event)
        if doc is None:
            raise AsOfInvalid(f"asOf {instant} is before the job was created")
        return doc


def _instant(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise AsOfInvalid(f"asOf must be an ISO 8601 date-time, not '{text[:40]}'") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
