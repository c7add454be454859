"""Vern Migration API (SPEC §9.4) under /compat/vern: companies, staged uploads, runs.

A company is an import configuration (ConfigurationRuns, application/configuration_runs.py);
a run is one of its jobs. This module translates words only: 003's fields, its status words
(one table below), its `{"error": …}` bodies, and Lading's review proposal as questions and a
proposed patch, whose answers come back as the proposal's changes.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import anyio.to_thread

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream
from msgspec import Meta

from lading.application.configuration_runs import STAGED_UPLOAD_TTL_SECONDS
from lading.domain.limits import MAX_INLINE_ROWS
from lading.entrypoints.http.auth import EXCLUDE_FROM_AUTH, READ, WRITE, requires
from lading.entrypoints.http.compat.common import (
    PREFIX,
    X_API_KEY,
    CompatApi,
    Failure,
    StatusWords,
)
from lading.entrypoints.http.console.pages import configuration_import_path
from lading.entrypoints.http.errors import ApiError, RequestInvalid
from lading.entrypoints.http.raw_bodies import raw_body
from lading.entrypoints.http.services import Services, Svc, blocking

BASE = f"{PREFIX}/vern"
UPLOAD_PATH = "/uploads/{company_id}/{ref}"  # the signed PUT (upload_url), under BASE

WORDS = StatusWords(by_state={
    "pending": "queued", "ready": "queued", "queued": "queued", "running": "running",
    "needs_attention": "needs_attention", "completed": "completed", "reverting": "completed", "reverted": "completed",
    "failed": "failed", "cancelled": "canceled",
})
# A proposal change kind (or, in older proposals, the key it carries) -> 003's patch action.
ACTIONS = {"enum_map": "map_values", "date_format": "reformat", "number_format": "reformat",
           "boolean_words": "reformat", "column_remap": "remap_column", "set_value": "set_value",
           "delete_invalid_rows": "delete_invalid_rows"}
_LEGACY_KINDS = (("dateFormat", "date_format"), ("enumMap", "enum_map"),
                 ("sourceColumn", "column_remap"), ("numberFormat", "number_format"))
SKIP = "skip"  # the option that leaves a question's rows out


def sheet_id(company_id: str) -> str:
    """The one sheet of a company (its object), a stable id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lading:configuration:{company_id}:sheet"))


