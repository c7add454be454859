"""The PostgreSQL destination: each chunk is COPYed in and merged set-based, in the same
transaction as its ledger row (ADR 0020).

The connection URL may pick the schema with `options=-csearch_path=…`; every table is named
unqualified, so it lands in (and is read from) that schema.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import UTC
from typing import Any
from uuid import UUID

import adbc_driver_manager as adbc_errors
import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg_pool import ConnectionPool

from lading.adapters import postgres_before_images as images
from lading.adapters import sql_collections as collections
from lading.adapters.arrow_chunks import MergeChunk, PreparedChunk, member_keys, prepare_chunk
from lading.adapters.before_image_samples import ChunkSamples, Previewed, diff_by_rollback
from lading.adapters.merge_outcomes import (OutcomesRaced, all_inserted, check_against,
                                            in_given_order, outcome_words)
from lading.adapters.phase_timer import phase
from lading.adapters.postgres_arrow import ArrowConnections, fetch_one
from lading.adapters.sql_naming import (AUDIENCES_TABLE, LEDGER_TABLE, LIST_ADDITIONS_TABLE,
                                        LIST_MEMBERS_TABLE, LISTS_TABLE,
                                        RECORD_WRITERS_TABLE, before_images_table, keyset_pages,
                                        quote_ident, table_name)
from lading.application.ports import ChunkDiff, LedgerEntry, MergeCounts, RevertConflicts, RowOutcomesSink
from lading.domain.table_schema import Field, TableSchema

_PAGE = 5000  # rows fetched per query when reading records back
_RACE_RETRIES = 5  # merges redone when concurrent writers changed the chunk's keys meanwhile

# ADR 0021.
_SQL_TYPES = {
    "string": "text",
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
    "date": "date",
    "datetime": "timestamptz",
    "time": "time",
    "year": "bigint",
}


class PostgresDestination(collections.CollectionPages):
    """DestinationStore on PostgreSQL; thread-safe through a small connection pool."""

    # While one chunk's COPY runs on the server, the next one's starts on another connection
    # (ADR 0134): a 1M-row import about 20 % faster; a third at once was no faster on 2 cores.
    merges_at_once = 2
    _placeholders = collections.POSTGRES

    def __init__(self, url: str, *, max_connections: int = 4) -> None:
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            configure=_configure,
            name="lading-destination",
            open=True,
        )
        self._ensured: set[str] = set()
        self._ensured_lock = threading.Lock()
        self._arrow = ArrowConnections(url, max_connections)
        # Renders each merge's per-row results beside its writes (see _merge).
        self._beside = ThreadPoolExecutor(max_connections, thread_name_prefix="lading-results")
        try:
            self._pool.wait(timeout=30)
            with self._pool.connection() as conn, conn.transaction():
                _serialise_ddl(conn, LEDGER_TABLE)
                conn.execute(
                    f"create table if not exists {LEDGER_TABLE} ("
                    " job_id uuid not null, plan_version integer not null, chunk integer not null,"
                    " workspace text not null, object_name text not null,"
                    " inserts bigint not null default 0, updates bigint not null default 0,"
                    " deletes bigint not null default 0, merged_at timestamptz not null default now(),"
                    " unchanged bigint not null default 0,"
                    " primary key (job_id, plan_version, chunk))"
                )
                _add_unchanged_column(conn)
                for statement in images.create_ledger_sql():
                    conn.execute(statement)
                conn.execute(
                    f"create table if not exists {LISTS_TABLE} ("
                    " workspace text not null, list_id text not null, name text not null,"
                    " object_name text not null, created_at timestamptz not null default now(),"
                    " primary key (workspace, list_id))"
                )
                conn.execute(
                    f"create table if not exists {LIST_MEMBERS_TABLE} ("
                    " list_id text not null, member_key text collate \"C\" not null,"
                    " primary key (list_id, member_key))"
                )
                conn.execute(
                    f"create table if not exists {LIST_ADDITIONS_TABLE} ("
                    " job_id uuid not null, plan_version integer not null, chunk integer not null,"
                    " list_id text not null, member_key text collate \"C\" not null,"
                    " primary key (job_id, plan_version, chunk, list_id, member_key))"
                )
                conn.execute(
                    f"create table if not exists {AUDIENCES_TABLE} ("
                    " workspace text not null, audience_id text not null, name text not null,"
                    " object_name text not null, job_id uuid not null,"
                    " created_at timestamptz not null default now(),"
                    " primary key (workspace, audience_id))"
                )
                conn.execute(
                    f"create table if not exists {RECORD_WRITERS_TABLE} ("
                    " workspace text not null, object_name text not null,"
                    " member_key text collate \"C\" not null, job_id uuid not null,"
                    " primary key (workspace, object_name, member_key))"
                )
                conn.execute(
                    f"create index if not exists {RECORD_WRITERS_TABLE}_by_job"
                    f" on {RECORD_WRITERS_TABLE} (job_id, member_key)"
                )
        except BaseException:
            self._beside.shutdown()
            self._pool.close()
            raise

    def close(self) -> None:
        self._beside.shutdown()
        self._arrow.close()
        self._pool.close()

    # -- tables ---------------------------------------------------------------------------

    def ensure_object(self, workspace: str, object_name: str, schema: TableSchema) -> None:
        table = table_name(workspace, object_name)
        with self._ensured_lock:
            if table in self._ensured:
                return
        with self._pool.connection() as conn, conn.transaction():
            _serialise_ddl(conn, table)
            conn.execute(_create_table_sql(table, schema))
            for statement in images.create_sql(
                    before_images_table(workspace, object_name),
                    [_column_sql(f, f.name in schema.primary_key).removesuffix(" not null")
                     for f in schema.fields]):
                conn.execute(statement)
        with self._ensured_lock:
            self._ensured.add(table)

    def _exists(self, conn: psycopg.Connection, table: str) -> bool:
        with self._ensured_lock:
            if table in self._ensured:
                return True
        return conn.execute("select to_regclass(%s)", (quote_ident(table),)).fetchone()[0] is not None

    # -- merging --------------------------------------------------------------------------

    def prepare_chunk(self, schema: TableSchema, operation: str, rows: pa.Table) -> PreparedChunk:
        # The binary COPY itself belongs to the merge's transaction: only the checks come first.
        with phase("convert"):
            return PreparedChunk(schema, operation, prepare_chunk(schema, operation, rows))

    def release(self, prepared: PreparedChunk) -> None:
        """Nothing outside the transaction to let go of."""

    def merge_chunk(
        self,
        workspace: str,
        object_name: str,
        schema: TableSchema,
        operation: str,
        rows: pa.Table | PreparedChunk,
        entry: LedgerEntry,
        list_id: str | None = None,
        on_outcomes: RowOutcomesSink | None = None,
    ) -> MergeCounts:
        return _redone_when_raced(lambda append: self._merge(
            workspace, object_name, schema, operation, rows, entry, list_id, None, on_outcomes,
            append))

    def preview_chunk(self, workspace: str, object_name: str, schema: TableSchema, operation: str,
                      rows: pa.Table | PreparedChunk, entry: LedgerEntry,
                      sample_limits: dict[str, int]) -> ChunkDiff:
        """The merge itself, in a transaction rolled back at its end (ADR 0093)."""
        return diff_by_rollback(lambda: _redone_when_raced(lambda append: self._merge(
            workspace, object_name, schema, operation, rows, entry, None, sample_limits,
            append=append)))

    def _merge(self, workspace: str, object_name: str, schema: TableSchema, operation: str,
               rows: pa.Table | PreparedChunk, entry: LedgerEntry, list_id: str | None,
               preview: dict[str, int] | None,
               on_outcomes: RowOutcomesSink | None = None, append: bool = True) -> MergeCounts:
        if isinstance(rows, PreparedChunk):
            rows.check(schema, operation)
            chunk = rows.chunk
        else:
            chunk = self.prepare_chunk(schema, operation, rows).chunk
        self.ensure_object(workspace, object_name, schema)
        table_id = table_name(workspace, object_name)
        ledger_key = (str(entry.job_id), entry.plan_version, entry.chunk)
        this_chunk = "job_id = $1::uuid and plan_version = $2 and chunk = $3"
        with self._arrow.transaction() as cursor, phase("write"):
            # Claim the ledger row first: a second merger of the same chunk waits here on the
            # unique index until the first commits (then it finds the row) or rolls back.
            claimed = fetch_one(
                cursor,
                f"insert into {LEDGER_TABLE} (job_id, plan_version, chunk, workspace, object_name)"
                " values ($1::uuid, $2, $3, $4, $5) on conflict do nothing returning true",
                (*ledger_key, workspace, object_name),
            )
            if claimed is None and preview is None:
                recorded = fetch_one(
                    cursor,
                    f"select inserts, updates, deletes, unchanged from {LEDGER_TABLE}"
                    f" where {this_chunk}",
                    ledger_key,
                )
                return MergeCounts(*recorded)
            judged: list[np.ndarray] = []
            written: list[Future[None]] = []

            def classify(stage: str | None) -> None:
                # Called before the chunk's writes. The staged rows are the sorted chunk's
                # first ones; the rest go straight in, every one a new key (see _apply).
                words = all_inserted(chunk)
                if stage is not None:
                    found = _outcomes(cursor, quote_ident(table_id), stage, operation, chunk)
                    words[:len(found)] = found
                    judged.append(words)
                    return
                # All of them go straight in: if the COPY succeeds, every row was inserted, so
                # the results part is rendered on another thread while the database writes the
                # rows, and waited for before the commit (ADR 0113); if the COPY is refused, the
                # transaction is rolled back and the merge redone, the part written again.
                assert on_outcomes is not None
                judged.append(words)
                written.append(self._beside.submit(on_outcomes, in_given_order(words, chunk)))

            twin_id = before_images_table(workspace, object_name)
            twin = quote_ident(twin_id)
            try:
                counts = (self._apply(cursor, table_id, twin_id, operation, chunk, schema,
                                      ledger_key, classify if on_outcomes else None, append)
                          if chunk.num_rows else MergeCounts())
            finally:
                wait(written)  # the part is written before the transaction ends, either way
            if preview is not None:  # leaving by an exception rolls the transaction back
                cursor.execute("set local enable_seqscan = off")  # as a revert reads the twin
                found = images.samples(cursor, quote_ident(table_id), twin, schema.primary_key,
                                       schema.field_names, ledger_key, preview) if chunk.num_rows else {}
                raise Previewed(ChunkDiff(counts, ChunkSamples(schema).to_json(found, _json_ready)))
            if on_outcomes is not None:
                words = judged[0] if judged else all_inserted(chunk)  # none: a chunk without rows
                check_against(words, counts)
                if written:
                    written[0].result()
                else:
                    on_outcomes(in_given_order(words, chunk))
            if list_id is not None and operation != "delete" and chunk.num_rows:
                # The keys that were not members yet are noted, for a revert to remove (ADR 0099).
                fetch_one(
                    cursor,
                    f"with added as (insert into {LIST_MEMBERS_TABLE} (list_id, member_key)"
                    " select $1, jsonb_array_elements_text($2::jsonb) on conflict do nothing"
                    f" returning member_key), noted as (insert into {LIST_ADDITIONS_TABLE}"
                    " (job_id, plan_version, chunk, list_id, member_key)"
                    " select $3::uuid, $4, $5, $1, member_key from added returning 1)"
                    " select count(*) from noted",
                    (list_id, json.dumps(member_keys(chunk), ensure_ascii=False), *ledger_key),
                )
            # The counts, and whether the object has an audience (for _record_writers), in one
            # round trip: the lookup runs in the merge's transaction, so a merge never misses
            # an audience created before it; objects without one pay nothing more.
            (_, tracked) = fetch_one(
                cursor,
                f"with recorded as (update {LEDGER_TABLE} set inserts = $4, updates = $5,"
                f" deletes = $6, unchanged = $7 where {this_chunk} returning 1)"
                f" select count(*), exists (select 1 from {AUDIENCES_TABLE}"
                " where workspace = $8 and object_name = $9) from recorded",
                (*ledger_key, counts.inserts, counts.updates, counts.deletes, counts.unchanged,
                 workspace, object_name),
            ) or (0, False)
            if tracked and chunk.num_rows:
                _record_writers(cursor, workspace, object_name, operation, entry, chunk)
            return counts

    def _apply(self, cursor: Any, table_id: str, twin_id: str, operation: str, chunk: MergeChunk,
               schema: TableSchema, ledger: tuple[str, int, int],
               before_write: Callable[[str | None], None] | None = None,
               append: bool = True) -> MergeCounts:
        table, twin = quote_ident(table_id), quote_ident(twin_id)
        keys = [f.name for f in chunk.key_fields]
        n = chunk.num_rows
        seq = images.number_chunk(cursor, ledger)
        beyond = _rows_beyond(cursor, table, chunk) if append and operation in ("upsert", "insert") else 0
        appended = beyond if 2 * beyond >= n else 0
        if appended:
            # The chunk's rows above the table's highest key cannot conflict with what was
            # committed when it was read: they are COPYed straight into the table (about twice
            # as fast as staging), and only the rest, a prefix of the sorted chunk, is staged
            # and merged. No lock keeps other writers out meanwhile (one would serialise the
            # merges of a split job's chunks, ADR 0125): a key another transaction added since
            # makes the primary key refuse the COPY, and the merge is redone without this path
            # (AppendRefused). Taken only when at least half the chunk goes straight in.
            if appended == n and before_write is not None:
                before_write(None)
            tail = chunk.rows.slice(n - appended)
            with phase("load"):
                _append(cursor, table_id, tail)
            with phase("before-images"):
                images.capture_appended(cursor, twin_id, tail.select(keys), seq)
            if appended == n:
                return MergeCounts(inserts=n)
            chunk = replace(chunk, rows=chunk.rows.slice(0, n - appended), source_order=None)
        counts = self._staged(cursor, table, twin, operation, chunk, schema, seq, before_write)
        return replace(counts, inserts=counts.inserts + appended)

    @staticmethod
    def _staged(cursor: Any, table: str, twin: str, operation: str, chunk: MergeChunk,
                schema: TableSchema, seq: int,
                before_write: Callable[[str | None], None] | None) -> MergeCounts:
        keys = [f.name for f in chunk.key_fields]
        values = [f.name for f in chunk.value_fields]
        names = chunk.names
        n = chunk.num_rows
        stage = _stage(cursor, chunk)
        with phase("load"):
            cursor.adbc_ingest(stage, chunk.rows, mode="append", temporary=True)
        if before_write is not None:
            before_write(stage)
        with phase("before-images"):
            images.capture(cursor, table, twin, stage, operation, keys, values,
                           list(schema.field_names), seq)
        columns = _idents(names)
        on_key = " and ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in keys)
        if operation == "upsert":
            if values:
                # A row equal to the stored one is not rewritten (no WAL, no dead tuple) and
                # RETURNING does not see it: it is what the statement neither inserted nor updated.
                action = (
                    "do update set " + ", ".join(f"{quote_ident(v)} = excluded.{quote_ident(v)}"
                                                 for v in values)
                    + f" where ({_idents(values, 't.')}) is distinct from"
                    f" ({_idents(values, 'excluded.')})"
                )
            else:
                action = "do nothing"
            # xmax = 0 holds exactly for rows this statement inserted (an updated row carries
            # the updating transaction's id), so the split is exact within one statement.
            inserted, written = fetch_one(
                cursor,
                f"with merged as (insert into {table} as t ({columns})"
                f" select {columns} from {stage} order by {_idents(keys)}"
                f" on conflict ({_idents(keys)}) {action} returning (t.xmax = 0) as inserted)"
                " select count(*) filter (where inserted), count(*) from merged",
            )
            return MergeCounts(inserts=inserted, updates=written - inserted, unchanged=n - written)
        if operation == "insert":
            (inserted,) = fetch_one(
                cursor,
                f"with merged as (insert into {table} ({columns}) select {columns} from {stage}"
                f" order by {_idents(keys)} on conflict ({_idents(keys)}) do nothing returning 1)"
                " select count(*) from merged",
            )
            return MergeCounts(inserts=inserted)
        if operation == "update":
            (found,) = fetch_one(cursor, f"select count(*) from {stage} s join {table} t on {on_key}")
            if not values:
                return MergeCounts(unchanged=found)
            sets = ", ".join(f"{quote_ident(v)} = s.{quote_ident(v)}" for v in values)
            (updated,) = fetch_one(
                cursor,
                f"with changed as (update {table} t set {sets} from {stage} s where {on_key}"
                f" and ({_idents(values, 't.')}) is distinct from ({_idents(values, 's.')})"
                " returning 1) select count(*) from changed",
            )
            return MergeCounts(updates=updated, unchanged=found - updated)
        (deleted,) = fetch_one(
            cursor,
            f"with gone as (delete from {table} t using {stage} s where {on_key} returning 1)"
            " select count(*) from gone",
        )
        return MergeCounts(deletes=deleted)

    # -- reverting ------------------------------------------------------------------------

    def revert_chunk(self, workspace: str, object_name: str, schema: TableSchema,
                     entry: LedgerEntry) -> tuple[int, int]:
        self.ensure_object(workspace, object_name, schema)
        ledger_key = (str(entry.job_id), entry.plan_version, entry.chunk)
        with self._arrow.transaction() as cursor, phase("revert"):
            images.summarize(cursor, before_images_table(workspace, object_name))
            # Without statistics (no autovacuum, no ANALYZE yet) the planner scans the whole
            # twin for one chunk's images instead of using its BRIN index: 47 ms against 2 ms
            # per chunk at 1M images, and growing with every job the twin holds.
            cursor.execute("set local enable_seqscan = off")
            undone = images.revert(
                cursor, quote_ident(table_name(workspace, object_name)),
                quote_ident(before_images_table(workspace, object_name)), schema.field_names,
                schema.primary_key, ledger_key)
            # A chunk reverted before has no additions left: this is then a no-op.
            fetch_one(
                cursor,
                f"with noted as (delete from {LIST_ADDITIONS_TABLE} where job_id = $1::uuid"
                " and plan_version = $2 and chunk = $3 returning list_id, member_key),"
                f" gone as (delete from {LIST_MEMBERS_TABLE} m using noted"
                " where m.list_id = noted.list_id and m.member_key = noted.member_key returning 1)"
                " select count(*) from gone", ledger_key)
            return undone

    def revert_conflicts(self, workspace: str, object_name: str, schema: TableSchema,
                         job_id: UUID, plan_version: int, limit: int = 20) -> RevertConflicts:
        keys = list(schema.primary_key)
        convert = [_json_ready(schema.field(k)) for k in keys]
        count_sql, pairs_sql = images.conflicts_sql(
            quote_ident(before_images_table(workspace, object_name)), keys)
        with self._pool.connection() as conn:
            if not self._exists(conn, table_name(workspace, object_name)):
                return RevertConflicts([], 0)
        self.ensure_object(workspace, object_name, schema)
        with self._pool.connection() as conn:
            (count,) = conn.execute(count_sql, (job_id, plan_version)).fetchone()
            pairs = conn.execute(pairs_sql, (job_id, plan_version, limit)).fetchall()
        return RevertConflicts(
            [{"key": {k: c(v) for k, c, v in zip(keys, convert, row[:-1])}, "jobId": row[-1]}
             for row in pairs], count)

    def before_images_kept(self, job_id: UUID, plan_version: int) -> int:
        with self._pool.connection() as conn:
            return conn.execute(images.chunks_kept_sql(), (job_id, plan_version)).fetchone()[0]

    def forget_before_images(self, workspace: str, object_name: str, job_id: UUID) -> int:
        twin = before_images_table(workspace, object_name)
        with self._pool.connection() as conn:
            if not self._exists(conn, twin):
                return 0
            with conn.transaction():
                first, second = images.forget_sql(quote_ident(twin))
                gone = conn.execute(first, (job_id,)).rowcount
                conn.execute(second, (job_id,))
                conn.execute(f"delete from {LIST_ADDITIONS_TABLE} where job_id = %s", (job_id,))
        return gone

    def merged_chunks(self, job_id: UUID, plan_version: int) -> dict[int, MergeCounts]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"select chunk, inserts, updates, deletes, unchanged from {LEDGER_TABLE}"
                " where job_id = %s and plan_version = %s order by chunk",
                (job_id, plan_version),
            ).fetchall()
        return {chunk: MergeCounts(*counts) for chunk, *counts in rows}

    # -- reading --------------------------------------------------------------------------

    # -- lists ----------------------------------------------------------------------------

    def ensure_list(self, workspace: str, list_id: str, name: str, object_name: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                f"insert into {LISTS_TABLE} (workspace, list_id, name, object_name)"
                " values (%s, %s, %s, %s) on conflict do nothing",
                (workspace, list_id, name, object_name),
            )

    def _page(self, query: collections.Query) -> list[tuple]:
        with self._pool.connection() as conn:
            return conn.execute(*query).fetchall()

    def _instant(self, stored: Any) -> str:
        return _iso_z(stored)

    # -- audiences ------------------------------------------------------------------------

    def ensure_audience(self, workspace: str, audience_id: str, name: str, object_name: str,
                        job_id: UUID) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                f"insert into {AUDIENCES_TABLE} (workspace, audience_id, name, object_name, job_id)"
                " values (%s, %s, %s, %s, %s) on conflict do nothing",
                (workspace, audience_id, name, object_name, job_id),
            )

    def existing_keys(
        self, workspace: str, object_name: str, schema: TableSchema, keys: list[tuple]
    ) -> set[tuple]:
        if not keys:
            return set()
        table_id = table_name(workspace, object_name)
        table = quote_ident(table_id)
        fields = [schema.field(k) for k in schema.primary_key]
        arrays = ", ".join(f"%s::{_SQL_TYPES[f.type]}[]" for f in fields)
        aliases = ", ".join(f"k{i}" for i in range(len(fields)))
        match = " and ".join(
            f"t.{quote_ident(f.name)} = {_collated(f, f'k.k{i}')}" for i, f in enumerate(fields)
        )
        # The database answers with positions in the list, so the caller gets back its own
        # tuples whatever representation the server would have returned.
        sql = (
            f"select k.ord from unnest({arrays}) with ordinality as k({aliases}, ord)"
            f" where exists (select 1 from {table} t where {match})"
        )
        found: set[tuple] = set()
        with self._pool.connection() as conn:
            if not self._exists(conn, table_id):
                return set()
            for start in range(0, len(keys), 100_000):
                batch = keys[start:start + 100_000]
                params = [[key[i] for key in batch] for i in range(len(fields))]
                for (ord_,) in conn.execute(sql, params):
                    found.add(batch[ord_ - 1])
        return found

    def read_records(
        self, workspace: str, object_name: str, schema: TableSchema, limit: int | None = None,
        after: tuple[Any, ...] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Records in key order, read a page at a time so a big table never sits in memory."""
        if limit is not None and limit < 0:
            raise ValueError("limit must be zero or more")
        table_id = table_name(workspace, object_name)
        table = quote_ident(table_id)
        names = list(schema.field_names)
        keys = list(schema.primary_key)
        key_at = [names.index(k) for k in keys]
        convert = [_json_ready(f) for f in schema.fields]
        select = f"select {_idents(names)} from {table}"
        order = f"order by {_idents(keys)} limit %s"
        with self._pool.connection() as conn:
            if not self._exists(conn, table_id):
                return

        def fetch_page(after: tuple | None, size: int) -> list:
            with self._pool.connection() as conn:
                if after is None:
                    return conn.execute(f"{select} {order}", (size,)).fetchall()
                marks = ", ".join(f"%s::{_SQL_TYPES[schema.field(k).type]}" for k in keys)
                return conn.execute(
                    f"{select} where ({_idents(keys)}) > ({marks}) {order}", (*after, size)
                ).fetchall()

        # The JSON-ready key as text or a number: the casts above read it in the column's type.
        for row in keyset_pages(fetch_page, key_at, limit, _PAGE, after):
            yield {name: c(v) for name, c, v in zip(names, convert, row)}

    def count_records(self, workspace: str, object_name: str) -> int:
        table_id = table_name(workspace, object_name)
        with self._pool.connection() as conn:
            if not self._exists(conn, table_id):
                return 0
            return conn.execute(f"select count(*) from {quote_ident(table_id)}").fetchone()[0]


