"""/v1/lists: the static lists of record keys that imports fill (createList / targetListId)."""

from __future__ import annotations

import json
from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import FromQuery, PathParameter, QueryParameter

from lading.entrypoints.http.auth import READ, requires
from lading.entrypoints.http.cursors import decode_cursor, encode_cursor, page_of
from lading.entrypoints.http.envelope import Envelope, ok
from lading.entrypoints.http.errors import RequestInvalid, error_responses
from lading.entrypoints.http.schemas import ListInfo, ListPage, MemberPage
from lading.entrypoints.http.services import Svc, blocking

ListId = Annotated[str, PathParameter(max_length=200)]


def created_position(cursor: str | None) -> tuple[str, str] | None:
    """The (createdAt, id) a page of lists or audiences starts after."""
    if cursor is None:
        return None
    position = decode_cursor(cursor)
    if isinstance(position, list) and len(position) == 2 and all(isinstance(p, str) for p in position):
        return position[0], position[1]
    raise RequestInvalid("cursor is not one this API returned")


def member_position(cursor: str | None) -> str | None:
    """The member (a primary-key object) a page of list or audience members starts after."""
    if cursor is None:
        return None
    member = decode_cursor(cursor)
    if isinstance(member, dict):
        # The same text the destination stores for the member (key order kept).
        return json.dumps(member, separators=(",", ":"), ensure_ascii=False)
    raise RequestInvalid("cursor is not one this API returned")


class ListsController(Controller):
    path = "/v1/lists"
    tags = ["lists"]

    @get("/", operation_id="listLists", guards=[requires(READ)], responses=error_responses(),
         summary="The workspace's lists, oldest first (cursor pagination)")
    async def list_lists(
        self, request: Request, services: Svc,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> Envelope[ListPage]:
        found = await blocking(services.jobs.lists, request.user.workspace, created_position(cursor),
                               limit + 1)
        items, next_cursor = page_of(found, limit, lambda one: encode_cursor([one["createdAt"], one["listId"]]))
        return ok(request, ListPage(items=items, next_cursor=next_cursor))  # type: ignore[arg-type]

    @get("/{list_id:str}", operation_id="getList", guards=[requires(READ)],
         responses=error_responses(404), summary="One list: name, object and member count")
    async def get_list(self, request: Request, services: Svc, list_id: ListId) -> Envelope[ListInfo]:
        return ok(request, await blocking(services.jobs.find_list, request.user.workspace, list_id))

    @get("/{list_id:str}/members", operation_id="listListMembers", guards=[requires(READ)],
         responses=error_responses(404),
         summary="The list's members (primary keys of the records), in key-text order")
    async def members(
        self, request: Request, services: Svc, list_id: ListId,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        cursor: FromQuery[str | None] = None,
    ) -> Envelope[MemberPage]:
        found = await blocking(services.jobs.list_members, request.user.workspace, list_id,
                               member_position(cursor), limit + 1)
        members, next_cursor = page_of(found, limit, encode_cursor)
        return ok(request, MemberPage(list_id=list_id, members=members, next_cursor=next_cursor))
