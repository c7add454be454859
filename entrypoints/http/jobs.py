"""/v1/import-jobs: create, upload slot, declared status, mapping, start, status, detailed
report, list, edit, cancel, approve, delete, error file (JSON Lines and CSV), valid rows,
annotated rows and event history."""

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

from lading.application.direct_uploads import DIRECT_UPLOAD_SUFFIX, take_object
from lading.application.projections import JobFilter
from lading.application.sources import check_object_url
from lading.application.status_view import public_status
from lading.domain.lifecycle import JobState
from lading.domain.timestamps import iso_utc
from lading.entrypoints.http.auth import READ, WRITE, Identity, requires
from lading.entrypoints.http.cursors import decode_cursor, encode_cursor, page_of
from lading.entrypoints.http.blob_responses import blob_download
from lading.entrypoints.http.envelope import Envelope, ok, replayed
from lading.entrypoints.http.errors import RequestInvalid, error_responses
from lading.entrypoints.http.schemas import (
    Approval,
    CreateJob,
    Deleted,
    DetailedReport,
    EditMetadata,
    ErrorFileInfo,
    FileUploadSlot,
    JobEvent,
    JobPage,
    JobStatus,
    MappingRequest,
    MappingResult,
    StatusDeclaration,
    StartRequest,
    UploadSlot,
)
from lading.entrypoints.http.services import Services, Svc, blocking
from lading.entrypoints.http.signed_urls import DOWNLOAD_TTL_SECONDS, UPLOAD_TTL_SECONDS
from lading.entrypoints.http.time_travel import AsOf, AsOfVersion, status_as_of

UPLOAD_PATH = "/v1/uploads/{job_id}"
FILE_UPLOAD_PATH = "/v1/uploads/{job_id}/files/{number}"  # 1-based, in reading order
ERRORS_DOWNLOAD_PATH = "/v1/downloads/{job_id}/errors.jsonl"
VALID_ROWS_DOWNLOAD_PATH = "/v1/downloads/{job_id}/valid-rows.csv"


def upload_slot(services: Services, request: Request, workspace: str, status: dict[str, Any],
                landing_path: str, takes_file: bool) -> UploadSlot:
    """Where and how to send the file: a signed PUT URL while the job still takes one (one a
    file for a several-file job, always through Lading, which counts each file in)."""
    job_id = status["jobId"]
    if not takes_file:
        return UploadSlot(job_id=job_id, state=status["state"], upload_url=None, method=None,
                          headers={}, expires_at=None, landing_path=None)
    if status.get("expectedFiles"):
        uploads = []
        for number, announced in enumerate(status["expectedFiles"], 1):
            signed = services.signer.sign("PUT", FILE_UPLOAD_PATH.format(job_id=job_id, number=number),
                                          workspace, UPLOAD_TTL_SECONDS)
            uploads.append(FileUploadSlot(
                file_name=announced["fileName"], upload_url=services.absolute(request, signed.path_and_query),
                method="PUT", headers={"Content-Type": "application/octet-stream"},
                expires_at=signed.expires_at))
        return UploadSlot(job_id=job_id, state=status["state"], upload_url=None, method=None,
                          headers={}, expires_at=None, landing_path=landing_path, uploads=uploads)
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


# A state filter: one listable state or several, comma-separated.
_LISTABLE = sorted({s.value for s in JobState} - {JobState.DELETED.value})
_STATES = rf"^({'|'.join(_LISTABLE)})(,({'|'.join(_LISTABLE)}))*$"


def job_cursor(doc: dict[str, Any]) -> str:
    """The cursor of the page after this job (job lists are ordered by creation, then id)."""
    return encode_cursor([doc["createdAt"], doc["jobId"]])


def parse_job_cursor(cursor: str) -> tuple[str, str]:
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


def check_create_request(data: CreateJob, idempotency_header: str | None,
                         *, object_sources: bool = False) -> None:
    """What a create body must satisfy beyond its shape (native and Experiture's create;
    only the native one takes a `sourceUrl`)."""
    if data.create_audience != (data.audience_name is not None):
        raise RequestInvalid("createAudience and audienceName go together")
    if data.create_list != (data.list_name is not None):
        raise RequestInvalid("createList and listName go together")
    if data.create_list and data.target_list_id is not None:
        raise RequestInvalid("give either createList or targetListId, not both")
    if data.source_url is not None:
        if not object_sources:
            raise RequestInvalid("not available in this version: sourceUrl")
        if data.rows is not None or data.file_size is not None or data.files is not None:
            raise RequestInvalid("give either sourceUrl or a file (fileName, fileSize) or rows")
        check_object_url(data.source_url)
    elif data.files is not None:
        if data.rows is not None or data.file_name is not None or data.file_size is not None:
            raise RequestInvalid("give files, or fileName and fileSize, or rows: only one of them")
    elif data.rows is None and (data.file_name is None or data.file_size is None):
        raise RequestInvalid("fileName and fileSize are required unless rows, files or sourceUrl"
                             " are given")
    if data.rows is not None and data.file_size is not None:
        raise RequestInvalid("give either rows or a file (fileName, fileSize), not both")
    if idempotency_header and data.idempotency_key and idempotency_header != data.idempotency_key:
        raise RequestInvalid("the Idempotency-Key header and idempotencyKey differ")


