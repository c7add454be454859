"""Signed URLs: the upload slot (PUT, streamed to the blob store) and the downloads (error
file, valid rows). They carry their own authority, so they need no API key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, Response, get, put
from litestar.exceptions import InternalServerException
from litestar.params import FromPath, QueryParameter

from lading.entrypoints.http.auth import EXCLUDE_FROM_AUTH
from lading.entrypoints.http.blob_responses import blob_download
from lading.entrypoints.http.envelope import Envelope, Wire, ok
from lading.entrypoints.http.errors import RequestInvalid, error_responses
from lading.entrypoints.http.jobs import (
    ERRORS_DOWNLOAD_PATH,
    FILE_UPLOAD_PATH,
    UPLOAD_PATH,
    VALID_ROWS_DOWNLOAD_PATH,
    valid_rows_file,
)
from lading.entrypoints.http.raw_bodies import FILE_MEDIA_TYPE, raw_body
from lading.entrypoints.http.services import Svc, blocking

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


def content_length(request: Request) -> int | None:
    length = request.headers.get("content-length")
    return int(length) if length is not None and length.isdigit() else None


class TransfersController(Controller):
    tags = ["signed URLs"]
    opt = {EXCLUDE_FROM_AUTH: True}

    @put(UPLOAD_PATH.replace("{job_id}", "{job_id:uuid}"), operation_id="uploadFile",
         request_max_body_size=None, status_code=200, security=[{}],
         responses=error_responses(404, 409, 413, 429, 507, keyed=False),
         operation_class=raw_body(FILE_MEDIA_TYPE, "The file itself (CSV, NDJSON or Parquet,"
                                                    " plain or .gz), streamed"),
         summary="Upload the job's file to its signed slot (streamed, never buffered whole)")
    async def upload(self, request: Request, services: Svc, job_id: FromPath[UUID], ws: Ws = None,
                     expires: Expires = None, signature: Signature = None) -> Envelope[UploadReceived]:
        path = UPLOAD_PATH.format(job_id=job_id)
        workspace = services.signer.verify("PUT", path, ws, expires, signature)
        info = await services.uploads.upload(workspace, job_id, guarded_stream(request),
                                             content_length(request))
        after = await blocking(services.jobs.status, workspace, job_id)
        return ok(request, UploadReceived(job_id=str(job_id), state=after["state"],
                                          file_size=info.size, file_sha256=info.sha256))

    @put(FILE_UPLOAD_PATH.replace("{job_id}", "{job_id:uuid}").replace("{number}", "{number:int}"),
         operation_id="uploadOneOfSeveralFiles", request_max_body_size=None, status_code=200,
         security=[{}], responses=error_responses(400, 404, 409, 413, 429, 507, keyed=False),
         operation_class=raw_body(FILE_MEDIA_TYPE, "This file itself (CSV, NDJSON or Parquet,"
                                                    " plain or .gz), streamed"),
         summary="Upload one file of a several-file job to its signed slot (streamed)")
    async def upload_file(self, request: Request, services: Svc, job_id: FromPath[UUID],
                          number: FromPath[int], ws: Ws = None, expires: Expires = None,
                          signature: Signature = None) -> Envelope[UploadReceived]:
        path = FILE_UPLOAD_PATH.format(job_id=job_id, number=number)
        workspace = services.signer.verify("PUT", path, ws, expires, signature)
        info = await services.uploads.upload_part(workspace, job_id, number - 1,
                                                  guarded_stream(request), content_length(request))
        after = await blocking(services.jobs.status, workspace, job_id)
        return ok(request, UploadReceived(job_id=str(job_id), state=after["state"],
                                          file_size=info.size, file_sha256=info.sha256))

    @get(ERRORS_DOWNLOAD_PATH.replace("{job_id}", "{job_id:uuid}"), operation_id="downloadErrorFile",
         media_type="application/jsonl", security=[{}], responses=error_responses(404, keyed=False),
         summary="The error file: JSON Lines, one rejected row a line, in source order")
    async def error_file(self, services: Svc, job_id: FromPath[UUID], ws: Ws = None,
                         expires: Expires = None, signature: Signature = None) -> Response:
        path = ERRORS_DOWNLOAD_PATH.format(job_id=job_id)
        workspace = services.signer.verify("GET", path, ws, expires, signature)
        key = await blocking(services.jobs.error_download_key, workspace, job_id)
        return await blob_download(services, key, f"{job_id}-errors.jsonl", "application/jsonl")

    @get(VALID_ROWS_DOWNLOAD_PATH.replace("{job_id}", "{job_id:uuid}"),
         operation_id="downloadValidRows", media_type="text/csv", security=[{}],
         responses=error_responses(404, keyed=False), summary="The valid rows of a completed job as CSV")
    async def valid_rows(self, services: Svc, job_id: FromPath[UUID], ws: Ws = None,
                         expires: Expires = None, signature: Signature = None) -> Response:
        path = VALID_ROWS_DOWNLOAD_PATH.format(job_id=job_id)
        workspace = services.signer.verify("GET", path, ws, expires, signature)
        return await valid_rows_file(services, workspace, job_id)

