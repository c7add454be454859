"""Pigment import API (SPEC §9.5) under /compat/pigment: push a CSV body to a configuration,
trigger a configuration's sourceUrl, poll the import's status and detailed report; the legacy
ApiPush route too. Errors are RFC 9457 problem details."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Annotated, Any, Literal
from uuid import UUID, NAMESPACE_URL, uuid5

import msgspec
from litestar import Controller, Request, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from lading.application.skipped_rows import RejectionSummary
from lading.entrypoints.http.auth import READ, WRITE, requires
from lading.entrypoints.http.compat.common import (
    BEARER,
    X_PIGMENT_API_KEY,
    CompatApi,
    Failure,
    StatusWords,
    versioned_ids,
)
from lading.entrypoints.http.raw_bodies import raw_body
from lading.entrypoints.http.services import Services, Svc, blocking
from lading.entrypoints.http.transfers import content_length, guarded_stream

PREFIX = "/compat/pigment"

STATUS = StatusWords({
    "pending": "InProgress", "ready": "InProgress", "queued": "InProgress", "running": "InProgress",
    "needs_attention": "InProgress", "completed": "Completed", "reverting": "Completed", "reverted": "Completed",
    "failed": "Failed", "cancelled": "Failed",
})
# Lading's primary row error code -> 004's skipped-data reason.
REASONS = {
    "VALIDATION_TYPE_MISMATCH": "ParsingError", "COERCION_NOT_ALLOWED": "ParsingError",
    "ENCODING_ERROR": "ParsingError", "REQUIRED_FIELD_MISSING": "MissingValue",
    "VALIDATION_CONSTRAINT_VIOLATION": "InvalidValue", "DUPLICATE_KEY": "DuplicateKey",
    "KEY_EXISTS": "KeyExists", "KEY_NOT_FOUND": "KeyNotFound", "MALFORMED_ROW": "MalformedRow",
}

ConfigurationId = Annotated[str, QueryParameter(name="configurationId", min_length=1, max_length=200)]
IncludeReport = Annotated[bool, QueryParameter(name="includedDetailedReport")]
_CSV_BODY = raw_body("text/csv", "The CSV file itself, streamed")


class PigmentImportStarted(msgspec.Struct, rename="camel"):
    import_id: str


class PigmentLegacyPushed(msgspec.Struct):
    tranferLogId: str  # noqa: N815 (004 spells it so)
    nbBytesPushed: int  # noqa: N815


class PigmentErrorDetail(msgspec.Struct):
    name: str
    description: str


class PigmentSkippedData(msgspec.Struct, rename="camel"):
    count: int
    reason: str
    source_column_name: str | None
    samples: list[str]


class PigmentImpactedBlock(msgspec.Struct, rename="camel"):
    block_id: str
    scenario_id: None
    inserted_count: int
    updated_count: int
    deleted_count: int
    skipped_data: list[PigmentSkippedData]


class PigmentSummary(msgspec.Struct, rename="camel"):
    inserted_count: int
    updated_count: int
    deleted_count: int
    skipped_count: int


class PigmentDetailedReport(msgspec.Struct, rename="camel"):
    block_type: Literal["List"]
    summary: PigmentSummary
    impacted_blocks: list[PigmentImpactedBlock]
    auto_created_dimension_modalities: list[str]


class PigmentImportStatus(msgspec.Struct, rename="camel", omit_defaults=True):
    import_id: str
    created_at: str
    completed_at: str | None
    import_status: Literal["InProgress", "Completed", "Failed"]
    errors_details: list[PigmentErrorDetail]
    detailed_report: PigmentDetailedReport | None = None


class PigmentProblem(msgspec.Struct):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    return {s: ResponseSpec(data_container=PigmentProblem, description=HTTPStatus(s).phrase,
                            media_type="application/problem+json")
            for s in sorted({400, 401, 403, 429, *statuses})}


def block_id(workspace: str, object_name: str) -> str:
    """The object's stable UUID: the same object of the same workspace always has the same id."""
    return str(uuid5(NAMESPACE_URL, f"lading:{workspace}:objects:{object_name}"))


