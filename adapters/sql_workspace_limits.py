"""Workspaces' own limits, one JSON document a workspace, beside the object catalog and the API
keys in the destination's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from lading.adapters.sql_connection import SqlConnection
from lading.domain.timestamps import now_utc

_SCHEMA = """create table if not exists lading_workspace_limits (
    workspace text primary key, limits_json text not null, updated_at text not null)"""


class SqlWorkspaceLimits:
    """WorkspaceLimitStore in a SQLite file or a PostgreSQL database (URL)."""

    def __init__(self, target: str | Path) -> None:
        self._db = SqlConnection(target)
        with self._db.transaction() as db:
            if db.is_postgres:
                # Concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL's catalogs.
                db.execute("select pg_advisory_xact_lock(hashtext('lading-ddl:workspace-limits'))")
            db.execute(_SCHEMA)

    def overrides(self, workspace: str) -> dict[str, int]:
        rows = self._db.execute(
            "select limits_json from lading_workspace_limits where workspace = ?", (workspace,))
        return dict(json.loads(rows[0][0])) if rows else {}

    def set_overrides(self, workspace: str, overrides: dict[str, int]) -> None:
        with self._db.transaction() as db:
            if not overrides:
                db.execute("delete from lading_workspace_limits where workspace = ?", (workspace,))
                return
            db.execute(
                "insert into lading_workspace_limits (workspace, limits_json, updated_at)"
                " values (?, ?, ?) on conflict (workspace) do update"
                " set limits_json = excluded.limits_json, updated_at = excluded.updated_at",
                (workspace, json.dumps(overrides, sort_keys=True), now_utc()))

    def close(self) -> None:
        self._db.close()
