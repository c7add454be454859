"""The per-row results file (SPEC §8): what happened to each source row, in source order.

Each chunk's part is a blob written *inside* that chunk's merge transaction, just before it
commits (DestinationStore.merge_chunk's `on_outcomes`), under a name fixed by the chunk. The
ledger makes the merge happen once; the part follows it: a process killed before the commit
leaves at most a part that the redone merge overwrites, and one killed after it leaves the
part already written, which the resumed run never writes again (the merge is skipped). Chunks
without valid rows merge nothing; their parts depend on validation alone and are written
before merging starts. The whole file is assembled from the parts once the job has completed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO
from uuid import UUID

from lading.application.errors import JobNotFound, NotFound
from lading.application.import_jobs import ImportJobs
from lading.application.ports import BlobStore, RowOutcomesSink, ValidationEngine
from lading.application.staged_copies import chunk_inputs
from lading.domain.errors import DomainError
from lading.domain.import_job import ImportJob
from lading.domain.lifecycle import JobState
from lading.domain.table_schema import TableSchema

FORMATS = ("jsonl", "csv")


class ResultsNotReady(DomainError):
    code = "STATE.CONFLICT"


class ResultsMissing(NotFound):
    """A completed job whose parts are gone (purged) or never were (run before results)."""


class RowResults:
    def __init__(self, jobs: ImportJobs, engine: ValidationEngine, blobs: BlobStore) -> None:
        self.jobs = jobs
        self.engine = engine
        self.blobs = blobs

    # -- written while a job runs (JobRunner) ---------------------------------------------

    def part_writer(self, job: ImportJob, schema: TableSchema, chunk: int,
                    row_index: Path | None = None,
                    staged: Path | None = None) -> RowOutcomesSink:
        """What the chunk's merge calls, inside its transaction, with the rows' outcomes;
        from its row index and staged rows (`row_index` and `staged` where they are not
        this process's job files: a split job's stored parts, ADR 0055)."""
        files = self.jobs.files(job)
        index, rows = (row_index, staged) if row_index is not None \
            else chunk_inputs(self.blobs, files, chunk)

        def write(outcomes: list[str]) -> None:
            if not index.exists():
                # Validated before row indexes were written (a run resumed across an upgrade):
                # the merge goes on, and the job has no results file (ResultsMissing).
                return
            with self.blobs.writer(files.results_part(chunk)) as out:
                self.engine.write_results_part(str(index), str(rows) if rows else None,
                                               schema.primary_key, outcomes, out)
        return write

    def write_unmerged_parts(self, job: ImportJob, schema: TableSchema,
                             row_index: Callable[[int], Path] | None = None) -> None:
        """The parts of chunks without valid rows (only rejected ones, or none at all);
        their row indexes at `row_index(chunk)` where not among this process's job files."""
        files = self.jobs.files(job)
        index_of = row_index or (lambda chunk: chunk_inputs(self.blobs, files, chunk)[0])
        merged = set(job.chunks_with_rows)
        for chunk in range(job.total_chunks or 0):
            key = files.results_part(chunk)
            if chunk in merged or self.blobs.exists(key):
                continue
            index = index_of(chunk)
            if not index.exists() and job.read_rows:
                continue  # validated before row indexes were written (see part_writer)
            with self.blobs.writer(key) as out:
                # Only a source without rows has a chunk that read none, and no index.
                self.engine.write_results_part(str(index) if index.exists() else None, None,
                                               schema.primary_key, [], out)

    # -- reads ----------------------------------------------------------------------------

    def ready(self, workspace: str, job_id: UUID) -> bool:
        """Whether the job has a results file to hand out: completed, with every chunk's part."""
        job = self.jobs.load(job_id, workspace)
        if job.is_deleted or job.state != JobState.COMPLETED:
            return False
        files = self.jobs.files(job)
        return all(self.blobs.exists(files.results_part(c)) for c in range(job.total_chunks or 0))

    def results_blob(self, workspace: str, job_id: UUID, file_format: str = "jsonl") -> str:
        """The blob key of the whole results file in `file_format`, assembled once and kept."""
        if file_format not in FORMATS:
            raise DomainError(f"format must be one of {', '.join(FORMATS)}, not '{file_format}'")
        job = self._completed(workspace, job_id)
        files = self.jobs.files(job)
        key = files.results_file(file_format)
        if self.blobs.exists(key):
            return key
        if file_format == "csv":
            lines = self.blobs.local_path(self.results_blob(workspace, job_id, "jsonl"))
            with self.blobs.writer(key) as out, open(lines, "rb") as source:
                self.engine.write_results_csv(source, out)
            return key
        parts = [files.results_part(c) for c in range(job.total_chunks or 0)]
        if not all(self.blobs.exists(p) for p in parts):
            raise ResultsMissing(f"job {job_id} has no per-row results file (its files were"
                                 " purged, or it ran before results were recorded)")
        with self.blobs.writer(key) as out:
            for part in parts:
                with open(self.blobs.local_path(part), "rb") as source:
                    shutil.copyfileobj(source, out, 1 << 20)
        return key

    def write_results(self, workspace: str, job_id: UUID, out: IO[bytes],
                      file_format: str = "jsonl") -> None:
        """Copy the results file to `out` (what `lading jobs results` prints)."""
        path = self.blobs.local_path(self.results_blob(workspace, job_id, file_format))
        with open(path, "rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)

    def _completed(self, workspace: str, job_id: UUID) -> ImportJob:
        job = self.jobs.load(job_id, workspace)
        if job.is_deleted:
            raise JobNotFound(job_id)
        if job.state != JobState.COMPLETED:
            raise ResultsNotReady(f"the results file is ready once the job has completed;"
                                  f" it is {job.state}")
        return job
