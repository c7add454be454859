"""`POST /v1/import-jobs/{jobId}/upload-complete`: after a PUT straight to the object store's
presigned URL, the client tells the job its file is there (ADR 0051)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, post
from litestar.params import FromPath

from lading.entrypoints.http.auth import WRITE, requires
from lading.entrypoints.http.envelope import Envelope, Wire, ok
from lading.entrypoints.http.errors import error_responses
from lading.entrypoints.http.services import Svc, blocking


class UploadCompleted(Wire):
    job_id: str
    state: str
    file_size: int


class DirectUploadsController(Controller):
    path = "/v1/import-jobs"
    tags = ["import jobs"]

    @post("/{job_id:uuid}/upload-complete", operation_id="completeDirectUpload",
          guards=[requires(WRITE)], status_code=200, responses=error_responses(404, 409, 413),
          summary="Tell the job its file was PUT to the presigned upload URL (object storage)")
    async def upload_complete(self, request: Request, services: Svc,
                              job_id: FromPath[UUID]) -> Envelope[UploadCompleted]:
        workspace = request.user.workspace
        size = await blocking(services.uploads.complete_direct_upload, workspace, job_id)
        status = await blocking(services.jobs.status, workspace, job_id)
        return ok(request, UploadCompleted(job_id=str(job_id), state=status["state"], file_size=size))
