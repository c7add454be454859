"""/v1/objects: the destination objects (Table Schemas) and their records."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter

from lading.application.status_view import public_status
from lading.entrypoints.http.auth import ADMIN, READ, WRITE, Identity, requires
from lading.entrypoints.http.cursors import decode_cursor, encode_cursor
from lading.entrypoints.http.envelope import Envelope, ok, replayed
from lading.entrypoints.http.errors import RequestInvalid, error_responses
from lading.entrypoints.http.imports import start_or_explain
from lading.entrypoints.http.schemas import (
    JobStatus,
    MappingSuggestion,
    ObjectCreate,
    ObjectInfo,
    ObjectSummary,
    RecordPage,
    RecordsWrite,
    SuggestMappingRequest,
)
from lading.entrypoints.http.services import Svc, blocking

ObjectName = Annotated[str, PathParameter(max_length=200)]


class ObjectsController(Controller):
    path = "/v1/objects"
    tags = ["objects"]

    @get("/", operation_id="listObjects", guards=[requires(READ)], responses=error_responses(),
         summary="The workspace's objects and their Table Schemas")
    async def list_objects(self, request: Request, services: Svc) -> Envelope[list[ObjectSummary]]:
        return ok(request, await blocking(services.objects.list_objects, request.user.workspace))

    @post("/", operation_id="createObject", guards=[requires(ADMIN)], status_code=201,
          responses={**error_responses(409), **replayed(Envelope[ObjectInfo])},
          summary="Add an object (admin): its Table Schema, and its table in the destination")
    async def create(self, request: Request, services: Svc,
                     data: JSONBody[ObjectCreate]) -> Response[Envelope[ObjectInfo]]:
        identity: Identity = request.user
        info, created = await blocking(services.objects.add_object, identity.workspace,
                                       data.name, data.schema)
        return Response(ok(request, info), status_code=201 if created else 200)

    @get("/{name:str}", operation_id="getObject", guards=[requires(READ)],
         responses=error_responses(404), summary="One object: its schema and record count")
    async def get_object(self, request: Request, services: Svc,
                         name: ObjectName) -> Envelope[ObjectInfo]:
        return ok(request, await blocking(services.objects.object_info, request.user.workspace, name))

    @get("/{name:str}/records", operation_id="listRecords", guards=[requires(READ)],
         responses=error_responses(404),
         summary="The object's stored records, in key order, a page at a time (cursor pagination)")
    async def records(self, request: Request, services: Svc, name: ObjectName,
                      limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 100,
                      cursor: FromQuery[str | None] = None) -> Envelope[RecordPage]:
        after = _record_key(cursor) if cursor else None
        rows, last = await blocking(services.objects.record_page, request.user.workspace, name,
                                    limit, after)
        return ok(request, {"objectName": name, "records": rows, "count": len(rows),
                            "nextCursor": None if last is None else encode_cursor(list(last))})

    @post("/{name:str}/records", operation_id="writeRecords", guards=[requires(WRITE)],
          status_code=202, request_max_body_size=64 * 1024 * 1024,
          responses={**error_responses(404, 409, 413, 422), **replayed(Envelope[JobStatus])},
          summary="Write up to 10,000 rows inline; they run as an import job (202: queued)")
    async def write(self, request: Request, services: Svc, name: ObjectName,
                    data: JSONBody[RecordsWrite]) -> Response[Envelope[JobStatus]]:
        workspace = request.user.workspace
        mapping = {k: v for k, v in (("operation", data.operation), ("importMode", data.import_mode),
                                     ("reviewPolicy", data.review_policy)) if v is not None}
        job_id, created = await blocking(
            services.jobs.submit_rows, workspace, name, data.rows, mapping,
            source=data.source or "records-api", labels=data.labels,
            idempotency_key=data.idempotency_key, start=False,
        )
        if not created:
            status = public_status(await blocking(services.jobs.status, workspace, job_id))
            return Response(ok(request, status), status_code=200)
        return Response(ok(request, await start_or_explain(services, workspace, job_id)),
                        status_code=202)

    @post("/{name:str}/suggest-mapping", operation_id="suggestMapping", guards=[requires(READ)],
          status_code=200, request_max_body_size=8 * 1024 * 1024, responses=error_responses(404),
          summary="Suggest a fieldMap for a sample of a file, with a confidence and reason per column")
    async def suggest_mapping(self, request: Request, services: Svc, name: ObjectName,
                              data: JSONBody[SuggestMappingRequest]) -> Envelope[MappingSuggestion]:
        sample = data.sample.encode("utf-8") if data.sample is not None else None
        return ok(request, await blocking(
            services.suggestions.suggest, request.user.workspace, name, header=data.header,
            rows=data.rows, sample=sample, file_name=data.file_name or "sample.csv"))


def _record_key(cursor: str) -> list[Any]:
    """The key a records cursor holds: the last record's primary-key values, in key order."""
    value = decode_cursor(cursor)
    if isinstance(value, list) and value:
        return value
    raise RequestInvalid("cursor is not one this API returned")
