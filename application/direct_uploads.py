"""Uploads straight to the blob store (S3 presigned PUTs): the API never carries the bytes, so
the client says when its PUT finished and the job then takes the object as its source."""

from __future__ import annotations

from uuid import UUID

from lading.application.errors import PayloadTooLarge
from lading.application.import_jobs import ImportJobs
from lading.domain.errors import DomainError, TransitionNotAllowed

DIRECT_UPLOAD_SUFFIX = ".direct"


class UploadNotReceived(DomainError):
    code = "STATE.CONFLICT"


def direct_upload_key(jobs: ImportJobs, workspace: str, job_id: UUID) -> str:
    """The one key a job's presigned upload writes to (write-once: the store refuses a second
    PUT to it, so the bytes a job took are never replaced under it)."""
    return jobs.upload_slot(workspace, job_id) + DIRECT_UPLOAD_SUFFIX


def complete_direct_upload(jobs: ImportJobs, workspace: str, job_id: UUID, max_file_size: int) -> int:
    """Take the uploaded object as the job's source; return its size.

    A wrong-sized object is deleted (so the same upload URL can be used again) and refused.
    """
    status = jobs.status(workspace, job_id)
    if status.get("inlineRows"):
        raise TransitionNotAllowed(status["state"], "upload a file to", "it was created with inline rows")
    key = direct_upload_key(jobs, workspace, job_id)
    size = jobs.blobs.size(key)
    if size is None:
        raise UploadNotReceived("no upload has arrived at this job's upload URL yet; PUT the file first")
    declared = status.get("fileSize")
    if size > max_file_size:
        jobs.blobs.delete_prefix(key)
        raise PayloadTooLarge(f"the upload is over the limit of {max_file_size} bytes")
    if declared is not None and size != declared:
        jobs.blobs.delete_prefix(key)
        raise DomainError(f"received {size} bytes but the declared fileSize is {declared};"
                          " upload the file again")
    # The SHA-256 is unknown: computing it would mean reading the whole object here.
    jobs.file_received(workspace, job_id, key, size, None)  # type: ignore[arg-type]
    return size


def take_object(jobs: ImportJobs, workspace: str, job_id: UUID, url: str) -> int:
    """Take the object at `url` as the job's source (copied inside the store, so no node
    carries the bytes); return its size. On any refusal the job is discarded with its blobs."""
    try:
        return jobs.copy_object_in(workspace, job_id, url)
    except Exception:
        jobs.delete(workspace, job_id)
        raise
