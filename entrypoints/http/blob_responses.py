"""A blob as an HTTP answer: a redirect to a presigned GET when the store has one (S3: the
bytes never pass through the API), else the file itself."""

from __future__ import annotations

from litestar import Response
from litestar.response import File, Redirect

from lading.entrypoints.http.services import Services, blocking
from lading.entrypoints.http.signed_urls import DOWNLOAD_TTL_SECONDS


async def blob_download(services: Services, key: str, file_name: str, media_type: str) -> Response:
    blobs = services.jobs.blobs
    presigned = blobs.presign_get(key, DOWNLOAD_TTL_SECONDS, file_name, media_type)
    if presigned is not None:
        return Redirect(presigned.url, status_code=307, media_type="text/plain")
    path = await blocking(blobs.local_path, key)
    return File(path=path, filename=file_name, media_type=media_type)
