"""Pages of lists and audiences, and of their members, as both destinations read them: one home
for what a page holds and its order (by creation, then id; members by key text). Each
destination runs the statements on its own connection, with its own placeholders
(`CollectionPages`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lading.adapters.sql_naming import AUDIENCES_TABLE, LIST_MEMBERS_TABLE, LISTS_TABLE, RECORD_WRITERS_TABLE


@dataclass(frozen=True)
class Placeholders:
    value: str  # a bound value
    instant: str  # a bound instant, compared with a creation time


SQLITE = Placeholders("?", "?")
POSTGRES = Placeholders("%s", "%s::timestamptz")

Query = tuple[str, list[Any]]


def _lists_page(p: Placeholders, workspace: str, after: tuple[str, str] | None, limit: int,
               list_id: str | None = None) -> Query:
    """Rows of (list_id, name, object_name, created_at, member count)."""
    where, args = _page_filter(p, "l", "list_id", workspace, after, list_id)
    sql = (f"select l.list_id, l.name, l.object_name, l.created_at,"
           f" (select count(*) from {LIST_MEMBERS_TABLE} m where m.list_id = l.list_id)"
           f" from {LISTS_TABLE} l where {where}"
           f" order by l.created_at, l.list_id limit {p.value}")
    return sql, [*args, limit]


def _list_members_page(p: Placeholders, workspace: str, list_id: str, after: str | None,
                      limit: int) -> Query:
    """Rows of (member_key,)."""
    sql = (f"select m.member_key from {LIST_MEMBERS_TABLE} m join {LISTS_TABLE} l"
           f" on l.list_id = m.list_id and l.workspace = {p.value}"
           f" where m.list_id = {p.value} and m.member_key > {p.value}"
           f" order by m.member_key limit {p.value}")
    return sql, [workspace, list_id, after or "", limit]


def _audiences_page(p: Placeholders, workspace: str, after: tuple[str, str] | None, limit: int,
                   audience_id: str | None = None) -> Query:
    """Rows of (audience_id, name, object_name, job_id, created_at, member count)."""
    where, args = _page_filter(p, "a", "audience_id", workspace, after, audience_id)
    sql = (f"select a.audience_id, a.name, a.object_name, a.job_id, a.created_at,"
           f" (select count(*) from {RECORD_WRITERS_TABLE} w where w.job_id = a.job_id"
           "   and w.workspace = a.workspace and w.object_name = a.object_name)"
           f" from {AUDIENCES_TABLE} a where {where}"
           f" order by a.created_at, a.audience_id limit {p.value}")
    return sql, [*args, limit]


def _audience_members_page(p: Placeholders, workspace: str, audience_id: str, after: str | None,
                          limit: int) -> Query:
    """Rows of (member_key,): the keys the audience's job wrote last."""
    sql = (f"select w.member_key from {RECORD_WRITERS_TABLE} w join {AUDIENCES_TABLE} a"
           " on a.job_id = w.job_id and a.workspace = w.workspace"
           " and a.object_name = w.object_name"
           f" where a.workspace = {p.value} and a.audience_id = {p.value}"
           f" and w.member_key > {p.value} order by w.member_key limit {p.value}")
    return sql, [workspace, audience_id, after or "", limit]


def _list_infos(rows: list[tuple], instant: Callable[[Any], str]) -> list[dict[str, Any]]:
    """_lists_page's rows as the API shows them, each creation time through `instant`."""
    return [{"listId": i, "name": n, "objectName": o, "createdAt": instant(c), "memberCount": m}
            for i, n, o, c, m in rows]


def _audience_infos(rows: list[tuple], instant: Callable[[Any], str]) -> list[dict[str, Any]]:
    """_audiences_page's rows as the API shows them, each creation time through `instant`."""
    return [{"audienceId": i, "name": n, "objectName": o, "jobId": str(j), "createdAt": instant(c),
             "memberCount": m} for i, n, o, j, c, m in rows]


class CollectionPages:
    """The read side of lists and audiences for a destination that says how it runs a query
    (`_page`), which placeholders it binds and how it shows a stored creation time."""

    _placeholders: Placeholders

    def _page(self, query: Query) -> list[tuple]:
        raise NotImplementedError

    def _instant(self, stored: Any) -> str:
        raise NotImplementedError

    def find_list(self, workspace: str, list_id: str) -> dict[str, Any] | None:
        found = self.lists(workspace, limit=1, list_id=list_id)
        return found[0] if found else None

    def lists(self, workspace: str, after: tuple[str, str] | None = None, limit: int = 50,
              list_id: str | None = None) -> list[dict[str, Any]]:
        rows = self._page(_lists_page(self._placeholders, workspace, after, limit, list_id))
        return _list_infos(rows, self._instant)

    def list_members(self, workspace: str, list_id: str, after: str | None = None,
                     limit: int = 100) -> list[str]:
        query = _list_members_page(self._placeholders, workspace, list_id, after, limit)
        return [key for (key,) in self._page(query)]

    def audiences(self, workspace: str, after: tuple[str, str] | None = None, limit: int = 50,
                  audience_id: str | None = None) -> list[dict[str, Any]]:
        rows = self._page(_audiences_page(self._placeholders, workspace, after, limit, audience_id))
        return _audience_infos(rows, self._instant)

    def audience_members(self, workspace: str, audience_id: str, after: str | None = None,
                         limit: int = 100) -> list[str]:
        query = _audience_members_page(self._placeholders, workspace, audience_id, after, limit)
        return [key for (key,) in self._page(query)]


def _page_filter(p: Placeholders, alias: str, id_column: str, workspace: str,
                 after: tuple[str, str] | None, only: str | None) -> tuple[str, list[Any]]:
    where, args = [f"{alias}.workspace = {p.value}"], [workspace]
    if only is not None:
        where.append(f"{alias}.{id_column} = {p.value}")
        args.append(only)
    if after is not None:
        where.append(f"({alias}.created_at, {alias}.{id_column}) > ({p.instant}, {p.value})")
        args.extend(after)
    return " and ".join(where), args
