"""/v1/import-jobs/{jobId}/apply and …/revert: a dry run made real, a completed job undone (SPEC §8)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, Response, post
from litestar.params import FromPath, JSONBody

from lading.application.status_view import public_status
from lading.entrypoints.http.auth import WRITE, requires
from lading.entrypoints.http.envelope import Envelope, ok
from lading.entrypoints.http.errors import error_responses
from lading.entrypoints.http.schemas import JobStatus, RevertRequest
from lading.entrypoints.http.services import Svc, blocking


class UndoController(Controller):
    path = "/v1/import-jobs"
    tags = ["import jobs"]

    @post("/{job_id:uuid}/apply", operation_id="applyDryRun", guards=[requires(WRITE)],
          status_code=201, responses=error_responses(404, 409),
          summary="Start the real run of a completed dry run: a new job with its source and plan"
                  " (its dryRunOf names the dry run)")
    async def apply(self, request: Request, services: Svc,
                    job_id: FromPath[UUID]) -> Response[Envelope[JobStatus]]:
        workspace = request.user.workspace
        new_id = await blocking(services.lading.dry_runs.apply, workspace, job_id)
        status = public_status(await blocking(services.jobs.status, workspace, new_id))
        return Response(ok(request, status), status_code=201)

    @post("/{job_id:uuid}/revert", operation_id="revertImportJob", guards=[requires(WRITE)],
          status_code=202, responses=error_responses(404, 409),
          summary="Undo a completed job from its before-images (queued; 409 REVERT.CONFLICT"
                  " lists rows later jobs changed, unless force)")
    async def revert(self, request: Request, services: Svc, job_id: FromPath[UUID],
                     data: JSONBody[RevertRequest | None] = None) -> Response[Envelope[JobStatus]]:
        workspace = request.user.workspace
        await blocking(services.lading.reverts.revert, workspace, job_id,
                       data is not None and data.force)
        status = public_status(await blocking(services.jobs.status, workspace, job_id))
        return Response(ok(request, status), status_code=202)
