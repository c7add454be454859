"""The console's pages: jobs, a job, the mapping editor, a new import, objects.

Each handler translates and calls the same application methods as the /v1 handlers, with the
signed-in key's workspace; forms post back here (CSRF-checked) and redirect to the job page.
"""

from __future__ import annotations

from itertools import islice
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect

from lading.application.cohorts import CONFIGURATION_LABEL, campaign_of
from lading.application.errors import JobNotFound
from lading.application.saved_mappings import ConfigurationNotFound, MappingLibrary
from lading.application.projections import JobFilter
from lading.application.status_view import public_status
from lading.domain.errors import DomainError
from lading.domain.plan import IMPORT_MODES, OPERATIONS
from lading.entrypoints.http.auth import Identity
from lading.entrypoints.http.blob_responses import blob_download
from lading.entrypoints.http.console.session import SignedIn
from lading.entrypoints.http.console.error_rows import read_page
from lading.entrypoints.http.console.forms import approval_from_form, mapping_from_form
from lading.entrypoints.http.console.views import TERMINAL, page
from lading.entrypoints.http.jobs import ERRORS_DOWNLOAD_PATH, VALID_ROWS_DOWNLOAD_PATH
from lading.entrypoints.http.results import RESULTS_DOWNLOAD_PATH
from lading.entrypoints.http.services import Services, Svc, blocking
from lading.entrypoints.http.signed_urls import DOWNLOAD_TTL_SECONDS

JOBS_PER_PAGE = 25
RECORDS_PER_PAGE = 50
MODES = tuple(m for m in IMPORT_MODES if m != "custom")
NEW_IMPORT_PATH = "/console/imports/new"


def configuration_import_path(configuration_id: str) -> str:
    """The console's page for a new import through a configuration (Vern's magic link)."""
    return f"{NEW_IMPORT_PATH}?{urlencode({'configuration': configuration_id})}"


def job_uuid(text: str) -> UUID:
    """A job id from the path; anything that is not one is simply not found."""
    try:
        return UUID(text)
    except ValueError:
        raise JobNotFound(text) from None


def _downloads(services: Services, workspace: str, job_id: UUID, has_error_file: bool,
               has_valid_rows: bool, annotated: bool, results: bool) -> list[dict[str, str]]:
    """Signed links, as GET …/errors hands out: whatever the job has to download."""
    out = []
    if has_error_file:
        signed = services.signer.sign("GET", ERRORS_DOWNLOAD_PATH.format(job_id=job_id), workspace,
                                      DOWNLOAD_TTL_SECONDS)
        out.append({"label": "Error file (JSON Lines)", "url": signed.path_and_query,
                    "name": f"{job_id}-errors.jsonl"})
    if has_valid_rows:
        signed = services.signer.sign("GET", VALID_ROWS_DOWNLOAD_PATH.format(job_id=job_id), workspace,
                                      DOWNLOAD_TTL_SECONDS)
        out.append({"label": "Valid rows (CSV)", "url": signed.path_and_query,
                    "name": f"{job_id}-valid-rows.csv"})
    if annotated:
        out.append({"label": "Annotated CSV (every row, _status, _errors)",
                    "url": f"/console/jobs/{job_id}/annotated.csv",
                    "name": f"{job_id}-annotated.csv"})
    if results:
        path = RESULTS_DOWNLOAD_PATH.format(job_id=job_id, file_format="jsonl")
        signed = services.signer.sign("GET", path, workspace, DOWNLOAD_TTL_SECONDS)
        out.append({"label": "Per-row results (JSON Lines)", "url": signed.path_and_query,
                    "name": f"{job_id}-results.jsonl"})
    return out


def _job_page_data(services: Services, workspace: str, job_id: UUID, code: str | None,
                   column: str | None, offset: int) -> dict[str, Any]:
    jobs = services.jobs
    doc = jobs.status(workspace, job_id)
    error_file = jobs.error_file(workspace, job_id)
    return {
        "job": public_status(doc),
        "columns": sorted((doc.get("rejectedByField") or {}).keys()),
        "errors": read_page(error_file, offset, code, column),
        "report": services.reports.report(workspace, job_id),
        "events": jobs.history(workspace, job_id),
        "downloads": _downloads(services, workspace, job_id, error_file is not None,
                                jobs.has_valid_rows(workspace, job_id),
                                services.exports.annotated_ready(workspace, job_id),
                                services.lading.results.ready(workspace, job_id)),
    }


