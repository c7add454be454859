"""/v1/audiences: dynamic audiences, "the records whose last write came from this job"
(createAudience + audienceName), evaluated each time they are read."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import FromQuery, PathParameter, QueryParameter

from lading.entrypoints.http.auth import READ, requires
from lading.entrypoints.http.cursors import encode_cursor, page_of
from lading.entrypoints.http.envelope import Envelope, ok
from lading.entrypoints.http.errors import error_responses
from lading.entrypoints.http.lists import created_position, member_position
from lading.entrypoints.http.schemas import AudienceInfo, AudienceMemberPage, AudiencePage
from lading.entrypoints.http.services import Svc, blocking

AudienceId = Annotated[str, PathParameter(max_length=200)]


class AudiencesController(Controller):
    path = "/v1/audiences"
    tags = ["audiences"]

    @get("/", operation_id="listAudiences", guards=[requires(READ)], responses=error_responses(),
         summary="The workspace's audiences, oldest first (cursor pagination)")
    async def list_audiences(
        self, request: Request, services: Svc,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> Envelope[AudiencePage]:
        found = await blocking(services.jobs.audiences, request.user.workspace,
                               created_position(cursor), limit + 1)
        items, next_cursor = page_of(found, limit,
                                     lambda a: encode_cursor([a["createdAt"], a["audienceId"]]))
        return ok(request, AudiencePage(items=items, next_cursor=next_cursor))  # type: ignore[arg-type]

    @get("/{audience_id:str}", operation_id="getAudience", guards=[requires(READ)],
         responses=error_responses(404),
         summary="One audience: name, object, job and its member count now")
    async def get_audience(self, request: Request, services: Svc,
                           audience_id: AudienceId) -> Envelope[AudienceInfo]:
        return ok(request, await blocking(services.jobs.find_audience, request.user.workspace,
                                          audience_id))

    @get("/{audience_id:str}/members", operation_id="listAudienceMembers", guards=[requires(READ)],
         responses=error_responses(404),
         summary="The records whose last write came from the audience's job (their primary "
                 "keys), in key-text order")
    async def members(
        self, request: Request, services: Svc, audience_id: AudienceId,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        cursor: FromQuery[str | None] = None,
    ) -> Envelope[AudienceMemberPage]:
        found = await blocking(services.jobs.audience_members, request.user.workspace, audience_id,
                               member_position(cursor), limit + 1)
        members, next_cursor = page_of(found, limit, encode_cursor)
        return ok(request, AudienceMemberPage(audience_id=audience_id, members=members,
                                              next_cursor=next_cursor))
