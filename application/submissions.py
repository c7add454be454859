"""Submitting a whole file in one call: create, receive, map, then start (one-shot imports,
configuration pushes). The mapping is checked before anything is created, so a refused
mapping leaves no job behind."""

from __future__ import annotations

import hashlib
import os
from typing import IO, Any
from uuid import UUID, uuid4

from lading.application.import_jobs import ImportJobs
from lading.domain.plan import ImportPlan


def prepare_file_job(jobs: ImportJobs, workspace: str, object_name: str, file: IO[bytes],
                     file_name: str, mapping: dict[str, Any], *, source: str | None = None,
                     labels: list[str] | None = None,
                     idempotency_key: str | None = None) -> tuple[UUID, bool]:
    """Create a job holding `file` (read from its current position) and mapped: `ready` to start.

    Returns (job id, created); an idempotent replay returns the existing job untouched.
    """
    ImportPlan.from_dict(mapping, jobs.schema_of(workspace, object_name))
    size = _remaining(file)
    job_id, created = jobs.create_job(workspace, object_name, file_name, size, source=source,
                                      labels=labels, idempotency_key=idempotency_key)
    if not created:
        return job_id, False
    key = f"{jobs.upload_slot(workspace, job_id)}.{uuid4().hex}"
    digest = hashlib.sha256()
    written = 0
    with jobs.blobs.writer(key) as out:
        while block := file.read(1 << 20):
            digest.update(block)
            written += len(block)
            out.write(block)
    jobs.file_received(workspace, job_id, key, written, digest.hexdigest(), file_name)
    jobs.map(workspace, job_id, mapping)
    return job_id, True


def _remaining(file: IO[bytes]) -> int | None:
    try:
        here = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(here)
        return end - here
    except (OSError, ValueError):
        return None
