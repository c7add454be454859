"""A blob as an HTTP answer: a redirect to a presigned GET when the store has one (S3: the
bytes never pass through the API), else the file itself."""

from __future__ import annotations

from litestar import Response
from litestar.response import File, Redirect

from lading.application.ports import PresignedRequest
from lading.entrypoints.http.services import Services, blocking
from lading.entrypoints.http.signed_urls import DOWNLOAD_TTL_SECONDS


async def blob_download(services: Services, key: str, file_name: str, media_type: str) -> Response:
    found = await blocking(services.exports.download, key, DOWNLOAD_TTL_SECONDS, file_name, media_type)
    if isinstance(found, PresignedRequest):
        return Redirect(found.url, status_code=307, media_type="text/plain")
    return File(path=found, filename=file_name, media_type=media_type)