def _sample(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def detailed_report(doc: dict[str, Any], rejections: RejectionSummary) -> PigmentDetailedReport:
    # 004 has no unchanged count: a row merged unchanged was updated to the value it had.
    updated = doc["mergedUpdates"] + doc.get("mergedUnchanged", 0)
    skipped = [PigmentSkippedData(count=g.count, reason=REASONS.get(g.code, "InvalidValue"),
                           source_column_name=g.column, samples=[_sample(v) for v in g.values])
               for g in rejections.groups]
    block = PigmentImpactedBlock(block_id=block_id(doc["workspace"], doc["objectName"]), scenario_id=None,
                          inserted_count=doc["mergedInserts"], updated_count=updated,
                          deleted_count=doc["mergedDeletes"], skipped_data=skipped)
    return PigmentDetailedReport(
        block_type="List",
        summary=PigmentSummary(inserted_count=doc["mergedInserts"], updated_count=updated,
                        deleted_count=doc["mergedDeletes"], skipped_count=doc["invalidRows"]),
        impacted_blocks=[block], auto_created_dimension_modalities=[])


def _errors_details(doc: dict[str, Any]) -> list[PigmentErrorDetail]:
    if doc["state"] == "failed":
        return [PigmentErrorDetail(name=doc.get("errorCode") or "INTERNAL",
                            description=doc.get("errorMessage") or "")]
    if doc["state"] == "cancelled":
        return [PigmentErrorDetail(name="CANCELLED", description="the import was cancelled")]
    return []


async def _push(services: Services, request: Request, workspace: str, configuration_id: str,
                file_name: str) -> UUID:
    config = await blocking(services.library.configuration, workspace, configuration_id)
    return await services.uploads.push(
        workspace, config.object_name, dict(config.mapping), guarded_stream(request),
        content_length(request), file_name, source=config.source or "pigment",
        labels=config.labels or None, start=True)


class Imports(Controller):
    @post(["/api/v1/import/push/csv", "/api/import/push/csv"], operation_id=versioned_ids("pigmentPushCsv"),
          guards=[requires(WRITE)], status_code=200, request_max_body_size=None,
          operation_class=_CSV_BODY, responses=_errors(404, 409, 413, 422),
          summary="Push a CSV body to a configuration: created, mapped, started")
    async def push(self, request: Request, services: Svc,
                   configuration_id: ConfigurationId) -> PigmentImportStarted:
        job_id = await _push(services, request, request.user.workspace, configuration_id,
                             "pigment-push.csv")
        return PigmentImportStarted(import_id=str(job_id))

    @post(["/api/v1/import/trigger", "/api/import/trigger"], operation_id=versioned_ids("pigmentTrigger"),
          guards=[requires(WRITE)], status_code=200, responses=_errors(404, 409, 422),
          summary="Import the configuration's sourceUrl as it is now")
    async def trigger(self, request: Request, services: Svc,
                      configuration_id: ConfigurationId) -> PigmentImportStarted:
        job_id = await blocking(services.library.trigger, request.user.workspace, configuration_id)
        return PigmentImportStarted(import_id=str(job_id))

    @get(["/api/v1/import/{import_id:uuid}/status", "/api/import/{import_id:uuid}/status"],
         operation_id=versioned_ids("pigmentImportStatus"), guards=[requires(READ)],
         responses=_errors(404), summary="An import's status, optionally with its detailed report")
    async def status(self, request: Request, services: Svc, import_id: FromPath[UUID],
                     include_report: IncludeReport = False) -> PigmentImportStatus:
        workspace = request.user.workspace
        doc = await blocking(services.jobs.status, workspace, import_id)
        report = None
        if include_report:
            rejections = await blocking(services.reports.rejections, workspace, import_id)
            report = detailed_report(doc, rejections)
        return PigmentImportStatus(import_id=doc["jobId"], created_at=doc["createdAt"],
                            completed_at=doc.get("finishedAt"),
                            import_status=STATUS.word(doc["state"], doc.get("stage")),  # type: ignore[arg-type]
                            errors_details=_errors_details(doc), detailed_report=report)

    @post("/api/importservice/Csv/ApiPush/{configuration_id:str}", operation_id="pigmentLegacyApiPush",
          guards=[requires(WRITE)], status_code=200, request_max_body_size=None,
          operation_class=_CSV_BODY, responses=_errors(404, 409, 413, 422),
          summary="Legacy push (X-Pigment-Api-Key): the CSV body to a configuration")
    async def legacy_push(self, request: Request, services: Svc,
                          configuration_id: FromPath[str]) -> PigmentLegacyPushed:
        workspace = request.user.workspace
        job_id = await _push(services, request, workspace, configuration_id, "pigment-api-push.csv")
        status = await blocking(services.jobs.status, workspace, job_id)
        return PigmentLegacyPushed(tranferLogId=str(job_id), nbBytesPushed=status.get("fileSize") or 0)


def error_body(failure: Failure) -> tuple[Any, str]:
    problem = PigmentProblem(type=f"urn:lading:problem:{failure.code}",
                      title=HTTPStatus(failure.status).phrase, status=failure.status,
                      detail=failure.message)
    return problem, "application/problem+json"


API = CompatApi(
    name="compat: Pigment",
    prefix=PREFIX,
    credentials=(BEARER, X_PIGMENT_API_KEY),
    error_body=error_body,
    controllers=(Imports,),
    unauthorized_message="an API key is required: Authorization: Bearer KEY (or X-Pigment-Api-Key)",
    security=({"bearer": []}, {"pigmentApiKey": []}),
)