def workbook_id(company_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lading:configuration:{company_id}:workbook"))


# -- bodies ------------------------------------------------------------------------------------

Text = Annotated[str, Meta(min_length=1, max_length=500)]


class CompanyCreate(msgspec.Struct):
    name: Text
    external_id: Text
    template_ids: Annotated[list[Text], Meta(min_length=1, max_length=1)]
    source: Text | None = None


class CompanyRef(msgspec.Struct):
    id: str
    external_id: str | None


class Sheet(msgspec.Struct):
    id: str
    name: str
    template_id: str


class Company(msgspec.Struct):
    company: CompanyRef
    workbook_id: str
    sheets: list[Sheet]
    magic_link_url: str  # the console page of a new import through this company


class UploadCreate(msgspec.Struct):
    name: Text
    content_type: Text
    size: Annotated[int, Meta(ge=0)]


class UploadSlot(msgspec.Struct):
    upload_url: str
    upload_ref: str


class UploadDone(msgspec.Struct):
    upload_ref: str
    size: int


class RunFile(msgspec.Struct):
    name: Text
    upload_ref: Text


class RunCreate(msgspec.Struct):
    files: Annotated[list[RunFile], Meta(max_length=100)] | None = None
    rows: Annotated[list[dict[str, Any]], Meta(max_length=MAX_INLINE_ROWS)] | None = None
    idempotency_key: Text | None = None

    # For the published document (openapi_document.py): files or rows, as the run refuses.
    schema_rules: ClassVar[dict[str, Any]] = {"allOf": [
        {"if": {"required": ["files"], "properties": {"files": {"type": "array"}}},
         "then": {"not": {"required": ["rows"], "properties": {"rows": {"type": "array"}}}},
         "else": {"required": ["rows"], "properties": {"rows": {"type": "array"}}}}]}


class RunCreated(msgspec.Struct):
    run_id: str
    status: str
    poll_url: str


class SheetCount(msgspec.Struct):
    templateName: str  # noqa: N815 - 003's spelling
    sheetId: str  # noqa: N815
    rowCount: int  # noqa: N815


class Report(msgspec.Struct):
    inserted: int
    perSheet: list[SheetCount]  # noqa: N815
    invalidCellCount: int  # noqa: N815
    coverage: dict[str, Any] | None


class Option(msgspec.Struct):
    id: str
    label: str


class Target(msgspec.Struct):
    sheet_id: str
    column: str | None
    affected_count: int
    sample_values: list[Any]
    error: str | None


class Question(msgspec.Struct):
    id: str
    prompt: str
    context: str
    target: Target
    relevant_columns: list[str]
    options: list[Option]
    allow_custom: bool


class Patch(msgspec.Struct):
    summary: str
    actions: list[dict[str, Any]]


class Attention(msgspec.Struct):
    questions: list[Question]
    proposed_patch: Patch


class Run(msgspec.Struct, omit_defaults=True):
    run_id: str
    status: Literal["queued", "running", "needs_attention", "completed", "failed", "canceled"]
    created_at: str
    progress_message: str | None = None
    report: Report | None = None
    needs_attention: Attention | None = None
    error: str | None = None


class Answer(msgspec.Struct):
    id: Text
    option_id: Text | None = None
    value: Any = None


_ACCEPT = {"required": ["accept"], "properties": {"accept": {"const": True}}}
_ANSWERS = {"required": ["answers"], "properties": {"answers": {"type": "array", "minItems": 1}}}
_REJECT = {"required": ["reject"], "properties": {"reject": {"const": True}}}


class Decision(msgspec.Struct):
    accept: bool | None = None
    answers: list[Answer] | None = None
    reject: bool | None = None

    # Exactly one of them said (true, or answers given), as _chosen refuses otherwise.
    schema_rules: ClassVar[dict[str, Any]] = {"allOf": [
        {"if": _ACCEPT, "then": {"not": {"anyOf": [_ANSWERS, _REJECT]}},
         "else": {"if": _ANSWERS, "then": {"not": _REJECT}, "else": _REJECT}}]}


class Decided(msgspec.Struct):
    run_id: str
    status: str


class VernError(msgspec.Struct, omit_defaults=True):
    error: str
    run_id: str | None = None


# -- translation -------------------------------------------------------------------------------


def _company(config: Any, magic_link_url: str) -> Company:
    return Company(company=CompanyRef(id=config.id, external_id=config.external_id),
                   workbook_id=workbook_id(config.id),
                   sheets=[Sheet(id=sheet_id(config.id), name=config.object_name,
                                 template_id=config.object_name)],
                   magic_link_url=magic_link_url)


def kind(change: dict[str, Any]) -> str:
    found = change.get("kind")
    if found is None:
        found = next((k for key, k in _LEGACY_KINDS if key in change), None)
    return str(found)


def _said(change: dict[str, Any]) -> str:
    k = kind(change)
    if k == "date_format":
        return f"Read the dates as {change.get('dateFormat')}"
    if k == "number_format":
        return f"Read the numbers as {change.get('numberFormat')}"
    if k == "enum_map":
        pairs = ", ".join(f"{a!r} → {b!r}" for a, b in (change.get("enumMap") or {}).items())
        return f"Map the values {pairs}"
    if k == "boolean_words":
        return (f"Read {', '.join(change.get('trueWords') or [])} as true and "
                f"{', '.join(change.get('falseWords') or [])} as false")
    if k == "set_value":
        return f"Set the value to {change.get('value')!r}"
    if k == "column_remap":
        return f"Read this field from the column {change.get('sourceColumn')!r}"
    return "Leave the rows that still fail out"


def _options(changes: list[dict[str, Any]], field: str) -> list[tuple[str, dict[str, Any] | None]]:
    """(option id, change) for a field's alternatives, then the option to leave its rows out."""
    mine = [c for c in changes if c.get("field") == field and kind(c) != "delete_invalid_rows"]
    return [*((f"{field}:{i}", c) for i, c in enumerate(mine)), (SKIP, None)]


def _fields(proposal: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for change in proposal.get("changes") or []:
        if change.get("field") and kind(change) != "delete_invalid_rows":
            seen.setdefault(change["field"], None)
    return list(seen)


def patch_changes(proposal: dict[str, Any]) -> list[dict[str, Any]]:
    """The proposed patch: each field's change that recovers most rows (alternatives exclude
    one another), and leaving out what still fails."""
    best: dict[str, dict[str, Any]] = {}
    rest = []
    for change in proposal.get("changes") or []:
        field = change.get("field")
        if kind(change) == "delete_invalid_rows" or not field:
            rest.append(change)
        elif field not in best or (change.get("recoversRows") or 0) > (best[field].get("recoversRows") or 0):
            best[field] = change
    return [*best.values(), *rest]


def _action(company_id: str, change: dict[str, Any], columns: dict[str, Any]) -> dict[str, Any]:
    k = kind(change)
    field = change.get("field")
    action: dict[str, Any] = {"sheet_id": sheet_id(company_id),
                              "column": (columns.get(field) or {}).get("column") or field,
                              "action": ACTIONS.get(k, k)}
    detail = {"date_format": ("format", change.get("dateFormat")),
              "number_format": ("format", change.get("numberFormat")),
              "boolean_words": ("format", {"true": change.get("trueWords"),
                                           "false": change.get("falseWords")}),
              "enum_map": ("mapping", change.get("enumMap")),
              "set_value": ("value", change.get("value")),
              "column_remap": ("from_column", change.get("sourceColumn")),
              "delete_invalid_rows": ("count", change.get("deletesRows"))}.get(k)
    if detail is not None:
        action[detail[0]] = detail[1]
    if k == "delete_invalid_rows":
        action["column"] = None
    action["recovers_rows"] = change.get("recoversRows")
    return action


def _attention(company_id: str, doc: dict[str, Any]) -> Attention:
    proposal = doc.get("proposal") or {}
    changes = proposal.get("changes") or []
    columns = doc.get("attention") or {}
    questions = []
    for field in _fields(proposal):
        seen = columns.get(field) or {}
        column = seen.get("column") or field
        options = _options(changes, field)
        questions.append(Question(
            id=field,
            prompt=f"{seen.get('rows', 0)} rows have a value in '{column}' that cannot be read as {field}."
                   " How should it be read?",
            context=f"Failing values such as {', '.join(map(repr, seen.get('samples') or []))}"
                    if seen.get("samples") else "",
            target=Target(sheet_id=sheet_id(company_id), column=column,
                          affected_count=int(seen.get("rows") or 0),
                          sample_values=list(seen.get("samples") or []), error=seen.get("message")),
            relevant_columns=[column],
            options=[Option(id=oid, label=_said(c) if c else "Leave these rows out")
                     for oid, c in options],
            allow_custom=True,
        ))
    patch = patch_changes(proposal)
    recovers = sum(c.get("recoversRows") or 0 for c in patch)
    return Attention(questions=questions, proposed_patch=Patch(
        summary=f"{len(patch)} change(s) recover {recovers} of {proposal.get('invalidRows', 0)} "
                "rejected rows",
        actions=[_action(company_id, c, columns) for c in patch]))


def _report(company_id: str, doc: dict[str, Any]) -> Report:
    merged = sum(doc.get(k) or 0 for k in ("mergedInserts", "mergedUpdates", "mergedUnchanged",
                                           "mergedDeletes"))
    return Report(inserted=merged,
                  perSheet=[SheetCount(templateName=doc["objectName"], sheetId=sheet_id(company_id),
                                       rowCount=doc["readRows"])],
                  invalidCellCount=doc["invalidRows"], coverage=doc.get("profile"))


def _progress(doc: dict[str, Any]) -> str:
    if doc["state"] != "running":
        return "Waiting for a worker"
    progress = doc.get("progress") or {}
    if doc.get("stage") == "merging":
        return f"Importing: {progress.get('rowsMerged', 0)} of {doc['validRows']} valid rows written"
    return f"Validating: {progress.get('rowsValidated', 0)} rows checked"


def _run(company_id: str, doc: dict[str, Any]) -> Run:
    word = WORDS.word(doc["state"], doc.get("stage"))
    run = Run(run_id=doc["jobId"], status=word, created_at=doc["createdAt"])  # type: ignore[arg-type]
    if word in ("queued", "running"):
        run.progress_message = _progress(doc)
    elif word == "needs_attention":
        run.report = _report(company_id, doc)
        run.needs_attention = _attention(company_id, doc)
    elif word == "completed":
        run.report = _report(company_id, doc)
    elif word == "failed":
        run.error = doc.get("errorMessage")
    return run


def _chosen(decision: Decision) -> Any:
    """The changes a decision picks from a proposal (a function of the proposal)."""
    given = [x for x in (decision.accept, decision.answers, decision.reject) if x]
    if len(given) != 1:
        raise RequestInvalid('give exactly one of {"accept": true}, {"answers": […]} or {"reject": true}')
    if decision.reject:
        return lambda proposal: []
    if decision.accept:
        return patch_changes
    answers = decision.answers or []

    def answered(proposal: dict[str, Any]) -> list[dict[str, Any]]:
        changes = proposal.get("changes") or []
        fields = _fields(proposal)
        chosen = []
        for answer in answers:
            if answer.id not in fields:
                raise RequestInvalid(f"no question {answer.id!r}; the questions are {', '.join(fields)}")
            if answer.option_id is not None:
                options = dict(_options(changes, answer.id))
                if answer.option_id not in options:
                    raise RequestInvalid(f"question {answer.id!r} has no option {answer.option_id!r}")
                if options[answer.option_id] is not None:
                    chosen.append(options[answer.option_id])
            elif answer.value is not None:
                chosen.append({"kind": "set_value", "field": answer.id, "value": answer.value})
            else:
                raise RequestInvalid(f"answer {answer.id!r} needs an option_id or a value")
        return chosen

    return answered


def _run_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _NotFound(f"run {value} not found") from None


class _NotFound(ApiError):
    code = "NOT_FOUND"


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    wanted = sorted({400, 401, 403, 404, 429, *statuses})
    return {s: ResponseSpec(data_container=VernError, description=f'{{"error": …}} ({s})')
            for s in wanted}


# -- routes ------------------------------------------------------------------------------------


class CompaniesController(Controller):
    path = "/api/v1/companies"

    @post("/", operation_id="vernCreateCompany", guards=[requires(WRITE)], status_code=201,
          responses={200: ResponseSpec(data_container=Company, description="The company made"
                                       " before for this external_id"), **_errors()},
          summary="Create a company (an import configuration); the same external_id again is 200")
    async def create(self, request: Request, services: Svc,
                     data: JSONBody[CompanyCreate]) -> Response[Company]:
        config, created = await blocking(services.lading.runs.provision, request.user.workspace,
                                         data.external_id, data.name, data.template_ids[0], data.source)
        link = services.absolute(request, configuration_import_path(config.id))
        return Response(_company(config, link), status_code=201 if created else 200)

    @post("/{company_id:str}/uploads", operation_id="vernCreateUpload", guards=[requires(WRITE)],
          status_code=201, responses=_errors(413), summary="A single-use upload URL for one file")
    async def create_upload(self, request: Request, services: Svc, company_id: FromPath[str],
                            data: JSONBody[UploadCreate]) -> UploadSlot:
        workspace = request.user.workspace
        staged = await blocking(services.lading.runs.stage_upload, workspace, company_id, data.name,
                                data.content_type, data.size)
        signed = services.signer.sign("PUT", BASE + UPLOAD_PATH.format(company_id=company_id, ref=staged.ref),
                                      workspace, STAGED_UPLOAD_TTL_SECONDS)
        return UploadSlot(upload_url=services.absolute(request, signed.path_and_query),
                          upload_ref=staged.ref)

    @post("/{company_id:str}/imports", operation_id="vernCreateRun", guards=[requires(WRITE)],
          status_code=201,
          responses={200: ResponseSpec(data_container=RunCreated, description="The run made before"
                                       " with this idempotency_key"), **_errors(409, 413)},
          summary="Start a run over uploaded files (read in order as one source) or rows")
    async def create_run(self, request: Request, services: Svc, company_id: FromPath[str],
                         data: JSONBody[RunCreate]) -> Response[RunCreated]:
        if (data.files is None) == (data.rows is None):
            raise RequestInvalid("give either files or rows")
        files = [(f.name, f.upload_ref) for f in data.files] if data.files is not None else None
        doc, created = await blocking(services.lading.runs.start_run, request.user.workspace,
                                      company_id, files=files, rows=data.rows,
                                      idempotency_key=data.idempotency_key)
        job_id = doc["jobId"]
        poll = services.absolute(request, f"{BASE}/api/v1/companies/{company_id}/imports/{job_id}")
        return Response(RunCreated(run_id=job_id, status=WORDS.word(doc["state"], doc.get("stage")),
                                   poll_url=poll), status_code=201 if created else 200)

    @get("/{company_id:str}/imports/{run_id:str}", operation_id="vernGetRun", guards=[requires(READ)],
         responses=_errors(), summary="A run, by status (poll_url)")
    async def get_run(self, request: Request, services: Svc, company_id: FromPath[str],
                      run_id: FromPath[str]) -> Run:
        doc = await blocking(services.lading.runs.run, request.user.workspace, company_id,
                             _run_id(run_id))
        return _run(company_id, doc)

    @post("/{company_id:str}/imports/{run_id:str}/decisions", operation_id="vernDecide",
          guards=[requires(WRITE)], status_code=200, responses=_errors(409),
          summary="Decide on a run at needs_attention: accept, answers or reject")
    async def decide(self, request: Request, services: Svc, company_id: FromPath[str],
                     run_id: FromPath[str], data: JSONBody[Decision]) -> Decided:
        choose = _chosen(data)
        doc = await blocking(services.lading.runs.decide, request.user.workspace, company_id,
                             _run_id(run_id), choose)
        return Decided(run_id=doc["jobId"], status=WORDS.word(doc["state"], doc.get("stage")))

    @get("/{company_id:str}/export.csv", operation_id="vernExport", guards=[requires(READ)],
         media_type="text/csv", responses=_errors(),
         summary="The latest completed run's rows: valid (default), invalid or all")
    async def export(self, request: Request, services: Svc, company_id: FromPath[str],
                     filter: FromQuery[Literal["valid", "invalid", "all"]] = "valid",  # noqa: A002
                     sheet_id_: Annotated[str | None, QueryParameter(name="sheet_id")] = None) -> Stream:
        if sheet_id_ is not None and sheet_id_ != sheet_id(company_id):
            raise RequestInvalid(f"sheet {sheet_id_} is not this company's sheet")
        path = await blocking(_export, services, request.user.workspace, company_id, filter)
        return Stream(_file_chunks(path), media_type="text/csv",
                      headers={"Content-Disposition": f'attachment; filename="export-{filter}.csv"'})


def _export(services: Services, workspace: str, company_id: str, which: str) -> Path:
    """The CSV written to a temporary file (never whole in memory), removed once sent."""
    fd, name = tempfile.mkstemp(prefix="lading-vern-export-", suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as out:
            services.lading.runs.export(workspace, company_id, which, out)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    try:
        with open(path, "rb") as fh:
            while block := await anyio.to_thread.run_sync(fh.read, 1 << 16):
                yield block
    finally:
        path.unlink(missing_ok=True)


class UploadsController(Controller):
    path = "/uploads"

    @put("/{company_id:str}/{ref:str}", operation_id="vernPutUpload", status_code=200,
         opt={EXCLUDE_FROM_AUTH: True}, security=[{}], responses=_errors(409, 413),
         operation_class=raw_body("application/octet-stream",
                                  "The file's bytes, with the Content-Type declared for the upload"),
         summary="The signed upload URL: PUT the file once, with its declared Content-Type")
    async def upload(self, request: Request, services: Svc, company_id: FromPath[str],
                     ref: FromPath[str]) -> UploadDone:
        query = request.query_params
        workspace = services.signer.verify("PUT", request.url.path, query.get("ws"),
                                           query.get("expires"), query.get("signature"))
        length = request.headers.get("content-length")
        staged = await services.lading.runs.receive_upload(
            workspace, company_id, ref, request.headers.get("content-type") or "", request.stream(),
            int(length) if length and length.isdigit() else None)
        return UploadDone(upload_ref=staged.ref, size=staged.size)


def _error_body(failure: Failure) -> tuple[Any, str]:
    if failure.status == 429:
        return {"error": "Too many requests"}, "application/json"
    if failure.status == 401:
        return {"error": "Invalid or missing x-api-key"}, "application/json"
    body: dict[str, Any] = {"error": failure.message}
    details = failure.details if isinstance(failure.details, dict) else {}
    if failure.status == 409 and details.get("jobId"):
        body["run_id"] = details["jobId"]  # the run still going
    return body, "application/json"


API = CompatApi(
    name="compat: Vern",
    prefix=BASE,
    credentials=(X_API_KEY,),
    error_body=_error_body,
    controllers=(CompaniesController, UploadsController),
    unauthorized_message="Invalid or missing x-api-key",
    security=({"apiKey": []},),
)