def _record_writers(cursor: Any, workspace: str, object_name: str, operation: str,
                    entry: LedgerEntry, chunk: MergeChunk) -> None:
    """Make this job the last writer of the chunk's keys (a delete forgets them); called only
    for an object that has an audience."""
    keys = json.dumps(member_keys(chunk), ensure_ascii=False)
    if operation == "delete":
        statement = (f"with gone as (delete from {RECORD_WRITERS_TABLE}"
                     " where workspace = $1 and object_name = $2"
                     " and member_key in (select jsonb_array_elements_text($3::jsonb)) returning 1)"
                     " select count(*) from gone")
        fetch_one(cursor, statement, (workspace, object_name, keys))
        return
    statement = (f"with written as (insert into {RECORD_WRITERS_TABLE}"
                 " (workspace, object_name, member_key, job_id)"
                 " select $1, $2, k, $4::uuid from jsonb_array_elements_text($3::jsonb) as k"
                 " on conflict (workspace, object_name, member_key)"
                 " do update set job_id = excluded.job_id returning 1) select count(*) from written")
    fetch_one(cursor, statement, (workspace, object_name, keys, str(entry.job_id)))


def _configure(conn: psycopg.Connection) -> None:
    # Datetimes come back in UTC, and naive timestamps in COPY text are read as UTC.
    conn.execute("set time zone 'UTC'")


