"""The job status / job index read model in SQL (SQLite file or PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lading.adapters.sql_connection import SqlConnection
from lading.application.projections import JobFilter, callback_due, index_row
from lading.domain.lifecycle import ACTIVE_STATES

_SCHEMA = (
    """create table if not exists lading_projection_position (
        name text primary key, position bigint not null)""",
    """create table if not exists lading_job_status (
        job_id text primary key, workspace text not null, state text not null,
        object_name text not null, source text, labels text not null, created_at text not null,
        idempotency_key text, doc text not null)""",
    """create index if not exists lading_job_status_listing
        on lading_job_status (workspace, created_at, job_id)""",
    """create index if not exists lading_job_status_idempotency
        on lading_job_status (workspace, idempotency_key)""",
    # Ended jobs whose callbackUrl is still to be called: what workers deliver (and redeliver
    # after a crash), without scanning every status document.
    """create table if not exists lading_callbacks_due (job_id text primary key)""",
    # The client's Idempotency-Key of each job apart from its payload fingerprint, indexed, so
    # "this key with another payload" is one lookup however many jobs exist (issue 9.14).
    """create table if not exists lading_idempotency_keys (
        job_id text primary key, workspace text not null, idempotency_key text not null)""",
    """create index if not exists lading_idempotency_keys_by_key
        on lading_idempotency_keys (workspace, idempotency_key)""",
)


# The states that count as active come from the lifecycle table, never restated here.
_ACTIVE = ", ".join(f"'{state}'" for state in sorted(ACTIVE_STATES))


class SqlReadModels:
    def __init__(self, url_or_path: str | Path) -> None:
        self._db = SqlConnection(url_or_path)
        with self._db.transaction() as db:
            for statement in _SCHEMA:
                db.execute(statement)

    def position(self, projection: str) -> int:
        rows = self._db.execute(
            "select position from lading_projection_position where name = ?", (projection,)
        )
        return int(rows[0][0]) if rows else 0

    def apply(self, projection: str, expected_position: int, new_position: int,
              docs: dict[str, dict[str, Any]]) -> bool:
        with self._db.transaction() as db:
            db.execute(
                "insert into lading_projection_position (name, position) values (?, 0) "
                "on conflict (name) do nothing",
                (projection,),
            )
            moved = db.rowcount(
                "update lading_projection_position set position = ? where name = ? and position = ?",
                (new_position, projection, expected_position),
            )
            if moved != 1:
                return False
            for job_id, doc in docs.items():
                row = index_row(doc)
                db.execute(
                    "insert into lading_job_status (job_id, workspace, state, object_name, source,"
                    " labels, created_at, idempotency_key, doc) values (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " on conflict (job_id) do update set state = excluded.state,"
                    " source = excluded.source, labels = excluded.labels, doc = excluded.doc",
                    (job_id, row.workspace, row.state, row.object_name, row.source,
                     json.dumps(row.labels), row.created_at, row.idempotency_key,
                     json.dumps(doc, sort_keys=True)),
                )
                if row.idempotency_key:
                    client_key = row.idempotency_key.rpartition("#")[0]  # `key#fingerprint`
                    db.execute("insert into lading_idempotency_keys (job_id, workspace,"
                               " idempotency_key) values (?, ?, ?) on conflict (job_id) do nothing",
                               (job_id, row.workspace, client_key))
                if callback_due(doc):
                    db.execute("insert into lading_callbacks_due (job_id) values (?)"
                               " on conflict (job_id) do nothing", (job_id,))
                else:
                    db.execute("delete from lading_callbacks_due where job_id = ?", (job_id,))
        return True

    def get(self, job_id: str) -> dict[str, Any] | None:
        rows = self._db.execute("select doc from lading_job_status where job_id = ?", (job_id,))
        return json.loads(rows[0][0]) if rows else None

    def list(self, flt: JobFilter) -> list[dict[str, Any]]:
        where = ["workspace = ?", "state <> 'deleted'"]
        params: list[Any] = [flt.workspace]
        if flt.states:
            where.append(f"state in ({', '.join('?' for _ in flt.states)})")
            params.extend(flt.states)
        if flt.object_name:
            where.append("object_name = ?")
            params.append(flt.object_name)
        if flt.source:
            where.append("source = ?")
            params.append(flt.source)
        if flt.created_from:
            where.append("created_at >= ?")
            params.append(flt.created_from)
        if flt.created_to:
            where.append("created_at < ?")
            params.append(flt.created_to)
        if flt.cursor:
            where.append("(created_at < ? or (created_at = ? and job_id < ?))")
            params.extend([flt.cursor[0], flt.cursor[0], flt.cursor[1]])
        sql = (f"select doc, labels from lading_job_status where {' and '.join(where)}"
               " order by created_at desc, job_id desc")
        out: list[dict[str, Any]] = []
        # Labels are a JSON list, filtered here so SQLite and PostgreSQL share one query.
        for doc, labels in self._db.execute(sql, params):
            if flt.label and flt.label not in json.loads(labels):
                continue
            out.append(json.loads(doc))
            if len(out) >= flt.limit:
                break
        return out

    def all_documents(self) -> dict[str, dict[str, Any]]:
        return {job_id: json.loads(doc)
                for job_id, doc in self._db.execute("select job_id, doc from lading_job_status")}

    def count_active(self, workspace: str) -> int:
        rows = self._db.execute(
            f"select count(*) from lading_job_status where workspace = ? and state in ({_ACTIVE})",
            (workspace,),
        )
        return int(rows[0][0])

    def active_job_ids(self) -> list[str]:
        rows = self._db.execute(
            # Fair by workspace (ADR 0080): every workspace's oldest job, then every second...
            f"select job_id from lading_job_status where state in ({_ACTIVE})"
            " order by row_number() over (partition by workspace order by created_at, job_id),"
            " created_at, job_id"
        )
        return [r[0] for r in rows]

    def state_totals(self) -> list[tuple[str, int, int, int, int, int]]:
        """Per job state: (state, jobs, rows read, valid rows, invalid rows, rows merged), from
        the status documents in one query (metrics at scrape time); deleted jobs left out."""
        if self._db.is_postgres:
            def field(name: str) -> str:
                return f"coalesce((doc::jsonb->>'{name}')::bigint, 0)"
        else:
            def field(name: str) -> str:
                return f"coalesce(json_extract(doc, '$.{name}'), 0)"
        merged = " + ".join(field(f) for f in ("mergedInserts", "mergedUpdates", "mergedUnchanged", "mergedDeletes"))
        rows = self._db.execute(
            f"select state, count(*), sum({field('readRows')}), sum({field('validRows')}),"
            f" sum({field('invalidRows')}), sum({merged}) from lading_job_status"
            " where state <> 'deleted' group by state order by state")
        return [(str(r[0]), *(int(v or 0) for v in r[1:])) for r in rows]

    def find_by_idempotency_key(self, workspace: str, key: str) -> dict[str, Any] | None:
        rows = self._db.execute(
            "select doc from lading_job_status where workspace = ? and idempotency_key = ?"
            " and state <> 'deleted' order by created_at limit 1",  # a deleted job holds no key
            (workspace, key),
        )
        return json.loads(rows[0][0]) if rows else None

    def idempotency_key_used(self, workspace: str, idempotency_key: str) -> bool:
        """Whether a job not deleted was created with this Idempotency-Key (any payload)."""
        return bool(self._db.execute(
            "select 1 from lading_idempotency_keys k join lading_job_status s on s.job_id = k.job_id"
            " where k.workspace = ? and k.idempotency_key = ? and s.state <> 'deleted' limit 1",
            (workspace, idempotency_key)))

    def callbacks_due(self) -> list[str]:
        return [job_id for (job_id,) in self._db.execute(
            "select job_id from lading_callbacks_due order by job_id")]

    def clear(self) -> None:
        with self._db.transaction() as db:
            db.execute("delete from lading_callbacks_due")
            db.execute("delete from lading_idempotency_keys")
            db.execute("delete from lading_job_status")
            db.execute("delete from lading_projection_position")

    def close(self) -> None:
        self._db.close()
