"""/v1/objects: the destination objects (Table Schemas) and their records."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from lading.application.status_view import public_status
from lading.domain.table_schema import TableSchema
from lading.entrypoints.http.auth import ADMIN, READ, WRITE, Identity, requires
from lading.entrypoints.http.envelope import Envelope, ok
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
from lading.entrypoints.http.errors import error_responses
from lading.entrypoints.http.services import Svc, blocking

ObjectName = Annotated[str, PathParameter(max_length=200)]


def _create_object(lading: Any, workspace: str, name: str, schema_doc: dict[str, Any]) -> tuple[dict, bool]:
    schema = TableSchema.from_dict(schema_doc)
    existed = lading.catalog.get(workspace, name) is not None
    lading.catalog.add(workspace, name, schema)
    lading.destination.ensure_object(workspace, name, schema)
    count = lading.destination.count_records(workspace, name)
    return {"name": name, "schema": schema.to_dict(), "recordCount": count}, not existed


def _object_info(lading: Any, workspace: str, name: str) -> dict[str, Any]:
    schema = lading.jobs.schema_of(workspace, name)
    return {"name": name, "schema": schema.to_dict(),
            "recordCount": lading.destination.count_records(workspace, name)}


def _objects(lading: Any, workspace: str) -> list[dict[str, Any]]:
    out = []
    for name in lading.catalog.names(workspace):
        schema = lading.catalog.get(workspace, name)
        if schema is not None:
            out.append({"name": name, "schema": schema.to_dict()})
    return out


def _records(lading: Any, workspace: str, name: str, limit: int) -> dict[str, Any]:
    schema = lading.jobs.schema_of(workspace, name)
    rows = list(lading.destination.read_records(workspace, name, schema, limit))
    return {"objectName": name, "records": rows, "count": len(rows)}


class ObjectsController(Controller):
    path = "/v1/objects"
    tags = ["objects"]

    @get("/", operation_id="listObjects", guards=[requires(READ)], responses=error_responses(),
         summary="The workspace's objects and their Table Schemas")
    async def list_objects(self, request: Request, services: Svc) -> Envelope[list[ObjectSummary]]:
        return ok(request, await blocking(_objects, services.lading, request.user.workspace))

    @post("/", operation_id="createObject", guards=[requires(ADMIN)], status_code=201,
          responses=error_responses(409),
          summary="Add an object (admin): its Table Schema, and its table in the destination")
    async def create(self, request: Request, services: Svc,
                     data: JSONBody[ObjectCreate]) -> Response[Envelope[ObjectInfo]]:
        identity: Identity = request.user
        info, created = await blocking(_create_object, services.lading, identity.workspace,
                                       data.name, data.schema)
        return Response(ok(request, info), status_code=201 if created else 200)

    @get("/{name:str}", operation_id="getObject", guards=[requires(READ)],
         responses=error_responses(404), summary="One object: its schema and record count")
    async def get_object(self, request: Request, services: Svc,
                         name: ObjectName) -> Envelope[ObjectInfo]:
        return ok(request, await blocking(_object_info, services.lading, request.user.workspace, name))

    @get("/{name:str}/records", operation_id="listRecords", guards=[requires(READ)],
         responses=error_responses(404), summary="The object's stored records, in key order")
    async def records(self, request: Request, services: Svc, name: ObjectName,
                      limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 100) -> Envelope[RecordPage]:
        return ok(request, await blocking(_records, services.lading, request.user.workspace, name, limit))

    @post("/{name:str}/records", operation_id="writeRecords", guards=[requires(WRITE)],
          status_code=202, request_max_body_size=64 * 1024 * 1024,
          responses=error_responses(404, 409, 413, 422),
          summary="Write up to 10,000 rows inline; they run as an import job (202: queued)")
    async def write(self, request: Request, services: Svc, name: ObjectName,
                    data: JSONBody[RecordsWrite]) -> Response[Envelope[JobStatus]]:
        workspace = request.user.workspace
        jobs = services.jobs
        job_id, created = await blocking(
            jobs.create_job, workspace, name, None, None, source=data.source or "records-api",
            labels=data.labels, idempotency_key=data.idempotency_key, rows=data.rows,
        )
        if not created:
            return Response(ok(request, public_status(await blocking(jobs.status, workspace, job_id))),
                            status_code=200)
        mapping = {k: v for k, v in (("operation", data.operation), ("importMode", data.import_mode),
                                     ("reviewPolicy", data.review_policy)) if v is not None}
        try:
            await blocking(jobs.map, workspace, job_id, mapping)
        except BaseException:
            await blocking(jobs.delete, workspace, job_id)
            raise
        return Response(ok(request, await start_or_explain(services, workspace, job_id)),
                        status_code=202)

    @post("/{name:str}/suggest-mapping", operation_id="suggestMapping", guards=[requires(READ)],
          status_code=200, request_max_body_size=8 * 1024 * 1024, responses=error_responses(404),
          summary="Suggest a fieldMap for a sample of a file, with a confidence and reason per column")
    async def suggest_mapping(self, request: Request, services: Svc, name: ObjectName,
                              data: JSONBody[SuggestMappingRequest]) -> Envelope[MappingSuggestion]:
        sample = data.sample.encode("utf-8") if data.sample is not None else None
        return ok(request, await blocking(
            services.lading.suggestions.suggest, request.user.workspace, name, header=data.header,
            rows=data.rows, sample=sample, file_name=data.file_name or "sample.csv"))
