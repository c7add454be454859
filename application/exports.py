"""A job's rows as CSV: what `lading jobs export` prints and the download routes serve (the
valid rows, the annotated source rows and the error file as CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import IO
from uuid import UUID

from lading.application.import_jobs import ImportJobs
from lading.application.ports import BlobStore, PresignedRequest, ValidationEngine
from lading.domain.errors import TransitionNotAllowed
from lading.domain.import_job import ImportJob
from lading.domain.lifecycle import JobState



class Exports:
    def __init__(self, jobs: ImportJobs, engine: ValidationEngine, blobs: BlobStore) -> None:
        self.jobs = jobs
        self.engine = engine
        self.blobs = blobs

    def export_valid_rows(self, workspace: str, job_id: UUID, out: IO[bytes]) -> int:
        """Write the job's valid rows (header = the object's fields) to `out`; return rows written."""
        self.jobs.check_files_kept(workspace, job_id)
        chunks = [str(p) for p in self.jobs.staged_chunks(workspace, job_id)]
        return self.engine.write_valid_rows_csv(chunks, out)

    def export_annotated(self, workspace: str, job_id: UUID, out: IO[bytes],
                         rejected_only: bool = False) -> int:
        """Write the job's source rows as read, each with `_status` and `_errors` (or only the
        rejected rows with `_errors`); return rows written."""
        self.jobs.check_files_kept(workspace, job_id)
        job = self.jobs.load(job_id, workspace)
        if not job.rows_validated:
            raise TransitionNotAllowed(job.state, "export_rows", "its rows are not all validated yet")
        error_file = self.jobs.error_file(workspace, job_id)
        sources = [] if rejected_only else self.jobs.sources(job)
        work = self.jobs.files(job).work_dir / "annotated"
        work.mkdir(parents=True, exist_ok=True)
        return self.engine.write_annotated_csv(sources, error_file, out, work, rejected_only)

    def annotated_ready(self, workspace: str, job_id: UUID) -> bool:
        """Whether export_annotated can give every row its outcome now."""
        return self.jobs.load(job_id, workspace).rows_validated

    def valid_rows_blob(self, workspace: str, job_id: UUID) -> str:
        """The blob key of the valid rows CSV, made once per plan version and kept.

        An unfinished job's rows are still being staged, so its file is keyed by how many
        chunks it holds: concurrent requests share one copy instead of each building their own.
        """
        self.jobs.check_files_kept(workspace, job_id)
        job = self.jobs.load(job_id, workspace)
        chunks = self.jobs.staged_chunks(workspace, job_id)
        key = self.jobs.files(job).valid_rows_export
        if job.state != JobState.COMPLETED:
            key = f"{key}.partial-{len(chunks)}"
        if not self.blobs.exists(key):
            with self.blobs.writer(key) as out:
                self.engine.write_valid_rows_csv([str(p) for p in chunks], out)
        return key

    def annotated_blob(self, workspace: str, job_id: UUID) -> str:
        """The blob key of the annotated CSV (every source row, `_status`, `_errors`), made once
        per plan version once validation has ended."""
        job = self._validated(workspace, job_id, "export the annotated rows of")
        key = self.jobs.files(job).annotated_export
        if not self.blobs.exists(key):
            with self.blobs.writer(key) as out:
                self.export_annotated(workspace, job_id, out)
        return key

    def error_csv_blob(self, workspace: str, job_id: UUID) -> str:
        """The blob key of the error file as CSV, made once per plan version."""
        job = self._validated(workspace, job_id, "export the rejected rows of")
        key = self.jobs.files(job).error_csv_export
        if not self.blobs.exists(key):
            with self.blobs.writer(key) as out:
                self.engine.write_error_csv(self.jobs.error_file(workspace, job_id), out)
        return key

    def export_errors(self, workspace: str, job_id: UUID, out: IO[bytes]) -> int:
        """Write the error file as CSV to `out`; return rows written."""
        self.jobs.check_files_kept(workspace, job_id)
        return self.engine.write_error_csv(self.jobs.error_file(workspace, job_id), out)

    def _validated(self, workspace: str, job_id: UUID, command: str) -> ImportJob:
        self.jobs.check_files_kept(workspace, job_id)
        job = self.jobs.load(job_id, workspace)
        # Before validation has ended (or when it never could) the error file is not final.
        if not job.source_validated:
            raise TransitionNotAllowed(str(job.state), command, "validation has not ended")
        return job

    def download(self, key: str, ttl_seconds: int, file_name: str,
                 media_type: str) -> PresignedRequest | Path:
        """A blob for a client: a presigned GET where the store can make one, else a local file."""
        presigned = self.blobs.presign_get(key, ttl_seconds, file_name, media_type)
        return presigned if presigned is not None else self.blobs.local_path(key)

    def valid_rows_file(self, workspace: str, job_id: UUID) -> Path:
        """A local file of the valid rows (see valid_rows_blob)."""
        return self.blobs.local_path(self.valid_rows_blob(workspace, job_id))
