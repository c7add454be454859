"""Dry runs (SPEC §8): a job that runs whole, writes nothing, and reports what it would do.

The runner merges a dry run's chunks through `diff_chunk` instead of merging them; `DryRuns`
is the use case that applies a completed dry run as a new job with the same source and plan.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lading.application.errors import JobNotFound
from lading.application.job_files import JobFiles
from lading.application.ports import BlobInfo, BlobStore, DestinationStore, LedgerEntry, PreparedRows
from lading.domain.errors import TransitionNotAllowed
from lading.domain.import_job import ImportJob
from lading.domain.lifecycle import JobState
from lading.domain.table_schema import TableSchema

if TYPE_CHECKING:  # ImportJobs imports this module for with_diff_samples
    from lading.application.import_jobs import ImportJobs

# Sample rows a diff shows of each kind (SPEC §8).
SAMPLES_PER_KIND = 20
KINDS = ("updated", "inserted", "deleted")


def diff_chunk(destination: DestinationStore, blobs: BlobStore, files: JobFiles, job: ImportJob,
               schema: TableSchema, operation: str, chunk: int, rows: PreparedRows) -> None:
    """Count what merging the chunk would do, keep its samples while the diff wants more, and
    record the chunk on the job (the caller saves it). Safe to repeat: the samples blob of a
    chunk is rewritten whole, and nothing reaches the destination."""
    wanted = {kind: SAMPLES_PER_KIND - job.diff_samples_taken.get(kind, 0) for kind in KINDS}
    diff = destination.preview_chunk(job.workspace, job.object_name, schema, operation, rows,
                                     LedgerEntry(job.id, job.plan_version, chunk), wanted)
    taken = {kind: len(found) for kind, found in diff.samples.items() if found}
    if taken:
        with blobs.writer(files.diff_samples(chunk)) as out:
            out.write(json.dumps(diff.samples, ensure_ascii=False).encode())
    counts = diff.counts
    job.record_diffed_chunk(chunk, counts.inserts, counts.updates, counts.deletes,
                            counts.unchanged, taken)


def with_diff_samples(blobs: BlobStore, files: JobFiles, doc: dict[str, Any]) -> dict[str, Any]:
    """The status document with its diff's sample rows, read from the chunks that kept some."""
    if not doc.get("dryRun") or doc.get("diff") is None:
        return doc
    samples: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for chunk in doc.get("diffSampleChunks") or []:
        key = files.diff_samples(chunk)
        if not blobs.exists(key):
            continue  # purged with the job's other blobs
        stored = json.loads(blobs.local_path(key).read_bytes())
        for kind in KINDS:
            room = SAMPLES_PER_KIND - len(samples[kind])
            samples[kind].extend(stored.get(kind, [])[:room])
    return {**doc, "diff": {**doc["diff"], "samples": samples}}


class DryRuns:
    """Applying a completed dry run: a new job with its source and plan, started at once."""

    def __init__(self, jobs: ImportJobs) -> None:
        self.jobs = jobs

    def apply(self, workspace: str, job_id: UUID) -> UUID:
        """Start the real run of a completed dry run; its `dryRunOf` names the dry run. Counts
        are the new run's own: if the destination changed meanwhile, they say so."""
        dry = self.jobs.load(job_id, workspace)
        if dry.is_deleted:
            raise JobNotFound(job_id)
        if not dry.dry_run or dry.state != JobState.COMPLETED:
            raise TransitionNotAllowed(dry.state, "apply", "only a completed dry run is applied")
        new_id = self._copy(dry)
        try:
            self.jobs.start(workspace, new_id)
        except BaseException:
            self.jobs.delete(workspace, new_id)
            raise
        return new_id

    def _copy(self, dry: ImportJob) -> UUID:
        """A new job holding its own copy of the dry run's source (deleting either job keeps
        the other's bytes) and the dry run's plan, fixes included."""
        assert dry.file is not None and dry.plan is not None  # it ran to completion
        job = ImportJob(dry.workspace, dry.object_name, dry.file_name, dry.file["size"],
                        source=dry.source, labels=dry.labels, inline_rows=dry.inline_rows,
                        list_id=dry.list_id, callback_url=dry.callback_url,
                        dry_run_of=str(dry.id))
        blobs, files = self.jobs.blobs, self.jobs.files(job)
        parts = dry.files or [{"blobKey": dry.file["blobKey"], "fileName": dry.file_name}]
        copies: list[tuple[BlobInfo, str]] = [
            (blobs.put_file(files.new_upload(), blobs.local_path(part["blobKey"])),
             part["fileName"] or "source") for part in parts]
        if dry.files:
            job.receive_files([{"blobKey": info.key, "size": info.size, "sha256": info.sha256,
                                "fileName": name} for info, name in copies])
        else:
            info, name = copies[0]
            job.receive_file(info.key, info.size, info.sha256, name)
        job.map(dry.plan)
        self.jobs.save(job)
        self.jobs.projector.catch_up()
        return job.id
