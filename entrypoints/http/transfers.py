"""Signed URLs: the upload slot (PUT, streamed to the blob store) and the downloads (error
file, valid rows). They carry their own authority, so they need no API key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID, uuid4

from litestar import Controller, Request, Response, get, put
from litestar.exceptions import InternalServerException
from litestar.params import FromPath, QueryParameter

from lading.adapters.filesystem_blob_store import BlobTooLarge
from lading.application.errors import JobNotFound
from lading.domain.errors import TransitionNotAllowed
from lading.entrypoints.http.auth import EXCLUDE_FROM_AUTH
from lading.entrypoints.http.blob_responses import blob_download
from lading.entrypoints.http.envelope import Envelope, Wire, ok
from lading.entrypoints.http.errors import PayloadTooLarge, RequestInvalid, error_responses
from lading.entrypoints.http.jobs import (
    ERRORS_DOWNLOAD_PATH,
    UPLOAD_PATH,
    VALID_ROWS_DOWNLOAD_PATH,
    valid_rows_file,
)
from lading.entrypoints.http.services import Services, Svc, blocking

Ws = Annotated[str | None, QueryParameter(name="ws", description="The workspace the URL acts in")]
Expires = Annotated[str | None, QueryParameter(name="expires", description="Expiry, Unix seconds")]
Signature = Annotated[str | None, QueryParameter(name="signature", description="HMAC-SHA256, base64url")]


class UploadReceived(Wire):
    job_id: str
    state: str
    file_size: int
    file_sha256: str


async def guarded_stream(request: Request) -> AsyncIterator[bytes]:
    """The request body; a client that goes away mid-upload is a client error, not ours."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except InternalServerException as exc:
        raise RequestInvalid(f"the upload did not complete: {exc.detail}") from None


async def receive_body(services: Services, request: Request, workspace: str, job_id: UUID,
                       declared: int | None) -> tuple[str, int, str]:
    """Stream the body into a fresh blob under the job; return (key, size, sha256).

    Each upload gets its own key, so a file being replaced never overwrites the bytes a job
    already holds; the job points at the new key only once `file_received` accepts it.
    """
    length = request.headers.get("content-length")
    if length is not None and length.isdigit():
        if int(length) > services.max_file_size:
            raise PayloadTooLarge(f"the body is over the limit of {services.max_file_size} bytes")
        if declared is not None and int(length) != declared:
            raise RequestInvalid(f"Content-Length {length} differs from the declared fileSize {declared}")
    limit = min(declared, services.max_file_size) if declared is not None else services.max_file_size
    slot = await blocking(services.jobs.upload_slot, workspace, job_id)
    key = f"{slot}.{uuid4().hex}"
    try:
        info = await services.jobs.blobs.write_stream(key, guarded_stream(request), max_size=limit)
    except BlobTooLarge:
        if declared is not None and declared < services.max_file_size:
            raise RequestInvalid(f"the body is larger than the declared fileSize {declared}") from None
        raise PayloadTooLarge(f"the body is over the limit of {services.max_file_size} bytes") from None
    if declared is not None and info.size != declared:
        await blocking(services.jobs.blobs.delete_prefix, key)
        raise RequestInvalid(f"received {info.size} bytes but the declared fileSize is {declared}")
    return key, info.size, info.sha256


class TransfersController(Controller):
    tags = ["signed URLs"]
    opt = {EXCLUDE_FROM_AUTH: True}

    @put(UPLOAD_PATH.replace("{job_id}", "{job_id:uuid}"), operation_id="uploadFile",
         request_max_body_size=None, status_code=200, security=[{}],
         responses=error_responses(404, 409, 413, keyed=False),
         summary="Upload the job's file to its signed slot (streamed, never buffered whole)")
    async def upload(self, request: Request, services: Svc, job_id: FromPath[UUID], ws: Ws = None,
                     expires: Expires = None, signature: Signature = None) -> Envelope[UploadReceived]:
        path = UPLOAD_PATH.format(job_id=job_id)
        workspace = services.signer.verify("PUT", path, ws, expires, signature)
        jobs = services.jobs
        status = await blocking(jobs.status, workspace, job_id)
        if status["state"] not in ("pending", "ready") or status.get("inlineRows"):
            raise TransitionNotAllowed(status["state"], "upload a file to",
                                       "its source is frozen" if not status.get("inlineRows")
                                       else "it was created with inline rows")
        key, size, sha256 = await receive_body(services, request, workspace, job_id,
                                               status.get("fileSize"))
        try:
            await blocking(jobs.file_received, workspace, job_id, key, size, sha256)
        except BaseException:
            await blocking(jobs.blobs.delete_prefix, key)
            raise
        after = await blocking(jobs.status, workspace, job_id)
        return ok(request, UploadReceived(job_id=str(job_id), state=after["state"],
                                          file_size=size, file_sha256=sha256))

    @get(ERRORS_DOWNLOAD_PATH.replace("{job_id}", "{job_id:uuid}"), operation_id="downloadErrorFile",
         media_type="application/jsonl", security=[{}], responses=error_responses(404, keyed=False),
         summary="The error file: JSON Lines, one rejected row a line, in source order")
    async def error_file(self, services: Svc, job_id: FromPath[UUID], ws: Ws = None,
                         expires: Expires = None, signature: Signature = None) -> Response:
        path = ERRORS_DOWNLOAD_PATH.format(job_id=job_id)
        workspace = services.signer.verify("GET", path, ws, expires, signature)
        key = await blocking(services.jobs.error_blob_key, workspace, job_id)
        if key is None:
            raise JobNotFound(job_id)
        return await blob_download(services, key, f"{job_id}-errors.jsonl", "application/jsonl")

    @get(VALID_ROWS_DOWNLOAD_PATH.replace("{job_id}", "{job_id:uuid}"),
         operation_id="downloadValidRows", media_type="text/csv", security=[{}],
         responses=error_responses(404, keyed=False), summary="The valid rows of a completed job as CSV")
    async def valid_rows(self, services: Svc, job_id: FromPath[UUID], ws: Ws = None,
                         expires: Expires = None, signature: Signature = None) -> Response:
        path = VALID_ROWS_DOWNLOAD_PATH.format(job_id=job_id)
        workspace = services.signer.verify("GET", path, ws, expires, signature)
        return await valid_rows_file(services, workspace, job_id)

