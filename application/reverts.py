"""Reverting a completed job (SPEC §8): its merged chunks undone from their before-images.

`Reverts.revert` is the use case (checks conflicts with later jobs, then queues the revert like
a start); `revert_chunks` is the worker's part, chunk by chunk, each chunk undone exactly once
by the destination and then recorded, so a run killed at any instant resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from lading.application.errors import JobNotFound, RevertConflict
from lading.application.ports import DestinationStore, LedgerEntry
from lading.domain.errors import TransitionNotAllowed
from lading.domain.import_job import ImportJob
from lading.domain.table_schema import TableSchema

if TYPE_CHECKING:
    from lading.application.import_jobs import ImportJobs


class Reverts:
    def __init__(self, jobs: ImportJobs, destination: DestinationStore) -> None:
        self.jobs = jobs
        self.destination = destination

    def revert(self, workspace: str, job_id: UUID, force: bool = False) -> None:
        """Queue the undoing of a completed job. Rows a later job changed again are conflicts:
        refused with RevertConflict (listing them) unless `force`, which restores over them."""
        job = self.jobs.load(job_id, workspace)
        if job.is_deleted:
            raise JobNotFound(job_id)
        job.check_allowed("start_revert")
        if not job.dry_run and self.destination.before_images_kept(
                job.id, job.plan_version) < len(job.merged_chunks):
            raise TransitionNotAllowed(job.state, "start_revert", (
                "its before-images are gone (purged with its files, or merged before Lading"
                " kept them)"))
        schema = self.jobs.schema_of(workspace, job.object_name)
        found = self.destination.revert_conflicts(workspace, job.object_name, schema, job.id,
                                                  job.plan_version)
        if found.count and not force:
            raise RevertConflict(job_id, found.conflicts, found.count)
        for attempt in range(20):
            job = self.jobs.load(job_id, workspace)
            job.start_revert(force, found.count)
            try:
                self.jobs.save(job)
            except IntegrityError:  # saved meanwhile (a callback, an edit): decide again
                if attempt == 19:
                    raise
                continue
            break
        self.jobs.projector.catch_up()
        self.jobs.queue.enqueue(job_id)


def revert_chunks(destination: DestinationStore, schema: TableSchema, job: ImportJob,
                  save: Callable[[ImportJob], None],
                  on_progress: Callable[[dict[str, Any]], None]) -> None:
    """The worker's part of a revert: every merged chunk not reverted yet, then Reverted."""
    for chunk in job.chunks_to_revert:
        removed, restored = destination.revert_chunk(
            job.workspace, job.object_name, schema, LedgerEntry(job.id, job.plan_version, chunk))
        job.record_reverted_chunk(chunk, removed, restored)
        save(job)
        on_progress({"stage": "reverting", "chunksReverted": len(job.reverted_chunks),
                     "chunksTotal": len(job.merged_chunks)})
    job.finish_revert()
    save(job)
