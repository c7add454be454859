"""/v1/import-jobs: create, upload slot, mapping, start, status, list, edit, cancel, approve,
delete, error file, valid rows and event history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import (
    FromPath,
    FromQuery,
    HeaderParameter,
    JSONBody,
    QueryParameter,
)

from lading.application.errors import PayloadTooLarge
from lading.application.direct_uploads import DIRECT_UPLOAD_SUFFIX, check_object_url, take_object
from lading.application.projections import JobFilter
from lading.application.status_view import detailed_report, public_status
from lading.domain.timestamps import iso_utc
from lading.entrypoints.http.auth import READ, WRITE, Identity, requires
from lading.entrypoints.http.cursors import decode_cursor, encode_cursor
from lading.entrypoints.http.blob_responses import blob_download
from lading.entrypoints.http.envelope import Envelope, ok
from lading.entrypoints.http.errors import RequestInvalid, error_responses
from lading.entrypoints.http.schemas import (
    Approval,
    CreateJob,
    Deleted,
    EditMetadata,
    ErrorFileInfo,
    JobEvent,
    JobPage,
    JobStatus,
    MappingRequest,
    MappingResult,
    UploadSlot,
)
from lading.entrypoints.http.services import Services, Svc, blocking
from lading.entrypoints.http.signed_urls import DOWNLOAD_TTL_SECONDS, UPLOAD_TTL_SECONDS

UPLOAD_PATH = "/v1/uploads/{job_id}"
ERRORS_DOWNLOAD_PATH = "/v1/downloads/{job_id}/errors.jsonl"
VALID_ROWS_DOWNLOAD_PATH = "/v1/downloads/{job_id}/valid-rows.csv"
# SPEC §4 names these create options without saying what they do (ADR 0035): refused, not ignored.
_UNSUPPORTED = {"create_audience": "createAudience", "audience_name": "audienceName",
                "auto_profile_after_import": "autoProfileAfterImport"}


def upload_slot(services: Services, request: Request, workspace: str, status: dict[str, Any],
                landing_path: str, takes_file: bool) -> UploadSlot:
    """Where and how to send the file: a signed PUT URL while the job still takes one."""
    job_id = status["jobId"]
    if not takes_file:
        return UploadSlot(job_id=job_id, state=status["state"], upload_url=None, method=None,
                          headers={}, expires_at=None, landing_path=None)
    direct = services.uploads.direct_upload(workspace, UUID(job_id), UPLOAD_TTL_SECONDS)
    if direct is not None:  # object storage: the bytes go straight to the bucket (ADR 0051)
        return UploadSlot(job_id=job_id, state=status["state"], upload_url=direct.url, method="PUT",
                          headers=direct.headers, expires_at=direct.expires_at,
                          landing_path=landing_path + DIRECT_UPLOAD_SUFFIX)
    signed = services.signer.sign("PUT", UPLOAD_PATH.format(job_id=job_id), workspace,
                                  UPLOAD_TTL_SECONDS)
    return UploadSlot(
        job_id=job_id, state=status["state"], upload_url=services.absolute(request, signed.path_and_query),
        method="PUT", headers={"Content-Type": "application/octet-stream"},
        expires_at=signed.expires_at, landing_path=landing_path,
    )


def _encode_cursor(doc: dict[str, Any]) -> str:
    return encode_cursor([doc["createdAt"], doc["jobId"]])


def _decode_cursor(cursor: str) -> tuple[str, str]:
    value = decode_cursor(cursor)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return value[0], value[1]
    raise RequestInvalid("cursor is not one this API returned")


def _instant(name: str, value: str | None) -> str | None:
    """An ISO 8601 instant in the form createdAt is stored in (UTC, 'Z'), for range filters."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RequestInvalid(f"{name} must be an ISO 8601 date or date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return iso_utc(parsed)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant UTC can name
        raise RequestInvalid(f"{name} is outside the range of dates") from None


