"""`GET /v1/import-jobs/{jobId}?asOfVersion=N` and `?asOf=TIMESTAMP`: the status as it was."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar.params import QueryParameter

from lading.application.status_view import public_status
from lading.entrypoints.http.errors import RequestInvalid
from lading.entrypoints.http.services import Services, blocking

AsOfVersion = Annotated[int | None, QueryParameter(
    name="asOfVersion", ge=1, description="The status as it was after this event (1 … the status's version)")]
AsOf = Annotated[str | None, QueryParameter(
    name="asOf", description="The status after the last event at or before this ISO 8601 instant")]


async def status_as_of(services: Services, workspace: str, job_id: UUID, version: int | None,
                       instant: str | None, detailed_report: bool) -> dict[str, Any]:
    if detailed_report:  # its samples come from the error file as it is now, not as it was
        raise RequestInvalid("includeDetailedReport cannot be combined with asOfVersion or asOf")
    doc = await blocking(services.lading.time_travel.status_as_of, workspace, job_id,
                         version=version, instant=instant)
    return public_status(doc)
