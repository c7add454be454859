"""Importing a file found in a watched directory, safely repeatable after a crash (ADR 0085).

The job is keyed by the file's content: its idempotency key is the configuration's id and the
file's SHA-256, so a watcher killed at any point and restarted finds the job it had made and
takes it on from where it stopped (an interrupted submission is completed, an interrupted run
resumed), instead of importing the same file again as a second job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from lading.application.import_jobs import ImportJobs
from lading.application.job_runner import JobRunner
from lading.application.saved_mappings import MappingLibrary
from lading.application.status_view import public_status
from lading.domain.lifecycle import JobState


@dataclass(frozen=True)
class WatchedImport:
    job_id: UUID
    status: dict[str, Any]  # the public status once the job went as far as it goes
    settled: bool  # completed or waiting at needs_attention: the file was taken


def watch_key(configuration_id: str, sha256: str) -> str:
    return f"watch/{configuration_id}/{sha256}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class WatchedFiles:
    def __init__(self, jobs: ImportJobs, library: MappingLibrary, runner: JobRunner) -> None:
        self.jobs = jobs
        self.library = library
        self.runner = runner

    def import_file(self, workspace: str, configuration_id: str, path: Path, *,
                    sha256: str | None = None,
                    on_job: Callable[[UUID, str], None] = lambda job_id, sha256: None) -> WatchedImport:
        """Import `path` with the configuration, or resume the job already made for its bytes.

        `sha256` is the file's digest when the caller knows it (from its marker); `on_job` is
        told the job and digest as soon as the job exists, before it runs."""
        config = self.library.configuration(workspace, configuration_id)
        digest = sha256 or file_sha256(path)
        mapping = dict(config.mapping)
        job_id, created = self.jobs.submit_path(
            workspace, config.object_name, path, mapping, source=config.source or "watcher",
            labels=config.labels, idempotency_key=watch_key(config.id, digest))
        if not created:
            self._finish_submission(workspace, job_id, path, mapping)
        on_job(job_id, digest)
        self.runner.process(job_id)
        return WatchedImport(job_id, public_status(self.jobs.status(workspace, job_id)),
                             self.jobs.file_accepted(workspace, job_id))

    def _finish_submission(self, workspace: str, job_id: UUID, path: Path,
                           mapping: dict[str, Any]) -> None:
        """A process killed while submitting left the job pending or ready: give it what it
        lacks and start it; one that failed for a reason is discarded, as a submission is."""
        job = self.jobs.load(job_id, workspace)
        if job.state not in (JobState.PENDING, JobState.READY):
            return
        try:
            if job.file is None:
                self.jobs.attach_file(workspace, job_id, path)
            if job.plan is None:
                self.jobs.map(workspace, job_id, mapping)
            self.jobs.start(workspace, job_id)
        except Exception:
            self.jobs.delete(workspace, job_id)
            raise