def check_create_request(data: CreateJob, max_file_size: int, idempotency_header: str | None,
                         *, object_sources: bool = False) -> None:
    """What a create body must satisfy beyond its shape (native and Experiture's create;
    only the native one takes a `sourceUrl`)."""
    asked = [wire for name, wire in _UNSUPPORTED.items() if getattr(data, name)]
    if asked:
        raise RequestInvalid(f"not available in this version: {', '.join(asked)}")
    if data.create_list != (data.list_name is not None):
        raise RequestInvalid("createList and listName go together")
    if data.create_list and data.target_list_id is not None:
        raise RequestInvalid("give either createList or targetListId, not both")
    if data.source_url is not None:
        if not object_sources:
            raise RequestInvalid("not available in this version: sourceUrl")
        if data.rows is not None or data.file_size is not None:
            raise RequestInvalid("give either sourceUrl or a file (fileName, fileSize) or rows")
        check_object_url(data.source_url)
    elif data.rows is None and (data.file_name is None or data.file_size is None):
        raise RequestInvalid("fileName and fileSize are required unless rows or sourceUrl are given")
    if data.rows is not None and data.file_size is not None:
        raise RequestInvalid("give either rows or a file (fileName, fileSize), not both")
    if data.file_size is not None and data.file_size > max_file_size:
        raise PayloadTooLarge(f"fileSize is over the limit of {max_file_size} bytes")
    if idempotency_header and data.idempotency_key and idempotency_header != data.idempotency_key:
        raise RequestInvalid("the Idempotency-Key header and idempotencyKey differ")