def _serialise_ddl(conn: psycopg.Connection, name: str) -> None:
    # Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalogs; one at a time.
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"lading-ddl:{name}",))


def _add_unchanged_column(conn: psycopg.Connection) -> None:
    """A ledger created before `unchanged` was counted gains the column (0 for old chunks).
    Looked up first: ALTER TABLE would lock the ledger against merges even when it is a no-op."""
    present = conn.execute(
        "select 1 from pg_attribute where attrelid = to_regclass(%s) and attname = 'unchanged'"
        " and not attisdropped", (LEDGER_TABLE,)).fetchone()
    if present is None:
        conn.execute(f"alter table {LEDGER_TABLE} add column unchanged bigint not null default 0")


def _column_sql(f: Field, key: bool) -> str:
    sql = f"{quote_ident(f.name)} {_SQL_TYPES[f.type]}"
    if key and f.type == "string":
        # Byte order for text keys: records come back in the same order as from SQLite, and
        # the order agrees with Arrow's sort (the "beyond the table" test relies on it).
        sql += ' collate "C"'
    return sql + (" not null" if key else "")


def _create_table_sql(table: str, schema: TableSchema) -> str:
    keys = set(schema.primary_key)
    columns = [_column_sql(f, f.name in keys) for f in schema.fields]
    columns.append(f"primary key ({_idents(schema.primary_key)})")
    return f"create table if not exists {quote_ident(table)} ({', '.join(columns)})"


