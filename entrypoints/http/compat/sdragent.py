"""SDR-agent import cohorts (SPEC §9.3) under /compat/sdragent/{configurationId}.

A thin translation over Cohorts (application/cohorts.py): 001's snake_case fields, its status
words (one table below), `{"detail": …}` errors. The configuration in the base URL names the
object and the mapping the cohort's data goes through.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta

from lading.application.cohorts import campaign_of, has_data
from lading.domain.limits import MAX_INLINE_ROWS
from lading.entrypoints.http.auth import READ, WRITE, requires
from lading.entrypoints.http.compat.common import (
    BEARER,
    PREFIX,
    X_API_KEY,
    CompatApi,
    Failure,
    StatusWords,
)
from lading.entrypoints.http.errors import ApiError, RequestInvalid
from lading.entrypoints.http.raw_bodies import declared_body
from lading.entrypoints.http.services import Svc, blocking

# Lading's state -> 001's status, once a cohort holds data (before that, the client's word).
WORDS = StatusWords(by_state={
    "pending": "pending", "ready": "pending",
    "queued": "processing", "running": "processing", "needs_attention": "processing",
    "completed": "completed", "reverting": "completed", "reverted": "completed",
    "failed": "failed", "cancelled": "failed",
})
SdrStatus = Literal["pending", "processing", "completed", "failed"]
CAMPAIGN = "campaign:"  # the label a cohort's campaign_id is kept in


def status_word(doc: dict[str, Any]) -> str:
    if not has_data(doc):
        return doc.get("declaredStatus") or "pending"
    return WORDS.word(doc["state"], doc.get("stage"))


def org_id(workspace: str) -> str:
    """The workspace's stable UUID, as 001's `org_id`."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lading:workspace:{workspace}"))


class ImportCreate(msgspec.Struct):
    source: Annotated[str, Meta(min_length=1, max_length=200)]
    file_name: Annotated[str, Meta(max_length=200)] | None = None
    campaign_id: uuid.UUID | None = None
    status: SdrStatus | None = None
    total_rows: Annotated[int, Meta(ge=0)] | None = None


class ImportUpdate(msgspec.Struct):
    source: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    file_name: Annotated[str, Meta(max_length=200)] | None = None
    campaign_id: uuid.UUID | None = None
    status: SdrStatus | None = None
    total_rows: Annotated[int, Meta(ge=0)] | None = None


class SdrImport(msgspec.Struct):
    id: str
    org_id: str
    campaign_id: str | None
    source: str | None
    file_name: str | None
    status: SdrStatus
    total_rows: int | None
    created_at: str
    updated_at: str


class BulkUpload(msgspec.Struct):
    import_id: uuid.UUID
    contacts: Annotated[list[dict[str, Any]], Meta(max_length=MAX_INLINE_ROWS)]


class Deleted(msgspec.Struct):
    message: str


class Detail(msgspec.Struct):
    detail: str


def _import(doc: dict[str, Any]) -> SdrImport:
    return SdrImport(
        id=doc["jobId"], org_id=org_id(doc["workspace"]), campaign_id=campaign_of(doc, CAMPAIGN),
        source=doc.get("source"), file_name=doc.get("fileName"),
        status=status_word(doc),  # type: ignore[arg-type]
        total_rows=doc["readRows"] if has_data(doc) else doc.get("expectedRows"),
        created_at=doc["createdAt"], updated_at=doc["updatedAt"],
    )


def _labels(campaign_id: uuid.UUID | None) -> list[str] | None:
    return [f"{CAMPAIGN}{campaign_id}"] if campaign_id is not None else None


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    wanted = sorted({400, 401, 403, 404, 429, *statuses})
    return {s: ResponseSpec(data_container=Detail, description=f"{{\"detail\": …}} ({s})")
            for s in wanted}


def _job_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _NoSuchImport(value) from None


class _NoSuchImport(ApiError):
    code = "NOT_FOUND"

    def __init__(self, value: str) -> None:
        super().__init__(f"Import {value} not found")


class ImportsController(Controller):
    path = "/{configuration_id:str}/imports"

    @post("/", operation_id="sdragentCreateImport", guards=[requires(WRITE)], status_code=201,
          responses=_errors(), summary="Create an import cohort (no data yet)")
    async def create(self, request: Request, services: Svc, configuration_id: FromPath[str],
                     data: JSONBody[ImportCreate]) -> SdrImport:
        doc = await blocking(services.lading.cohorts.create, request.user.workspace, configuration_id,
                             source=data.source, file_name=data.file_name,
                             labels=_labels(data.campaign_id), status=data.status,
                             expected_rows=data.total_rows)
        return _import(doc)

    @get("/", operation_id="sdragentListImports", guards=[requires(READ)], responses=_errors(),
         summary="The configuration's cohorts, newest first")
    async def list_imports(self, request: Request, services: Svc, configuration_id: FromPath[str],
                           status: FromQuery[SdrStatus | None] = None,
                           campaign_id: FromQuery[uuid.UUID | None] = None) -> list[SdrImport]:
        label = f"{CAMPAIGN}{campaign_id}" if campaign_id is not None else None
        docs = await blocking(services.lading.cohorts.find, request.user.workspace, configuration_id,
                              label)
        found = [_import(d) for d in docs]
        return [i for i in found if status is None or i.status == status]

    @get("/{import_id:str}", operation_id="sdragentGetImport", guards=[requires(READ)],
         responses=_errors(), summary="One cohort")
    async def get_import(self, request: Request, services: Svc, configuration_id: FromPath[str],
                         import_id: FromPath[str]) -> SdrImport:
        doc = await blocking(services.lading.cohorts.get, request.user.workspace, configuration_id,
                             _job_id(import_id))
        return _import(doc)

    @put("/{import_id:str}", operation_id="sdragentUpdateImport", guards=[requires(WRITE)],
         responses=_errors(409), summary="Update only the fields given")
    async def update(self, request: Request, services: Svc, configuration_id: FromPath[str],
                     import_id: FromPath[str], data: JSONBody[ImportUpdate]) -> SdrImport:
        doc = await blocking(services.lading.cohorts.update, request.user.workspace, configuration_id,
                             _job_id(import_id), source=data.source, file_name=data.file_name,
                             labels=_labels(data.campaign_id), status=data.status,
                             expected_rows=data.total_rows, word_of=status_word, cancel_word="failed")
        return _import(doc)

    @delete("/{import_id:str}", operation_id="sdragentDeleteImport", guards=[requires(WRITE)],
            status_code=200, responses=_errors(409), summary="Delete a cohort")
    async def remove(self, request: Request, services: Svc, configuration_id: FromPath[str],
                     import_id: FromPath[str]) -> Deleted:
        job_id = _job_id(import_id)
        await blocking(services.lading.cohorts.delete, request.user.workspace, configuration_id, job_id)
        return Deleted(message=f"Import {job_id} eliminado")


