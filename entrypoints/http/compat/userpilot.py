"""Userpilot bulk import (SPEC §9.2) under /compat/userpilot/{configurationId}: a multipart file
imported through the configuration, polled as a background job; one import per key at a time."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, MultipartBody

from lading.domain.timestamps import iso_utc
from lading.entrypoints.http.auth import READ, WRITE, Identity, requires
from lading.entrypoints.http.compat.common import (
    TOKEN,
    CompatApi,
    Failure,
    StatusWords,
    text,
)
from lading.entrypoints.http.services import Services, Svc, blocking

PREFIX = "/compat/userpilot"

STATUS = StatusWords(
    {"pending": "queued", "ready": "queued", "queued": "queued", "running": "validating",
     "needs_attention": "processing", "completed": "completed", "reverting": "completed", "reverted": "completed",
     "failed": "failed", "cancelled": "failed"},
    by_stage={("running", "merging"): "processing", ("running", "finalizing"): "processing"},
)
# Validation has read the whole file once the job merges, pauses or ends: total_rows is known.
_ROWS_KNOWN = {"needs_attention", "completed", "reverting", "reverted", "failed", "cancelled"}


class UserpilotImportForm(msgspec.Struct, forbid_unknown_fields=True):
    file: UploadFile


class UserpilotImportAccepted(msgspec.Struct):
    """000's answer to an upload: every value a string, `""` while unknown."""

    job_id: str
    status: str
    filename: str
    file_size: str
    total_rows: str
    start_time: str
    end_time: str
    links: str


class UserpilotBackgroundJob(msgspec.Struct):
    job_id: str
    status: str
    type: str
    filename: str
    file_size: int
    total_rows: int
    completed_rows: int
    elapsed_time: float
    start_time: str
    end_time: str
    links: str


class UserpilotErrorItem(msgspec.Struct):
    error: str
    error_code: str
    message: str
    details: Any = None


class UserpilotErrors(msgspec.Struct):
    errors: list[UserpilotErrorItem]


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    return {s: ResponseSpec(data_container=UserpilotErrors, description=HTTPStatus(s).phrase)
            for s in sorted({400, 401, 403, 429, *statuses})}


def _rows_known(doc: dict[str, Any]) -> bool:
    return doc["state"] in _ROWS_KNOWN or doc.get("stage") in ("merging", "finalizing")


def _status_url(services: Services, request: Request, configuration_id: str, job_id: str) -> str:
    return API.url(services, request, f"/{configuration_id}/v1/background_jobs/{job_id}")


def _elapsed(doc: dict[str, Any]) -> float:
    started = doc.get("startedAt")
    if not started:
        return 0.0
    end = doc.get("finishedAt") or iso_utc(datetime.now().astimezone())
    seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(started)).total_seconds()
    return round(max(seconds, 0.0), 3)


def _completed_rows(doc: dict[str, Any]) -> int:
    if doc["state"] in ("completed", "reverted"):
        return doc["rowsImported"]
    return (doc.get("progress") or {}).get("rowsMerged", 0)


class Imports(Controller):
    path = "/{configuration_id:str}/v1"

    @post("/imports", operation_id="userpilotCreateImport", guards=[requires(WRITE)], status_code=200,
          responses=_errors(404, 409, 413, 422),
          summary="Upload a CSV or NDJSON file (multipart `file`): imported through the configuration")
    async def create(self, request: Request, services: Svc, configuration_id: FromPath[str],
                     data: MultipartBody[UserpilotImportForm]) -> UserpilotImportAccepted:
        identity: Identity = request.user
        workspace = identity.workspace
        try:
            config = await blocking(services.library.configuration, workspace, configuration_id)
            job_id, _ = await blocking(
                services.jobs.submit_file, workspace, config.object_name, data.file.file,
                data.file.filename or "upload", dict(config.mapping),
                source=config.source or "userpilot", labels=config.labels or None,
                # One import per key through this API at a time (a 409 while one is open).
                concurrency_scope=f"userpilot:{identity.subject}",
            )
        finally:
            await data.file.close()
        doc = await blocking(services.jobs.status, workspace, job_id)
        known = _rows_known(doc)
        return UserpilotImportAccepted(
            job_id=doc["jobId"], status=STATUS.word(doc["state"], doc.get("stage")),
            filename=text(doc.get("fileName")), file_size=text(doc.get("fileSize")),
            total_rows=text(doc["readRows"]) if known else "", start_time=text(doc.get("startedAt")),
            end_time=text(doc.get("finishedAt")),
            links=_status_url(services, request, configuration_id, doc["jobId"]),
        )

    @get("/background_jobs/{job_id:uuid}", operation_id="userpilotGetBackgroundJob",
         guards=[requires(READ)], responses=_errors(404), summary="Poll an import")
    async def background_job(self, request: Request, services: Svc, configuration_id: FromPath[str],
                             job_id: FromPath[UUID]) -> UserpilotBackgroundJob:
        doc = await blocking(services.jobs.status, request.user.workspace, job_id)
        return UserpilotBackgroundJob(
            job_id=doc["jobId"], status=STATUS.word(doc["state"], doc.get("stage")),
            type=doc["objectName"], filename=text(doc.get("fileName")),
            file_size=doc.get("fileSize") or 0, total_rows=doc["readRows"],
            completed_rows=_completed_rows(doc), elapsed_time=_elapsed(doc),
            start_time=text(doc.get("startedAt")), end_time=text(doc.get("finishedAt")),
            links=_status_url(services, request, configuration_id, doc["jobId"]),
        )


def error_body(failure: Failure) -> tuple[Any, str]:
    """000's error list: `error` is the HTTP reason, `error_code` Lading's code."""
    item = UserpilotErrorItem(error=HTTPStatus(failure.status).phrase, error_code=failure.code,
                     message=failure.message, details=failure.details)
    return UserpilotErrors(errors=[item]), "application/json"


API = CompatApi(
    name="compat: Userpilot",
    prefix=PREFIX,
    credentials=(TOKEN,),
    error_body=error_body,
    controllers=(Imports,),
    unauthorized_message="an API key is required: Authorization: Token KEY",
    security=({"tokenHeader": []},),
)