def _stage(cursor: Any, chunk: MergeChunk) -> str:
    """A session temp table shaped like the chunk, emptied at every commit (no WAL, no bloat
    from creating and dropping a table per chunk)."""
    keys = {f.name for f in chunk.key_fields}
    definition = ", ".join(_column_sql(f, f.name in keys) for f in chunk.fields)
    name = "lading_stage_" + hashlib.sha256(definition.encode()).hexdigest()[:16]
    cursor.execute(f"create temporary table if not exists {name} ({definition}) on commit delete rows")
    return name


class AppendRefused(Exception):
    """The append path's COPY met a key another transaction added after the chunk's keys were
    compared with the table's: the merge is rolled back and redone through the staging table.
    (The ADBC driver cannot roll back to a savepoint after a failed COPY, so the whole merge
    transaction goes.)"""


# A duplicate key, or a deadlock with a transaction inserting the same keys in another order.
_REFUSALS = ("23505", "40P01")


def _append(cursor: Any, table_id: str, rows: pa.Table) -> None:
    try:
        cursor.adbc_ingest(table_id, rows, mode="append")
    except adbc_errors.DatabaseError as error:
        if getattr(error, "sqlstate", None) in _REFUSALS:
            raise AppendRefused(str(error)) from error
        raise


def _redone_when_raced(merge: Callable[[bool], Any]) -> Any:
    """`merge(append)` until it holds against concurrent writers: once without the append path
    after an AppendRefused, and up to _RACE_RETRIES times after an OutcomesRaced."""
    append, races = True, 0
    while True:
        try:
            return merge(append)
        except AppendRefused:
            append = False
        except OutcomesRaced:
            races += 1
            if races == _RACE_RETRIES:
                raise


