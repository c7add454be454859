"""The few JSON calls the console's scripts make, on the session (and CSRF header) instead of
a key: start an upload (the same signed slot as POST /v1/import-jobs), poll progress, predict
validity under a mapping. Answers use the API's envelope and error codes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from lading.application.errors import JobNotFound
from lading.entrypoints.http.console.session import SignedIn
from lading.entrypoints.http.console.pages import job_uuid
from lading.entrypoints.http.envelope import Envelope, Wire, ok
from lading.entrypoints.http.errors import RequestInvalid
from lading.entrypoints.http.jobs import upload_slot
from lading.entrypoints.http.services import Svc, blocking

MAX_POLLED = 100


class NewUpload(Wire, forbid_unknown_fields=True):
    """A file into an object, or through a saved import configuration (which names the object)."""

    file_name: str
    object_name: str | None = None
    configuration_id: str | None = None
    file_size: int = msgspec.field(default=0)


class Prediction(Wire, forbid_unknown_fields=True):
    field_map: dict[str, str]
    import_mode: str = "balanced"


def _progress(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: doc.get(key) for key in (
        "jobId", "state", "stage", "progress", "readRows", "validRows", "invalidRows",
        "mergedInserts", "mergedUpdates", "mergedDeletes", "successRate", "updatedAt")}


def _statuses(jobs: Any, workspace: str, ids: list[str]) -> list[dict[str, Any]]:
    out = []
    for text in ids:
        try:
            out.append(_progress(jobs.status(workspace, job_uuid(text))))
        except JobNotFound:
            continue  # another workspace's id, or a deleted job: it simply is not listed
    return out


class ConsoleApiController(Controller):
    path = "/api"

    @post("/jobs", status_code=201)
    async def create_upload(self, request: Request, services: Svc, writer: SignedIn,
                            data: JSONBody[NewUpload]) -> Response[Envelope[Any]]:
        if data.file_size <= 0:
            raise RequestInvalid("the file is empty: choose a file with a header and rows")
        if (data.object_name is None) == (data.configuration_id is None):
            raise RequestInvalid("choose either an object or a configuration")
        jobs = services.jobs
        if data.configuration_id is not None:
            job_id = await blocking(services.lading.runs.create_upload_job, writer.workspace,
                                    data.configuration_id, data.file_name, data.file_size, "console")
        else:
            job_id, _ = await blocking(jobs.create_job, writer.workspace, data.object_name,
                                       data.file_name, data.file_size, source="console")
        status = await blocking(jobs.status, writer.workspace, job_id)
        landing = await blocking(jobs.upload_slot, writer.workspace, job_id)
        takes_file = await blocking(jobs.takes_file, writer.workspace, job_id)
        slot = upload_slot(services, request, writer.workspace, status, landing, takes_file)
        return Response(ok(request, slot), status_code=201)

    @get("/jobs/progress")
    async def progress(self, request: Request, services: Svc, identity: SignedIn,
                       ids: FromQuery[str] = "") -> Envelope[Any]:
        wanted = [i for i in ids.split(",") if i][:MAX_POLLED]
        return ok(request, await blocking(_statuses, services.jobs, identity.workspace, wanted))

    @post("/jobs/{job_id:str}/predict", status_code=200)
    async def predict(self, request: Request, services: Svc, identity: SignedIn,
                      job_id: FromPath[str],
                      data: JSONBody[Prediction]) -> Envelope[Any]:
        mapping = {"fieldMap": data.field_map, "importMode": data.import_mode}
        return ok(request, await blocking(services.lading.previews.predict, identity.workspace,
                                          job_uuid(job_id), mapping))