def _object_page_data(objects: Any, workspace: str, name: str, number: int) -> dict[str, Any]:
    info = objects.object_info(workspace, name)
    start = (number - 1) * RECORDS_PER_PAGE
    records = list(islice(objects.records(workspace, name, start + RECORDS_PER_PAGE + 1), start, None))
    schema = info["schema"]
    return {"name": name, "schema": schema, "fields": [f["name"] for f in schema["fields"]],
            "records": records[:RECORDS_PER_PAGE], "more": len(records) > RECORDS_PER_PAGE,
            "page_number": number, "count": info["recordCount"]}


def _objects(objects: Any, workspace: str) -> list[dict[str, Any]]:
    out = []
    for listed in objects.list_objects(workspace):
        info = objects.object_info(workspace, listed["name"])
        out.append({"name": info["name"], "fields": len(info["schema"]["fields"]),
                    "primaryKey": list(info["schema"].get("primaryKey") or []),
                    "records": info["recordCount"]})
    return out


def _object_names(objects: Any, workspace: str) -> list[str]:
    return [o["name"] for o in objects.list_objects(workspace)]


def _configurations(library: MappingLibrary, workspace: str) -> list[dict[str, str]]:
    return [{"id": c.id, "name": c.name, "objectName": c.object_name}
            for c in library.configurations(workspace)]


def _configuration_id(status: dict[str, Any]) -> str | None:
    """The configuration a job was made through (its `configuration:` label), if any."""
    return campaign_of(status, CONFIGURATION_LABEL)


def _preset(library: MappingLibrary, workspace: str, status: dict[str, Any]) -> dict[str, Any] | None:
    """The plan the editor starts from for a job made through a configuration: the
    configuration's name and mapping (None when there is none, or it was deleted since)."""
    configuration_id = _configuration_id(status)
    if configuration_id is None:
        return None
    try:
        config = library.configuration(workspace, configuration_id)
    except ConfigurationNotFound:
        return None
    return {"id": config.id, "name": config.name, "mapping": config.mapping}