class ImportJobsController(Controller):
    path = "/v1/import-jobs"
    tags = ["import jobs"]

    @post("/", operation_id="createImportJob", guards=[requires(WRITE)],
          request_max_body_size=64 * 1024 * 1024,
          responses={**error_responses(404, 409, 413), **replayed(Envelope[UploadSlot])}, status_code=201,
          summary="Create an import job (returns a signed upload slot, one a file for `files`,"
                  " or takes inline rows)")
    async def create(
        self, request: Request, services: Svc, data: JSONBody[CreateJob],
        idempotency_header: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
    ) -> Response[Envelope[UploadSlot]]:
        identity: Identity = request.user
        check_create_request(data, idempotency_header, object_sources=True)
        file_name, file_size, announced = data.file_name, data.file_size, None
        if data.files is not None:
            announced = [(f.file_name, f.file_size) for f in data.files]
            file_name, file_size = announced[0][0], sum(size for _, size in announced)
        job_id, created = await blocking(
            services.jobs.create_job, identity.workspace, data.object_name, file_name,
            file_size, source=data.source, labels=data.labels, expected_files=announced,
            idempotency_key=idempotency_header or data.idempotency_key, rows=data.rows,
            list_name=data.list_name, target_list_id=data.target_list_id, callback_url=data.callback_url,
            concurrency_scope=data.concurrency_scope, audience_name=data.audience_name,
            auto_profile=data.auto_profile_after_import,
        )
        if data.source_url is not None and created:
            await blocking(take_object, services.jobs, identity.workspace, job_id,
                           data.source_url)
        status = await blocking(services.jobs.status, identity.workspace, job_id)
        landing = await blocking(services.jobs.upload_slot, identity.workspace, job_id)
        takes_file = await blocking(services.jobs.takes_file, identity.workspace, job_id)
        slot = upload_slot(services, request, identity.workspace, status, landing, takes_file)
        return Response(ok(request, slot), status_code=201 if created else 200)

    @get("/", operation_id="listImportJobs", guards=[requires(READ)],
         responses=error_responses(), summary="List jobs, newest first (cursor pagination)")
    async def list_jobs(
        self, request: Request, services: Svc,
        states: Annotated[list[str] | None, QueryParameter(
            name="state", description="States to list, repeated or comma-separated (queued,running)",
            schema_extra={"oneOf": [{"type": "array", "items": {"type": "string", "pattern": _STATES}},
                                    {"type": "null"}]})] = None,
        object_name: Annotated[str | None, QueryParameter(name="objectName")] = None,
        source: FromQuery[str | None] = None,
        label: FromQuery[str | None] = None,
        created_from: Annotated[str | None, QueryParameter(name="createdFrom")] = None,
        created_to: Annotated[str | None, QueryParameter(name="createdTo")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> Envelope[JobPage]:
        identity: Identity = request.user
        wanted = tuple(s for value in states or [] for s in value.split(",") if s)
        unknown = sorted(set(wanted) - set(_LISTABLE))
        if unknown:
            raise RequestInvalid(f"unknown state(s) {', '.join(unknown)}; use {', '.join(_LISTABLE)}")
        flt = JobFilter(
            workspace=identity.workspace,
            states=wanted,
            object_name=object_name, source=source, label=label,
            created_from=_instant("createdFrom", created_from),
            created_to=_instant("createdTo", created_to),
            limit=limit + 1,
            cursor=parse_job_cursor(cursor) if cursor else None,
        )
        docs = await blocking(services.jobs.list_jobs, flt)
        shown, next_cursor = page_of(docs, limit, job_cursor)
        page = JobPage(items=[public_status(d) for d in shown],  # type: ignore[misc]
                       next_cursor=next_cursor)
        return ok(request, page)

    @get("/{job_id:uuid}", operation_id="getImportJob", guards=[requires(READ)],
         responses=error_responses(404),
         summary="A job's status, now or (asOfVersion, asOf) as it was after an earlier event")
    async def get_job(
        self, request: Request, services: Svc, job_id: FromPath[UUID],
        include_detailed_report: Annotated[bool, QueryParameter(name="includeDetailedReport")] = False,
        as_of_version: AsOfVersion = None, as_of: AsOf = None,
    ) -> Envelope[JobStatus]:
        workspace = request.user.workspace
        if as_of_version is not None or as_of is not None:
            return ok(request, await status_as_of(services, workspace, job_id, as_of_version, as_of,
                                                  include_detailed_report))
        doc = await blocking(services.jobs.status, workspace, job_id)
        status = public_status(doc)
        if include_detailed_report:
            status["detailedReport"] = await blocking(services.reports.report, workspace, job_id)
        return ok(request, status)

    @get("/{job_id:uuid}/report", operation_id="getImportJobReport", guards=[requires(READ)],
         responses=error_responses(404),
         summary="The detailed report: totals, skipped rows by column and reason, healing, "
                 "warnings, and the data profile when asked for")
    async def report(self, request: Request, services: Svc,
                     job_id: FromPath[UUID]) -> Envelope[DetailedReport]:
        return ok(request, await blocking(services.reports.report, request.user.workspace, job_id))

    @patch("/{job_id:uuid}", operation_id="editImportJob", guards=[requires(WRITE)],
           responses=error_responses(404, 409),
           summary="Edit metadata (source, labels, fileName); never the state")
    async def edit(self, request: Request, services: Svc, job_id: FromPath[UUID],
                   data: JSONBody[EditMetadata]) -> Envelope[JobStatus]:
        workspace = request.user.workspace
        await blocking(services.jobs.edit_metadata, workspace, job_id, source=data.source,
                       labels=data.labels, file_name=data.file_name)
        return ok(request, public_status(await blocking(services.jobs.status, workspace, job_id)))

    @post("/{job_id:uuid}/declared-status", operation_id="declareImportJobStatus",
          guards=[requires(WRITE)], status_code=200, responses=error_responses(404, 409),
          summary="Declare a job's own status word and expected rows while it holds no data (a cohort)")
    async def declare_status(self, request: Request, services: Svc, job_id: FromPath[UUID],
                             data: JSONBody[StatusDeclaration]) -> Envelope[JobStatus]:
        if data.status is None and data.expected_rows is None:
            raise RequestInvalid("give status, expectedRows or both")
        workspace = request.user.workspace
        await blocking(services.jobs.declare_status, workspace, job_id, data.status, data.expected_rows)
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
          status_code=200, responses=error_responses(404, 409),
          summary='Queue the job; {"dryRun": true} runs it whole, writes nothing and reports a diff')
    async def start(self, request: Request, services: Svc, job_id: FromPath[UUID],
                    data: JSONBody[StartRequest | None] = None) -> Envelope[JobStatus]:
        workspace = request.user.workspace
        await blocking(services.jobs.start, workspace, job_id,
                       dry_run=data is not None and data.dry_run)
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

    @get("/{job_id:uuid}/annotated.csv", operation_id="getImportJobAnnotatedCsv",
         guards=[requires(READ)], media_type="text/csv", responses=error_responses(404, 409),
         summary="Every source row in source order with _status and _errors (fix and re-import)")
    async def annotated(self, request: Request, services: Svc, job_id: FromPath[UUID]) -> Response:
        key = await blocking(services.exports.annotated_blob, request.user.workspace, job_id)
        return await blob_download(services, key, f"{job_id}-annotated.csv", "text/csv")

    @get("/{job_id:uuid}/errors.csv", operation_id="getImportJobErrorsCsv",
         guards=[requires(READ)], media_type="text/csv", responses=error_responses(404, 409),
         summary="The error file as CSV: rowNumber, code, error and the row's source columns")
    async def errors_csv(self, request: Request, services: Svc, job_id: FromPath[UUID]) -> Response:
        key = await blocking(services.exports.error_csv_blob, request.user.workspace, job_id)
        return await blob_download(services, key, f"{job_id}-errors.csv", "text/csv")

    @get("/{job_id:uuid}/events", operation_id="getImportJobEvents", guards=[requires(READ)],
         responses=error_responses(404), summary="The job's event history, in order")
    async def events(self, request: Request, services: Svc,
                     job_id: FromPath[UUID]) -> Envelope[list[JobEvent]]:
        return ok(request, await blocking(services.jobs.history, request.user.workspace, job_id))


async def valid_rows_file(services: Services, workspace: str, job_id: UUID) -> Response:
    """The valid rows as CSV (made once and kept as a blob; a redirect when the store presigns)."""
    key = await blocking(services.exports.valid_rows_blob, workspace, job_id)
    return await blob_download(services, key, f"{job_id}-valid-rows.csv", "text/csv")