_IMPORT_ID = Schema(type=OpenAPIType.STRING, format="uuid", description="The cohort's id")
_BULK_UPLOAD = declared_body({
    "application/json": Schema(
        type=OpenAPIType.OBJECT, required=["import_id", "contacts"], properties={
            "import_id": _IMPORT_ID,
            "contacts": Schema(type=OpenAPIType.ARRAY, max_items=MAX_INLINE_ROWS,
                               items=Schema(type=OpenAPIType.OBJECT),
                               description="The contacts: objects whose keys are the source columns"),
        }),
    "multipart/form-data": Schema(
        type=OpenAPIType.OBJECT, required=["import_id", "file"], properties={
            "import_id": _IMPORT_ID,
            "file": Schema(type=OpenAPIType.STRING, format="binary",
                           description="The file (CSV, NDJSON or Parquet)"),
        }),
}, "The cohort's data: JSON contacts, or a file")


class ContactsController(Controller):
    path = "/{configuration_id:str}/contacts"

    @post("/bulk-upload", operation_id="sdragentBulkUpload", guards=[requires(WRITE)],
          status_code=202, responses=_errors(409, 413, 422), operation_class=_BULK_UPLOAD,
          summary="Attach a cohort's data (JSON contacts, or multipart import_id + file); it starts",
          description="`application/json` `{\"import_id\", \"contacts\": [{…}]}` (at most "
                      f"{MAX_INLINE_ROWS:,} contacts), or `multipart/form-data` with `import_id` "
                      "and `file` (CSV, NDJSON or Parquet).")
    async def bulk_upload(self, request: Request, services: Svc,
                          configuration_id: FromPath[str]) -> SdrImport:
        cohorts, workspace = services.lading.cohorts, request.user.workspace
        if request.content_type[0] == "multipart/form-data":
            form = await request.form()
            upload, raw_id = form.get("file"), form.get("import_id")
            if not isinstance(raw_id, str) or not raw_id.strip():
                raise RequestInvalid("Validation error: import_id field is required")
            if upload is None or isinstance(upload, str):
                raise RequestInvalid("Validation error: file field is required")
            doc = await blocking(cohorts.attach_file, workspace, configuration_id,
                                 _job_id(raw_id.strip()), upload.file, upload.filename or "upload")
            return _import(doc)
        try:
            body = msgspec.json.decode(await request.body(), type=BulkUpload)
        except msgspec.ValidationError as exc:
            raise RequestInvalid(f"Validation error: {_said(str(exc))}") from None
        except msgspec.DecodeError:
            raise RequestInvalid("Validation error: the body is not JSON") from None
        doc = await blocking(cohorts.attach_rows, workspace, configuration_id, body.import_id,
                             body.contacts)
        return _import(doc)


def _said(message: str, key: str | None = None) -> str:
    """A msgspec validation message in 001's words: `source field is required`, `campaign_id …`."""
    if message.startswith("Object missing required field `"):
        return f"{message.split('`')[1]} field is required"
    text, _, where = message.partition(" - at `$.")
    field = key or (where.rstrip("`").split("[")[0].split(".")[0] if where else None)
    return f"{field} {text[:1].lower()}{text[1:]}" if field else message


def _error_body(failure: Failure) -> tuple[Any, str]:
    if failure.status == 401:
        return {"detail": "Invalid or missing authentication credentials"}, "application/json"
    message = failure.message
    if failure.status == 400 and failure.code == "VALIDATION.REQUEST_INVALID":
        extra = failure.details if isinstance(failure.details, list) else []
        said = [_said(str(e.get("message", "")), e.get("key")) for e in extra if isinstance(e, dict)]
        if said:
            message = "Validation error: " + "; ".join(said)
        elif not message.startswith("Validation error"):
            message = f"Validation error: {message}"
    return {"detail": message}, "application/json"


API = CompatApi(
    name="compat: SDR agent",
    prefix=f"{PREFIX}/sdragent",
    credentials=(X_API_KEY, BEARER),
    error_body=_error_body,
    controllers=(ImportsController, ContactsController),
    unauthorized_message="Invalid or missing authentication credentials",
    security=({"apiKey": []}, {"bearer": []}),
)