class ConsolePagesController(Controller):
    @get("/jobs", name="console-jobs")
    async def jobs(self, services: Svc, identity: SignedIn,
                   job_state: Annotated[str | None, QueryParameter(name="state")] = None,
                   object_name: FromQuery[str | None] = None,
                   after_created: FromQuery[str | None] = None,
                   after_id: FromQuery[str | None] = None) -> Response:
        state = job_state
        flt = JobFilter(workspace=identity.workspace, states=(state,) if state else (),
                        object_name=object_name or None, limit=JOBS_PER_PAGE + 1,
                        cursor=(after_created, after_id) if after_created and after_id else None)
        docs = await blocking(services.jobs.list_jobs, flt)
        objects = await blocking(_object_names, services.objects, identity.workspace)
        more = len(docs) > JOBS_PER_PAGE
        docs = docs[:JOBS_PER_PAGE]
        next_page = ({"state": state or "", "object_name": object_name or "",
                      "after_created": docs[-1]["createdAt"], "after_id": docs[-1]["jobId"]}
                     if more else None)
        return page("jobs.html", identity, jobs=[public_status(d) for d in docs], objects=objects,
                    state=state or "", object_name=object_name or "", next_page=next_page,
                    paged=bool(after_created))

    @get("/jobs/{job_id:str}", name="console-job")
    async def job(self, services: Svc, identity: SignedIn, job_id: FromPath[str],
                  code: FromQuery[str | None] = None, column: FromQuery[str | None] = None,
                  offset: FromQuery[int] = 0) -> Response:
        data = await blocking(_job_page_data, services, identity.workspace, job_uuid(job_id),
                              code or None, column or None, offset)
        return page("job.html", identity, code=code or "", column=column or "", offset=offset,
                    terminal=data["job"]["state"] in TERMINAL, **data)

    @get("/jobs/{job_id:str}/annotated.csv", name="console-annotated")
    async def annotated(self, services: Svc, identity: SignedIn, job_id: FromPath[str]) -> Response:
        """Every source row as read, in order, with `_status` and `_errors`: the file a person
        fixes and imports again (the same file as GET /v1/import-jobs/{jobId}/annotated.csv)."""
        uuid = job_uuid(job_id)
        key = await blocking(services.exports.annotated_blob, identity.workspace, uuid)
        return await blob_download(services, key, f"{uuid}-annotated.csv", "text/csv")

    @post("/jobs/{job_id:str}/cancel", status_code=303)
    async def cancel(self, services: Svc, writer: SignedIn, job_id: FromPath[str]) -> Redirect:
        uuid = job_uuid(job_id)
        await blocking(services.jobs.cancel, writer.workspace, uuid)
        return Redirect(f"/console/jobs/{uuid}", status_code=303)

    @post("/jobs/{job_id:str}/approve", status_code=303)
    async def approve(self, request: Request, services: Svc, writer: SignedIn,
                      job_id: FromPath[str]) -> Redirect:
        uuid = job_uuid(job_id)
        status = await blocking(services.jobs.status, writer.workspace, uuid)
        edits = approval_from_form(status.get("proposal") or {}, await request.form())
        await blocking(services.jobs.approve, writer.workspace, uuid, edits)
        return Redirect(f"/console/jobs/{uuid}", status_code=303)

    @get("/jobs/{job_id:str}/mapping", name="console-mapping")
    async def mapping(self, services: Svc, writer: SignedIn, job_id: FromPath[str]) -> Response:
        uuid = job_uuid(job_id)
        status = await blocking(services.jobs.status, writer.workspace, uuid)
        if not await blocking(services.jobs.awaits_mapping, writer.workspace, uuid):
            return Redirect(f"/console/jobs/{uuid}", status_code=303)  # nothing to map (yet)
        return await self._mapping_page(services, writer, uuid, status, None, 200)

    async def _mapping_page(self, services: Services, writer: Identity, uuid: UUID,
                            status: dict[str, Any], message: str | None, code: int) -> Response:
        preview = await blocking(services.lading.previews.preview, writer.workspace, uuid)
        preset = await blocking(_preset, services.library, writer.workspace, status)
        return page("mapping.html", writer, status_code=code, job=public_status(status),
                    preview=preview, modes=MODES, operations=OPERATIONS, message=message,
                    preset=preset)

    @post("/jobs/{job_id:str}/mapping", status_code=303)
    async def save_mapping(self, request: Request, services: Svc, writer: SignedIn,
                           job_id: FromPath[str]) -> Response:
        uuid = job_uuid(job_id)
        jobs = services.jobs
        status = await blocking(jobs.status, writer.workspace, uuid)
        form = await request.form()
        try:
            given = mapping_from_form(form)
            preset = await blocking(_preset, services.library, writer.workspace, status)
            mapping = await blocking(services.library.resolve, writer.workspace,
                                     status["objectName"], given, None,
                                     preset["id"] if preset else None)
            await blocking(jobs.map, writer.workspace, uuid, mapping)
            if form.get("action") == "start":
                await blocking(jobs.start, writer.workspace, uuid)
        except DomainError as exc:
            if exc.code == "NOT_FOUND":
                raise
            after = await blocking(jobs.status, writer.workspace, uuid)
            return await self._mapping_page(services, writer, uuid, after, str(exc), 422)
        return Redirect(f"/console/jobs/{uuid}", status_code=303)

    @get(NEW_IMPORT_PATH.removeprefix("/console"), name="console-new-import")
    async def new_import(self, services: Svc, writer: SignedIn,
                         object_name: FromQuery[str | None] = None,
                         configuration: FromQuery[str | None] = None) -> Response:
        objects = await blocking(_object_names, services.objects, writer.workspace)
        configurations = await blocking(_configurations, services.library, writer.workspace)
        limits = await blocking(services.jobs.limits_of, writer.workspace)
        return page("new_import.html", writer, objects=objects, chosen=object_name or "",
                    configurations=configurations, chosen_configuration=configuration or "",
                    max_file_size=limits.max_file_size)

    @get("/objects", name="console-objects")
    async def objects(self, services: Svc, identity: SignedIn) -> Response:
        return page("objects.html", identity,
                    objects=await blocking(_objects, services.objects, identity.workspace))

    @get("/objects/{name:str}", name="console-object")
    async def object_page(self, services: Svc, identity: SignedIn, name: FromPath[str],
                          page_number: FromQuery[int] = 1) -> Response:
        data = await blocking(_object_page_data, services.objects, identity.workspace, name,
                              max(page_number, 1))
        return page("object.html", identity, **data)
