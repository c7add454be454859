"""The per-row results file (SPEC §8): `GET /v1/import-jobs/{jobId}/results` hands out a signed,
expiring URL; the URL serves JSON Lines, or CSV with `?format=csv` on the first request."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter

from lading.entrypoints.http.auth import EXCLUDE_FROM_AUTH, READ, requires
from lading.entrypoints.http.blob_responses import blob_download
from lading.entrypoints.http.envelope import Envelope, Wire, ok
from lading.entrypoints.http.errors import error_responses
from lading.entrypoints.http.services import Services, Svc, blocking
from lading.entrypoints.http.signed_urls import DOWNLOAD_TTL_SECONDS
from lading.entrypoints.http.transfers import Expires, Signature, Ws

RESULTS_DOWNLOAD_PATH = "/v1/downloads/{job_id}/results.{file_format}"
_MEDIA = {"jsonl": "application/jsonl", "csv": "text/csv"}
Format = Literal["jsonl", "csv"]


def _route(file_format: str) -> str:
    return RESULTS_DOWNLOAD_PATH.format(job_id="{job_id:uuid}", file_format=file_format)


class ResultsFileInfo(Wire):
    results_file_url: str
    expires_at: str


class JobResultsController(Controller):
    path = "/v1/import-jobs"
    tags = ["import jobs"]

    @get("/{job_id:uuid}/results", operation_id="getImportJobResults", guards=[requires(READ)],
         responses=error_responses(404, 409),
         summary="Where to download the per-row results file (a signed, expiring URL): one line"
                 " per source row, in source order, with its outcome, key and rejection code")
    async def results(self, request: Request, services: Svc, job_id: FromPath[UUID],
                      file_format: Annotated[Format, QueryParameter(
                          name="format", description="jsonl (JSON Lines) or csv")] = "jsonl",
                      ) -> Envelope[ResultsFileInfo]:
        workspace = request.user.workspace
        # Made now, so a job without results is refused here rather than at the download.
        await blocking(services.lading.results.results_blob, workspace, job_id, file_format)
        path = RESULTS_DOWNLOAD_PATH.format(job_id=job_id, file_format=file_format)
        signed = services.signer.sign("GET", path, workspace, DOWNLOAD_TTL_SECONDS)
        return ok(request, ResultsFileInfo(
            results_file_url=services.absolute(request, signed.path_and_query),
            expires_at=signed.expires_at))


class ResultsDownloadController(Controller):
    tags = ["signed URLs"]
    opt = {EXCLUDE_FROM_AUTH: True}

    @get(_route("jsonl"), operation_id="downloadResultsFile", media_type="application/jsonl",
         security=[{}], responses=error_responses(404, 409, keyed=False),
         summary="The per-row results file as JSON Lines")
    async def jsonl(self, services: Svc, job_id: FromPath[UUID], ws: Ws = None,
                    expires: Expires = None, signature: Signature = None) -> Response:
        return await _download(services, job_id, "jsonl", ws, expires, signature)

    @get(_route("csv"), operation_id="downloadResultsFileCsv", media_type="text/csv",
         security=[{}], responses=error_responses(404, 409, keyed=False),
         summary="The per-row results file as CSV (rowNumber,outcome,key,code)")
    async def csv(self, services: Svc, job_id: FromPath[UUID], ws: Ws = None,
                  expires: Expires = None, signature: Signature = None) -> Response:
        return await _download(services, job_id, "csv", ws, expires, signature)


async def _download(services: Services, job_id: UUID, file_format: str, ws: str | None,
                    expires: str | None, signature: str | None) -> Response:
    path = RESULTS_DOWNLOAD_PATH.format(job_id=job_id, file_format=file_format)
    workspace = services.signer.verify("GET", path, ws, expires, signature)
    key = await blocking(services.lading.results.results_blob, workspace, job_id, file_format)
    return await blob_download(services, key, f"{job_id}-results.{file_format}",
                               _MEDIA[file_format])