def _rows_beyond(cursor: Any, table: str, chunk: MergeChunk) -> int:
    """How many rows of the (sorted) chunk have a key above the table's highest: a suffix of
    it, or 0 when those rows are not one (a sort that disagreed with the table's would)."""
    keys = [f.name for f in chunk.key_fields]
    descending = ", ".join(f"{quote_ident(k)} desc" for k in keys)
    # Read backwards off the primary key's index. An EXISTS on `keys >= lowest` was planned,
    # without statistics on a table filled since its last ANALYZE, as a scan of the whole
    # table (ADR 0113).
    cursor.execute(f"select {_idents(keys)} from {table} order by {descending} limit 1")
    found = cursor.fetch_arrow_table()
    if not found.num_rows:
        return chunk.num_rows
    above: Any = None
    equal: Any = None
    for name in keys:
        column = chunk.rows.column(name)
        highest = found.column(name).cast(column.type)[0]
        beyond = pc.greater(column, highest)
        above = beyond if above is None else pc.or_(above, pc.and_(equal, beyond))
        same = pc.equal(column, highest)
        equal = same if equal is None else pc.and_(equal, same)
    count = pc.sum(above).as_py() or 0
    if count and pc.sum(above.slice(chunk.num_rows - count)).as_py() != count:
        return 0
    return count