class ImportJobsController(Controller):
    path = "/v1/import-jobs"
    tags = ["import jobs"]

    @post("/", operation_id="createImportJob", guards=[requires(WRITE)],
          request_max_body_size=64 * 1024 * 1024,
          responses=error_responses(404, 409, 413), status_code=201,
          summary="Create an import job (returns a signed upload slot, or takes inline rows)")
    async def create(
        self, request: Request, services: Svc, data: JSONBody[CreateJob],
        idempotency_header: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
    ) -> Response[Envelope[UploadSlot]]:
        identity: Identity = request.user
        check_create_request(data, services.max_file_size, idempotency_header, object_sources=True)
        job_id, created = await blocking(
            services.jobs.create_job, identity.workspace, data.object_name, data.file_name,
            data.file_size, source=data.source, labels=data.labels,
            idempotency_key=idempotency_header or data.idempotency_key, rows=data.rows,
            list_name=data.list_name, target_list_id=data.target_list_id, callback_url=data.callback_url,
            concurrency_scope=data.concurrency_scope,
        )
        if data.source_url is not None and created:
            await blocking(take_object, services.jobs, identity.workspace, job_id,
                           data.source_url, services.max_file_size)
        status = await blocking(services.jobs.status, identity.workspace, job_id)
        landing = await blocking(services.jobs.upload_slot, identity.workspace, job_id)
        takes_file = await blocking(services.jobs.takes_file, identity.workspace, job_id)
        slot = upload_slot(services, request, identity.workspace, status, landing, takes_file)
        return Response(ok(request, slot), status_code=201 if created else 200)

    @get("/", operation_id="listImportJobs", guards=[requires(READ)],
         responses=error_responses(), summary="List jobs, newest first (cursor pagination)")
    async def list_jobs(
        self, request: Request, services: Svc,
        states: Annotated[list[str] | None, QueryParameter(name="state")] = None,
        object_name: Annotated[str | None, QueryParameter(name="objectName")] = None,
        source: FromQuery[str | None] = None,
        label: FromQuery[str | None] = None,
        created_from: Annotated[str | None, QueryParameter(name="createdFrom")] = None,
        created_to: Annotated[str | None, QueryParameter(name="createdTo")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> Envelope[JobPage]:
        identity: Identity = request.user
        flt = JobFilter(
            workspace=identity.workspace,
            states=tuple(s for value in states or [] for s in value.split(",") if s),
            object_name=object_name, source=source, label=label,
            created_from=_instant("createdFrom", created_from),
            created_to=_instant("createdTo", created_to),
            limit=limit + 1,
            cursor=_decode_cursor(cursor) if cursor else None,
        )
        docs = await blocking(services.jobs.list_jobs, flt)
        more = len(docs) > limit
        docs = docs[:limit]
        page = JobPage(items=[public_status(d) for d in docs],  # type: ignore[misc]
                       next_cursor=_encode_cursor(docs[-1]) if more else None)
        return ok(request, page)

    @get("/{job_id:uuid}", operation_id="getImportJob", guards=[requires(READ)],
         responses=error_responses(404), summary="A job's status")
    async def get_job(
        self, request: Request, services: Svc, job_id: FromPath[UUID],
        include_detailed_report: Annotated[bool, QueryParameter(name="includeDetailedReport")] = False,
    ) -> Envelope[JobStatus]:
        workspace = request.user.workspace
        doc = await blocking(services.jobs.status, workspace, job_id)
        status = public_status(doc)
        if include_detailed_report:
            error_file = await blocking(services.jobs.error_file, workspace, job_id)
            status["detailedReport"] = await blocking(detailed_report, doc, error_file)
        return ok(request, status)

    @patch("/{job_id:uuid}", operation_id="editImportJob", guards=[requires(WRITE)],
           responses=error_responses(404, 409),
           summary="Edit metadata (source, labels, fileName); never the state")
    async def edit(self, request: Request, services: Svc, job_id: FromPath[UUID],
                   data: JSONBody[EditMetadata]) -> Envelope[JobStatus]:
        workspace = request.user.workspace
        await blocking(services.jobs.edit_metadata, workspace, job_id, source=data.source,
                       labels=data.labels, file_name=data.file_name)
        return ok(request, public_status(await blocking(services.jobs.status, workspace, job_id)))

    @post("/{job_id:uuid}/mapping", operation_id="mapImportJob", guards=[requires(WRITE)],
          status_code=200, responses=error_responses(404, 409, 422),
          summary="Set the mapping (optionally from a template, optionally saved as one)")
    async def map_job(self, request: Request, services: Svc, job_id: FromPath[UUID],
                      data: JSONBody[MappingRequest]) -> Envelope[MappingResult]:
        workspace = request.user.workspace
        jobs = services.jobs
        status = await blocking(jobs.status, workspace, job_id)
        given = {"sourceFields": data.source_fields, "fieldMap": data.field_map,
                 "importMode": data.import_mode, "operation": data.operation,
                 "reviewPolicy": data.review_policy}
        mapping = await blocking(services.library.resolve, workspace, status["objectName"], given,
                                 data.template_id)
        plan = await blocking(jobs.map, workspace, job_id, mapping)
        template_id = None
        if data.save_as_template:
            name = data.template_name or f"{status['objectName']} mapping from job {job_id}"
            template = await blocking(services.library.save_template, workspace, name,
                                      status["objectName"], plan)
            template_id = template.id
        after = await blocking(jobs.status, workspace, job_id)
        return ok(request, MappingResult(job_id=str(job_id), state=after["state"],
                                         plan_version=after["planVersion"], mapping=plan,  # type: ignore[arg-type]
                                         template_id=template_id or data.template_id))

    @post("/{job_id:uuid}/start", operation_id="startImportJob", guards=[requires(WRITE)],
          status_code=200, responses=error_responses(404, 409), summary="Queue the job")
    async def start(self, request: Request, services: Svc, job_id: FromPath[UUID]) -> Envelope[JobStatus]:
        workspace = request.user.workspace
        await blocking(services.jobs.start, workspace, job_id)
        return ok(request, public_status(await blocking(services.jobs.status, workspace, job_id)))

    @post("/{job_id:uuid}/cancel", operation_id="cancelImportJob", guards=[requires(WRITE)],
          status_code=200, responses=error_responses(404, 409), summary="Cancel the job")
    async def cancel(self, request: Request, services: Svc, job_id: FromPath[UUID]) -> Envelope[JobStatus]:
        workspace = request.user.workspace
        await blocking(services.jobs.cancel, workspace, job_id)
        return ok(request, public_status(await blocking(services.jobs.status, workspace, job_id)))

    @post("/{job_id:uuid}/approve", operation_id="approveImportJob", guards=[requires(WRITE)],
          status_code=200, responses=error_responses(404, 409, 422),
          summary="Approve the pending proposal, optionally edited; the job re-runs")
    async def approve(self, request: Request, services: Svc, job_id: FromPath[UUID],
                      data: JSONBody[Approval | None] = None) -> Envelope[JobStatus]:
        workspace = request.user.workspace
        edits = data.proposal if data is not None else None
        await blocking(services.jobs.approve, workspace, job_id, edits)
        return ok(request, public_status(await blocking(services.jobs.status, workspace, job_id)))

    @delete("/{job_id:uuid}", operation_id="deleteImportJob", guards=[requires(WRITE)],
            status_code=200, responses=error_responses(404, 409),
            summary="Delete the job and purge its blobs (its history keeps a Deleted event)")
    async def remove(self, request: Request, services: Svc, job_id: FromPath[UUID]) -> Envelope[Deleted]:
        await blocking(services.jobs.delete, request.user.workspace, job_id)
        return ok(request, Deleted(job_id=str(job_id), deleted=True))

    @get("/{job_id:uuid}/errors", operation_id="getImportJobErrors", guards=[requires(READ)],
         responses=error_responses(404),
         summary="Where to download the error file (a signed, expiring URL)")
    async def errors(self, request: Request, services: Svc, job_id: FromPath[UUID]) -> Envelope[ErrorFileInfo]:
        workspace = request.user.workspace
        status = await blocking(services.jobs.status, workspace, job_id)
        error_key = await blocking(services.jobs.error_blob_key, workspace, job_id)
        error_url = expires_at = valid_url = None
        if error_key is not None:
            signed = services.signer.sign("GET", ERRORS_DOWNLOAD_PATH.format(job_id=job_id),
                                          workspace, DOWNLOAD_TTL_SECONDS)
            error_url, expires_at = services.absolute(request, signed.path_and_query), signed.expires_at
        if await blocking(services.jobs.has_valid_rows, workspace, job_id):
            signed = services.signer.sign("GET", VALID_ROWS_DOWNLOAD_PATH.format(job_id=job_id),
                                          workspace, DOWNLOAD_TTL_SECONDS)
            valid_url = services.absolute(request, signed.path_and_query)
            expires_at = expires_at or signed.expires_at
        return ok(request, ErrorFileInfo(has_errors=error_key is not None, error_file_url=error_url,
                                         expires_at=expires_at,
                                         error_count=status["invalidRows"],
                                         valid_rows_url=valid_url))

    @get("/{job_id:uuid}/valid-rows.csv", operation_id="getImportJobValidRows",
         guards=[requires(READ)], media_type="text/csv", responses=error_responses(404),
         summary="The job's valid rows as CSV (header = the object's fields)")
    async def valid_rows(self, request: Request, services: Svc, job_id: FromPath[UUID]) -> Response:
        return await valid_rows_file(services, request.user.workspace, job_id)

    @get("/{job_id:uuid}/events", operation_id="getImportJobEvents", guards=[requires(READ)],
         responses=error_responses(404), summary="The job's event history, in order")
    async def events(self, request: Request, services: Svc,
                     job_id: FromPath[UUID]) -> Envelope[list[JobEvent]]:
        return ok(request, await blocking(services.jobs.history, request.user.workspace, job_id))


async def valid_rows_file(services: Services, workspace: str, job_id: UUID) -> Response:
    """The valid rows as CSV (made once and kept as a blob; a redirect when the store presigns)."""
    key = await blocking(services.exports.valid_rows_blob, workspace, job_id)
    return await blob_download(services, key, f"{job_id}-valid-rows.csv", "text/csv")
