"""Experiture import jobs (SPEC §9.1): the native flow under /compat/experiture/public/v1 in
002's words: create, upload to the signed slot, mapping, start, status, list, cancel, approve,
error file."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.response import File

from lading.application.errors import JobNotFound
from lading.application.projections import JobFilter
from lading.entrypoints.http.auth import EXCLUDE_FROM_AUTH, READ, WRITE, Identity, requires
from lading.entrypoints.http.compat.common import (
    BEARER,
    CDP_SCOPES,
    CompatApi,
    Failure,
    StatusWords,
)
from lading.entrypoints.http.cursors import page_of
from lading.entrypoints.http.envelope import Envelope, ErrorBody, ErrorEnvelope, Wire, ok, replayed
from lading.entrypoints.http.error_codes import STATUS_FOR_CODE
from lading.entrypoints.http.errors import RequestInvalid
from lading.entrypoints.http.jobs import check_create_request, job_cursor, parse_job_cursor
from lading.entrypoints.http.raw_bodies import FILE_MEDIA_TYPE, raw_body
from lading.entrypoints.http.schemas import Approval, CreateJob, MappingRequest
from lading.entrypoints.http.services import Services, Svc, blocking
from lading.entrypoints.http.signed_urls import DOWNLOAD_TTL_SECONDS, UPLOAD_TTL_SECONDS
from lading.entrypoints.http.transfers import (
    Expires,
    Signature,
    UploadReceived,
    Ws,
    content_length,
    guarded_stream,
)

PREFIX = "/compat/experiture"
JOBS = "/public/v1/import-jobs"
UPLOAD = "/public/v1/uploads/{job_id}"
ERRORS_DOWNLOAD = "/public/v1/downloads/{job_id}/errors.jsonl"

# 002's job states: queued and needs_attention are still "running" to its clients.
STATES = StatusWords({
    "pending": "pending", "ready": "ready", "queued": "running", "running": "running",
    "needs_attention": "running", "completed": "completed", "reverting": "completed", "reverted": "completed",
    "failed": "failed", "cancelled": "failed",
})
# 002's stage: `upload` until the job starts running, then `validate` and `merge`.
STAGES = StatusWords(
    {"pending": "upload", "ready": "upload", "queued": "upload", "running": "validate",
     "needs_attention": "validate", "completed": "merge", "reverting": "merge", "reverted": "merge",
     "failed": "validate", "cancelled": "upload"},
    by_stage={("running", "merging"): "merge", ("running", "finalizing"): "merge"},
)


ExperitureStateWord = Literal["pending", "ready", "running", "completed", "failed"]


class ExperitureCreatedJob(Wire):
    job_id: str
    upload_url: str | None
    expires_at: str | None
    landing_path: str | None
    method: Literal["PUT"] | None
    headers: dict[str, str]
    requested_by: str


class ExperitureMappingAccepted(Wire):
    ok: bool


class ExperitureStarted(Wire):
    status: Literal["started"]
    job_id: str
    lane: Literal["standard"]
    message: str


class ExperitureJobStatus(Wire):
    job_id: str
    object_name: str
    file_name: str | None
    file_size: int | None
    state: ExperitureStateWord
    stage: Literal["upload", "validate", "merge"]
    read_rows: int
    valid_rows: int
    invalid_rows: int
    error_summary: dict[str, int] | None
    merged_inserts: int
    merged_updates: int  # 002 has no unchanged count: Lading's mergedUnchanged is in here
    merged_deletes: int
    rows_total: int
    rows_imported: int
    rows_rejected: int
    success_rate: float
    error_message: str | None
    error_code: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None


class ExperitureJobPage(Wire):
    items: list[ExperitureJobStatus]
    next_cursor: str | None


class ExperitureErrorFile(Wire, omit_defaults=True):
    has_errors: bool
    error_file_url: str | None = None
    expires_at: str | None = None
    error_count: int | None = None


def job_status(doc: dict[str, Any]) -> ExperitureJobStatus:
    state = doc["state"]
    error_message = doc.get("errorMessage")
    if state == "cancelled" and not error_message:
        error_message = "the job was cancelled"
    return ExperitureJobStatus(
        job_id=doc["jobId"], object_name=doc["objectName"], file_name=doc.get("fileName"),
        file_size=doc.get("fileSize"), state=STATES.word(state, doc.get("stage")),  # type: ignore[arg-type]
        stage=STAGES.word(state, doc.get("stage")),  # type: ignore[arg-type]
        read_rows=doc["readRows"], valid_rows=doc["validRows"], invalid_rows=doc["invalidRows"],
        error_summary=doc.get("errorSummary"), merged_inserts=doc["mergedInserts"],
        merged_updates=doc["mergedUpdates"] + doc.get("mergedUnchanged", 0),
        merged_deletes=doc["mergedDeletes"], rows_total=doc["rowsTotal"],
        rows_imported=doc["rowsImported"], rows_rejected=doc["rowsRejected"],
        success_rate=doc["successRate"], error_message=error_message,
        error_code=doc.get("errorCode"), created_at=doc["createdAt"],
        started_at=doc.get("startedAt"), finished_at=doc.get("finishedAt"),
    )


# 002's codes: Lading's, each prefixed CDP_ETL.
ExperitureErrorCode = Literal[tuple(f"CDP_ETL.{code}" for code in STATUS_FOR_CODE)]  # type: ignore[valid-type]


class ExperitureErrorBody(ErrorBody):
    code: ExperitureErrorCode


class ExperitureErrorEnvelope(ErrorEnvelope, kw_only=True):
    error: ExperitureErrorBody


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    wanted = sorted({400, 401, 403, 429, *statuses})
    return {s: ResponseSpec(data_container=ExperitureErrorEnvelope, generate_examples=False,
                            description=f"CDP_ETL.* error ({s})")
            for s in wanted}


class ImportJobs(Controller):
    path = JOBS

    @post("/", operation_id="experitureCreateImportJob", guards=[requires(WRITE)], status_code=201,
          responses={**_errors(404, 409, 413), **replayed(Envelope[ExperitureCreatedJob])}, summary="Create an import job (a signed upload slot)")
    async def create(
        self, request: Request, services: Svc, data: JSONBody[CreateJob],
        idempotency_header: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
    ) -> Response[Envelope[ExperitureCreatedJob]]:
        identity: Identity = request.user
        check_create_request(data, idempotency_header)
        if data.files is not None:
            raise RequestInvalid("files is not part of this API: give fileName and fileSize")
        job_id, created = await blocking(
            services.jobs.create_job, identity.workspace, data.object_name, data.file_name,
            data.file_size, source=data.source or "experiture", labels=data.labels,
            idempotency_key=idempotency_header or data.idempotency_key, rows=data.rows,
            list_name=data.list_name, target_list_id=data.target_list_id,
            callback_url=data.callback_url, concurrency_scope=data.concurrency_scope,
            audience_name=data.audience_name, auto_profile=data.auto_profile_after_import,
        )
        body = await _created_job(services, request, identity, job_id)
        return Response(ok(request, body), status_code=201 if created else 200)

    @post("/{job_id:uuid}/mapping", operation_id="experitureMapImportJob", guards=[requires(WRITE)],
          status_code=200, responses=_errors(404, 409, 422), summary="Set the mapping")
    async def map_job(self, request: Request, services: Svc, job_id: FromPath[UUID],
                      data: JSONBody[MappingRequest]) -> Envelope[ExperitureMappingAccepted]:
        workspace = request.user.workspace
        status = await blocking(services.jobs.status, workspace, job_id)
        given = {"sourceFields": data.source_fields, "fieldMap": data.field_map,
                 "importMode": data.import_mode, "operation": data.operation,
                 "reviewPolicy": data.review_policy}
        mapping = await blocking(services.library.resolve, workspace, status["objectName"], given,
                                 data.template_id)
        await blocking(services.jobs.map, workspace, job_id, mapping)
        return ok(request, ExperitureMappingAccepted(ok=True))

    @post("/{job_id:uuid}/start", operation_id="experitureStartImportJob", guards=[requires(WRITE)],
          status_code=200, responses=_errors(404, 409), summary="Queue the job")
    async def start(self, request: Request, services: Svc, job_id: FromPath[UUID]) -> Envelope[ExperitureStarted]:
        await blocking(services.jobs.start, request.user.workspace, job_id)
        return ok(request, ExperitureStarted(status="started", job_id=str(job_id), lane="standard",
                                   message="Job queued for processing"))

    @get("/{job_id:uuid}", operation_id="experitureGetImportJob", guards=[requires(READ)],
         responses=_errors(404), summary="A job's status in 002's words")
    async def status(self, request: Request, services: Svc, job_id: FromPath[UUID]) -> Envelope[ExperitureJobStatus]:
        doc = await blocking(services.jobs.status, request.user.workspace, job_id)
        return ok(request, job_status(doc))

    @get("/", operation_id="experitureListImportJobs", guards=[requires(READ)],
         responses=_errors(), summary="List jobs, newest first, in 002's words (cursor pagination)")
    async def list_jobs(
        self, request: Request, services: Svc,
        job_state: Annotated[ExperitureStateWord | None, QueryParameter(name="state")] = None,
        object_name: Annotated[str | None, QueryParameter(name="objectName")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> Envelope[ExperitureJobPage]:
        flt = JobFilter(workspace=request.user.workspace,
                        states=STATES.states(job_state) if job_state else (), object_name=object_name,
                        limit=limit + 1, cursor=parse_job_cursor(cursor) if cursor else None)
        docs = await blocking(services.jobs.list_jobs, flt)
        page, next_cursor = page_of(docs, limit, job_cursor)
        return ok(request, ExperitureJobPage(items=[job_status(d) for d in page], next_cursor=next_cursor))

    @post("/{job_id:uuid}/cancel", operation_id="experitureCancelImportJob", guards=[requires(WRITE)],
          status_code=200, responses=_errors(404, 409), summary="Cancel the job")
    async def cancel(self, request: Request, services: Svc,
                     job_id: FromPath[UUID]) -> Envelope[ExperitureJobStatus]:
        workspace = request.user.workspace
        await blocking(services.jobs.cancel, workspace, job_id)
        return ok(request, job_status(await blocking(services.jobs.status, workspace, job_id)))

    @post("/{job_id:uuid}/approve", operation_id="experitureApproveImportJob",
          guards=[requires(WRITE)], status_code=200, responses=_errors(404, 409, 422),
          summary="Approve the pending proposal, optionally edited; the job re-runs")
    async def approve(self, request: Request, services: Svc, job_id: FromPath[UUID],
                      data: JSONBody[Approval | None] = None) -> Envelope[ExperitureJobStatus]:
        workspace = request.user.workspace
        await blocking(services.jobs.approve, workspace, job_id,
                       data.proposal if data is not None else None)
        return ok(request, job_status(await blocking(services.jobs.status, workspace, job_id)))

    @get("/{job_id:uuid}/errors", operation_id="experitureGetImportJobErrors", guards=[requires(READ)],
         responses=_errors(404), summary="Where to download the error file (signed, expiring)")
    async def errors(self, request: Request, services: Svc, job_id: FromPath[UUID]) -> Envelope[ExperitureErrorFile]:
        workspace = request.user.workspace
        path = await blocking(services.jobs.error_file, workspace, job_id)
        if path is None:
            return ok(request, ExperitureErrorFile(has_errors=False))
        status = await blocking(services.jobs.status, workspace, job_id)
        signed = services.signer.sign("GET", PREFIX + ERRORS_DOWNLOAD.format(job_id=job_id),
                                      workspace, DOWNLOAD_TTL_SECONDS)
        return ok(request, ExperitureErrorFile(has_errors=True,
                                     error_file_url=services.absolute(request, signed.path_and_query),
                                     expires_at=signed.expires_at, error_count=status["invalidRows"]))


async def _created_job(services: Services, request: Request, identity: Identity,
                       job_id: UUID) -> ExperitureCreatedJob:
    workspace = identity.workspace
    landing = await blocking(services.jobs.upload_slot, workspace, job_id)
    upload_url = expires_at = None
    if await blocking(services.jobs.takes_file, workspace, job_id):
        signed = services.signer.sign("PUT", PREFIX + UPLOAD.format(job_id=job_id), workspace,
                                      UPLOAD_TTL_SECONDS)
        upload_url, expires_at = services.absolute(request, signed.path_and_query), signed.expires_at
    return ExperitureCreatedJob(job_id=str(job_id), upload_url=upload_url, expires_at=expires_at,
                      landing_path=landing if upload_url else None,
                      method="PUT" if upload_url else None,
                      headers={"Content-Type": "application/octet-stream"} if upload_url else {},
                      requested_by=identity.public_id)


class SignedTransfers(Controller):
    """The upload slot and the error file download that create and errors hand out."""

    opt = {EXCLUDE_FROM_AUTH: True}

    @put(UPLOAD.replace("{job_id}", "{job_id:uuid}"), operation_id="experitureUploadFile",
         request_max_body_size=None, status_code=200, security=[{}], responses=_errors(404, 409, 413),
         operation_class=raw_body(FILE_MEDIA_TYPE, "The file itself, streamed"),
         summary="Upload the job's file to its signed slot (streamed)")
    async def upload(self, request: Request, services: Svc, job_id: FromPath[UUID], ws: Ws = None,
                     expires: Expires = None, signature: Signature = None) -> Envelope[UploadReceived]:
        workspace = services.signer.verify("PUT", PREFIX + UPLOAD.format(job_id=job_id), ws,
                                           expires, signature)
        info = await services.uploads.upload(workspace, job_id, guarded_stream(request),
                                             content_length(request))
        after = await blocking(services.jobs.status, workspace, job_id)
        return ok(request, UploadReceived(job_id=str(job_id), state=STATES.word(after["state"]),
                                          file_size=info.size, file_sha256=info.sha256))

    @get(ERRORS_DOWNLOAD.replace("{job_id}", "{job_id:uuid}"), operation_id="experitureDownloadErrors",
         media_type="application/jsonl", security=[{}], responses=_errors(404),
         summary="The error file: JSON Lines, one rejected row a line")
    async def error_file(self, services: Svc, job_id: FromPath[UUID], ws: Ws = None,
                         expires: Expires = None, signature: Signature = None) -> File:
        workspace = services.signer.verify("GET", PREFIX + ERRORS_DOWNLOAD.format(job_id=job_id), ws,
                                           expires, signature)
        local = await blocking(services.jobs.error_file, workspace, job_id)
        if local is None:
            raise JobNotFound(job_id)
        return File(path=local, filename=f"{job_id}-errors.jsonl", media_type="application/jsonl")


def error_body(failure: Failure) -> tuple[Any, str]:
    """§4's envelope with every code prefixed CDP_ETL., as 002 spells them."""
    body = ExperitureErrorEnvelope(
        error=ExperitureErrorBody(code=f"CDP_ETL.{failure.code}", message=failure.message,
                                  details=failure.details),
        correlation_id=failure.correlation_id)
    return body, "application/json"


API = CompatApi(
    name="compat: Experiture",
    prefix=PREFIX,
    credentials=(BEARER,),
    error_body=error_body,
    controllers=(ImportJobs, SignedTransfers),
    scope_aliases=CDP_SCOPES,
    unauthorized_message="an API key or token is required (Authorization: Bearer KEY)",
)
