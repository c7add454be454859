"""One-shot imports: a whole file in one request (multipart), or pushed to a saved import
configuration; both end with the job queued."""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, post
from litestar.params import FromPath, HeaderParameter, MultipartBody, QueryParameter

from lading.application.errors import LimitExceeded
from lading.application.status_view import public_status
from lading.entrypoints.http.auth import WRITE, Identity, requires
from lading.entrypoints.http.envelope import Envelope, ok, replayed
from lading.entrypoints.http.errors import RequestInvalid, error_responses
from lading.entrypoints.http.raw_bodies import FILE_MEDIA_TYPE, raw_body
from lading.entrypoints.http.schemas import JobStatus, OneShotForm
from lading.entrypoints.http.services import Services, Svc, blocking
from lading.entrypoints.http.transfers import content_length, guarded_stream

MULTIPART_SLACK = 1024 * 1024  # room for the form's other fields and boundaries


async def start_or_explain(services: Services, workspace: str, job_id: UUID) -> dict[str, Any]:
    """Start a prepared job; a refusal names the job, which stays `ready` to start later."""
    try:
        await blocking(services.jobs.start, workspace, job_id)
    except LimitExceeded as exc:
        exc.details = {"jobId": str(job_id), "state": "ready"}  # type: ignore[attr-defined]
        raise
    return public_status(await blocking(services.jobs.status, workspace, job_id))


def _form_mapping(form: OneShotForm) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    if form.field_map is not None:
        try:
            field_map = json.loads(form.field_map)
        except ValueError:
            raise RequestInvalid("fieldMap must be a JSON object (source column -> field)") from None
        if not isinstance(field_map, dict):
            raise RequestInvalid("fieldMap must be a JSON object (source column -> field)")
        mapping["fieldMap"] = field_map
    for key, value in (("importMode", form.import_mode), ("operation", form.operation)):
        if value is not None:
            mapping[key] = value
    if form.review_policy is not None:
        policy: Any = form.review_policy
        if policy.lstrip().startswith("{"):
            try:
                policy = json.loads(policy)
            except ValueError:
                raise RequestInvalid("reviewPolicy is not valid JSON") from None
        mapping["reviewPolicy"] = policy
    return mapping


class ImportsController(Controller):
    tags = ["one-shot imports"]

    @post("/v1/imports", operation_id="createImport", guards=[requires(WRITE)], status_code=201,
          responses={**error_responses(404, 409, 413, 422, 507), **replayed(Envelope[JobStatus])},
          summary="Upload a file (or several, read in order as one source) with objectName or"
                  " configurationId: created, mapped, started")
    async def one_shot(
        self, request: Request, services: Svc,
        data: MultipartBody[OneShotForm],
        idempotency_header: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
    ) -> Response[Envelope[JobStatus]]:
        identity: Identity = request.user
        workspace = identity.workspace
        mapping = _form_mapping(data)
        source = data.source or "api"
        labels: list[str] | None = None
        if data.configuration_id:
            if data.object_name:
                raise RequestInvalid("give objectName or configurationId, not both")
            config = await blocking(services.library.configuration, workspace, data.configuration_id)
            object_name = config.object_name
            mapping = {**config.mapping, **mapping}
            source = data.source or config.source or "api"
            labels = config.labels or None
        elif data.object_name:
            object_name = data.object_name
        else:
            raise RequestInvalid("objectName or configurationId is required")
        options = {"source": source, "labels": labels, "start": False,
                   "idempotency_key": idempotency_header or data.idempotency_key}
        try:
            if len(data.file) == 1:
                upload = data.file[0]
                job_id, created = await blocking(
                    services.jobs.submit_file, workspace, object_name, upload.file,
                    upload.filename or "upload", mapping, **options)
            else:
                parts = [(u.filename or f"upload-{i}", u.file) for i, u in enumerate(data.file, 1)]
                job_id, created = await blocking(services.jobs.submit_streams, workspace,
                                                 object_name, parts, mapping, **options)
        finally:
            for upload in data.file:
                await upload.close()
        if not created:
            status = public_status(await blocking(services.jobs.status, workspace, job_id))
            return Response(ok(request, status), status_code=200)
        return Response(ok(request, await start_or_explain(services, workspace, job_id)),
                        status_code=201)

    @post("/v1/import-configurations/{configuration_id:str}/push", operation_id="pushToConfiguration",
          guards=[requires(WRITE)], status_code=201, request_max_body_size=None,
          responses=error_responses(404, 409, 413, 422, 507),
          operation_class=raw_body(FILE_MEDIA_TYPE, "The file itself (CSV, NDJSON or Parquet,"
                                                     " plain or .gz), streamed"),
          summary="Push a file's bytes (the request body) to an import configuration")
    async def push(
        self, request: Request, services: Svc, configuration_id: FromPath[str],
        file_name: Annotated[str | None, QueryParameter(name="fileName", max_length=200)] = None,
    ) -> Response[Envelope[JobStatus]]:
        workspace = request.user.workspace
        config = await blocking(services.library.configuration, workspace, configuration_id)
        job_id = await services.uploads.push(
            workspace, config.object_name, config.mapping, guarded_stream(request),
            content_length(request), file_name or "pushed-file",
            source=config.source or "push", labels=config.labels or None)
        return Response(ok(request, await start_or_explain(services, workspace, job_id)),
                        status_code=201)

    @post("/v1/import-configurations/{configuration_id:str}/trigger",
          operation_id="triggerConfiguration", guards=[requires(WRITE)], status_code=201,
          responses=error_responses(404, 409, 422),
          summary="Import the configuration's sourceUrl as it is now: created, mapped, started")
    async def trigger(self, request: Request, services: Svc,
                      configuration_id: FromPath[str]) -> Response[Envelope[JobStatus]]:
        workspace = request.user.workspace
        job_id = await blocking(services.library.trigger, workspace, configuration_id, start=False)
        return Response(ok(request, await start_or_explain(services, workspace, job_id)),
                        status_code=201)