def _outcomes(cursor: Any, table: str, stage: str, operation: str, chunk: MergeChunk) -> np.ndarray:
    """Each staged row's outcome, in the chunk's key order (the stage's keys collate as the
    chunk was sorted), judged by the comparison the write uses. Without row locks: a key that
    another transaction changes in between makes the counts disagree, and the merge is redone."""
    keys = [f.name for f in chunk.key_fields]
    values = [f.name for f in chunk.value_fields]
    on_key = " and ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in keys)
    changed = (f"({_idents(values, 't.')}) is distinct from ({_idents(values, 's.')})"
               if values else "false")
    with phase("outcomes"):
        cursor.execute(f"select t.{quote_ident(keys[0])} is not null as found, {changed} as changed"
                       f" from {stage} s left join {table} t on {on_key}"
                       f" order by {_idents(keys, 's.')}")
        judged = cursor.fetch_arrow_table()
    found = judged.column("found").to_numpy(zero_copy_only=False).astype(bool)
    differs = judged.column("changed").fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
    return outcome_words(operation, found, differs)


def _collated(f: Field, expression: str) -> str:
    return f'{expression} collate "C"' if f.type == "string" else expression


def _json_ready(f: Field) -> Callable[[Any], Any]:
    if f.type in ("date", "time"):
        return lambda v: None if v is None else v.isoformat()
    if f.type == "datetime":
        return lambda v: None if v is None else v.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return lambda v: v


def _idents(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + quote_ident(n) for n in names)


def _iso_z(moment) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
