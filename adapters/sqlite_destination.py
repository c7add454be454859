"""The embedded destination: one SQLite table per (workspace, object), merged chunk by chunk.

A chunk's rows and its ledger row commit in one transaction (ADR 0020): a chunk is either
wholly merged and recorded or not at all, whatever instant the process dies.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import pyarrow as pa

from lading.adapters.arrow_chunks import MergeChunk, PreparedChunk, member_keys, prepare_chunk
from lading.adapters.merge_outcomes import check_against, in_given_order, outcome_words
from lading.adapters.sqlite_classify import Seen, classify
from lading.adapters.phase_timer import phase
from lading.adapters import sql_collections as collections
from lading.adapters import sqlite_before_images as images
from lading.adapters.before_image_samples import ChunkSamples, Previewed, diff_by_rollback
from lading.adapters.sqlite_staging import STAGE_TABLE, ScratchStager, stage_column, storage_column
from lading.adapters.sql_naming import (AUDIENCES_TABLE, LEDGER_TABLE, LIST_ADDITIONS_TABLE,
                                        LIST_MEMBERS_TABLE, LISTS_TABLE,
                                        RECORD_WRITERS_TABLE, before_images_table, keyset_pages,
                                        quote_ident, table_name)
from lading.application.ports import ChunkDiff, LedgerEntry, MergeCounts, RevertConflicts, RowOutcomesSink
from lading.domain.table_schema import Field, TableSchema

DATABASE_FILE = "destination.sqlite"
_PAGE = 5000  # rows fetched per query when reading records back
_STAGE = "lading_stage"  # the schema name a staged chunk is attached under

# ADR 0021. Dates, datetimes and times are fixed-width ISO text, so text order is time order
# and equal instants are equal strings: 2023-05-17, 2023-05-17T10:00:00.000000Z, 10:00:00.000000.
_SQL_TYPES = {
    "string": "TEXT",
    "integer": "INTEGER",
    "number": "REAL",
    "boolean": "INTEGER",
    "date": "TEXT",
    "datetime": "TEXT",
    "time": "TEXT",
    "year": "INTEGER",
}


def database_path(directory: Path) -> Path:
    """The SQLite file the destination (and the catalog beside it) lives in."""
    return Path(directory) / DATABASE_FILE


class SqliteDestination(collections.CollectionPages):
    """DestinationStore on one SQLite file; usable from several threads (one guarded connection)."""

    merges_at_once = 1  # one connection, one writer: a second merge would wait for the first
    _placeholders = collections.SQLITE

    def __init__(self, directory: Path) -> None:
        path = database_path(directory)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._ensured: set[str] = set()
        self._columns: dict[str, list[str]] = {}  # quoted table -> its columns, in order
        self._stager = ScratchStager()
        self._results = ThreadPoolExecutor(1, thread_name_prefix="lading-results")
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        self._conn.execute("pragma journal_mode=wal")
        # FULL, not NORMAL: a merge commit must be on disk before the ChunkMerged event that
        # follows it, or a power cut could keep the event and lose the rows. One fsync a chunk.
        self._conn.execute("pragma synchronous=full")
        self._conn.execute("pragma cache_size=-65536")  # 64 MiB: upserts into big tables
        with self._write():
            self._conn.execute(
                f"create table if not exists {LEDGER_TABLE} ("
                " job_id TEXT NOT NULL, plan_version INTEGER NOT NULL, chunk INTEGER NOT NULL,"
                " workspace TEXT NOT NULL, object_name TEXT NOT NULL, inserts INTEGER NOT NULL,"
                " updates INTEGER NOT NULL, deletes INTEGER NOT NULL, merged_at TEXT NOT NULL,"
                " unchanged INTEGER NOT NULL DEFAULT 0,"
                " PRIMARY KEY (job_id, plan_version, chunk)) STRICT"
            )
            _add_unchanged_column(self._conn)
            for statement in images.create_ledger_sql():
                self._conn.execute(statement)
            self._conn.execute(
                f"create table if not exists {LISTS_TABLE} ("
                " workspace TEXT NOT NULL, list_id TEXT NOT NULL, name TEXT NOT NULL,"
                " object_name TEXT NOT NULL, created_at TEXT NOT NULL,"
                " PRIMARY KEY (workspace, list_id)) STRICT"
            )
            self._conn.execute(
                f"create table if not exists {LIST_MEMBERS_TABLE} ("
                " list_id TEXT NOT NULL, member_key TEXT NOT NULL,"
                " PRIMARY KEY (list_id, member_key)) STRICT, WITHOUT ROWID"
            )
            self._conn.execute(
                f"create table if not exists {LIST_ADDITIONS_TABLE} ("
                " job_id TEXT NOT NULL, plan_version INTEGER NOT NULL, chunk INTEGER NOT NULL,"
                " list_id TEXT NOT NULL, member_key TEXT NOT NULL,"
                " PRIMARY KEY (job_id, plan_version, chunk, list_id, member_key))"
                " STRICT, WITHOUT ROWID"
            )
            self._conn.execute(
                f"create table if not exists {AUDIENCES_TABLE} ("
                " workspace TEXT NOT NULL, audience_id TEXT NOT NULL, name TEXT NOT NULL,"
                " object_name TEXT NOT NULL, job_id TEXT NOT NULL, created_at TEXT NOT NULL,"
                " PRIMARY KEY (workspace, audience_id)) STRICT"
            )
            self._conn.execute(
                f"create table if not exists {RECORD_WRITERS_TABLE} ("
                " workspace TEXT NOT NULL, object_name TEXT NOT NULL, member_key TEXT NOT NULL,"
                " job_id TEXT NOT NULL, PRIMARY KEY (workspace, object_name, member_key))"
                " STRICT, WITHOUT ROWID"
            )
            self._conn.execute(
                f"create index if not exists {RECORD_WRITERS_TABLE}_by_job"
                f" on {RECORD_WRITERS_TABLE} (job_id, member_key)"
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        self._stager.close()
        self._results.shutdown()

    # -- tables ---------------------------------------------------------------------------

    def ensure_object(self, workspace: str, object_name: str, schema: TableSchema) -> None:
        table = table_name(workspace, object_name)
        with self._lock:
            if table in self._ensured:
                return
            with self._write():
                self._conn.execute(_create_table_sql(table, schema.fields, schema.primary_key))
                self._conn.execute(images.create_sql(
                    before_images_table(workspace, object_name),
                    [(f.name, _SQL_TYPES[f.type]) for f in schema.fields], schema.primary_key))
            self._ensured.add(table)

    def _exists(self, table: str) -> bool:
        with self._lock:
            if table in self._ensured:
                return True
            row = self._conn.execute(
                "select 1 from sqlite_master where type = 'table' and name = ?", (table,)
            ).fetchone()
            return row is not None

    # -- merging --------------------------------------------------------------------------

    def prepare_chunk(self, schema: TableSchema, operation: str, rows: pa.Table) -> PreparedChunk:
        with phase("convert"):
            chunk = prepare_chunk(schema, operation, rows)
            stored = pa.table([storage_column(chunk.rows.column(f.name), f) for f in chunk.fields],
                              names=chunk.names)
        staged = None
        if chunk.num_rows:
            # Typed and keyed like the object's table: a chunk of new keys then copies into it
            # record by record (SQLite's transfer of `INSERT INTO t SELECT * FROM s`).
            by_position = {f.name: stage_column(i) for i, f in enumerate(chunk.fields)}
            create = _create_table_sql(STAGE_TABLE, chunk.fields, [f.name for f in chunk.key_fields],
                                       by_position.__getitem__)
            # Outside the lock: another thread's merge may write while this one stages.
            with phase("load"):
                staged = self._stager.stage(stored, create)
        return PreparedChunk(schema, operation, chunk, (stored, staged))

    def release(self, prepared: PreparedChunk) -> None:
        _, staged = prepared.staged
        if staged is not None:
            self._stager.discard(staged)

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
        return self._merge(workspace, object_name, schema, operation, rows, entry, list_id, None,
                           on_outcomes)

    def preview_chunk(self, workspace: str, object_name: str, schema: TableSchema, operation: str,
                      rows: pa.Table | PreparedChunk, entry: LedgerEntry,
                      sample_limits: dict[str, int]) -> ChunkDiff:
        """The merge itself, in a transaction rolled back at its end (ADR 0093): the counts
        are the real statement's, and nothing it wrote outlives it."""
        return diff_by_rollback(lambda: self._merge(workspace, object_name, schema, operation, rows,
                                                    entry, None, sample_limits))

    def _merge(self, workspace: str, object_name: str, schema: TableSchema, operation: str,
               rows: pa.Table | PreparedChunk, entry: LedgerEntry, list_id: str | None,
               preview: dict[str, int] | None,
               on_outcomes: RowOutcomesSink | None = None) -> MergeCounts:
        prepared = rows if isinstance(rows, PreparedChunk) else None
        try:
            if prepared is None:
                prepared = self.prepare_chunk(schema, operation, rows)
            else:
                prepared.check(schema, operation)
            chunk, (stored, staged) = prepared.chunk, prepared.staged
            self.ensure_object(workspace, object_name, schema)
            ledger_key = (str(entry.job_id), entry.plan_version, entry.chunk)
            with self._lock, self._attached(staged), phase("write"), self._write():
                recorded = self._conn.execute(
                    f"select inserts, updates, deletes, unchanged from {LEDGER_TABLE}"
                    " where job_id = ? and plan_version = ? and chunk = ?",
                    ledger_key,
                ).fetchone()
                if recorded is not None and preview is None:
                    return MergeCounts(*recorded)
                counts, found = MergeCounts(), {}
                words = outcome_words(operation, *([np.zeros(0, dtype=bool)] * 2))
                seen = None
                if staged:
                    twin = self._staged(workspace, object_name, schema, chunk)
                    # Classified before the write, which this transaction's lock keeps alone.
                    if operation != "delete" or on_outcomes is not None:
                        with phase("classify"):
                            seen = classify(self._conn, twin, _lowest(stored, twin.keys),
                                            per_row=on_outcomes is not None)
                        if seen.found is not None and seen.differs is not None:
                            words = outcome_words(operation, seen.found, seen.differs)
                with self._telling(on_outcomes, words, chunk):
                    if staged:
                        known = seen if operation != "delete" else None
                        with phase("before-images"):
                            seq = images.capture(self._conn, twin, operation, ledger_key,
                                                 known.existing if known else None,
                                                 known.changed if known else None)
                        counts = self._apply(operation, twin, seen)
                        if preview is not None:
                            found = images.samples(self._conn, twin, seq, preview)
                if preview is not None:  # leaving by an exception rolls the transaction back
                    raise Previewed(ChunkDiff(counts, ChunkSamples(schema).to_json(
                        found, _json_ready)))
                if on_outcomes is not None:
                    check_against(words, counts)
                if list_id is not None and operation != "delete":
                    # The keys not members yet are noted first, for a revert to remove (ADR
                    # 0099); they are then exactly the members to insert.
                    self._conn.execute(
                        f"insert or ignore into {LIST_ADDITIONS_TABLE} (job_id, plan_version,"
                        " chunk, list_id, member_key) select ?, ?, ?, ?, value from json_each(?)"
                        f" where not exists (select 1 from {LIST_MEMBERS_TABLE}"
                        " where list_id = ? and member_key = value)",
                        (*ledger_key, list_id, json.dumps(member_keys(chunk), ensure_ascii=False),
                         list_id),
                    )
                    self._conn.execute(
                        f"insert or ignore into {LIST_MEMBERS_TABLE} (list_id, member_key)"
                        f" select list_id, member_key from {LIST_ADDITIONS_TABLE}"
                        " where job_id = ? and plan_version = ? and chunk = ?",
                        ledger_key,
                    )
                if staged and self._has_audience(workspace, object_name):
                    self._record_writers(workspace, object_name, operation, entry, chunk)
                self._conn.execute(
                    f"insert into {LEDGER_TABLE} (job_id, plan_version, chunk, workspace, object_name,"
                    " inserts, updates, deletes, unchanged, merged_at)"
                    " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*ledger_key, workspace, object_name, counts.inserts, counts.updates,
                     counts.deletes, counts.unchanged, _now()),
                )
                return counts
        finally:
            if prepared is not None:
                self.release(prepared)

    @contextmanager
    def _telling(self, on_outcomes: RowOutcomesSink | None, words: np.ndarray,
                 chunk: MergeChunk) -> Iterator[None]:
        """The rows' outcomes (`words`, in key order) written and synced on a second thread
        while SQLite writes the rows, and awaited before the commit, so the part still
        precedes it (ADR 0090)."""
        if on_outcomes is None:
            yield
            return
        told = self._results.submit(_timed_results, on_outcomes, in_given_order(words, chunk))
        try:
            yield
        except BaseException:
            wait([told])  # the merge's own error is the one to raise
            raise
        told.result()

    def _staged(self, workspace: str, object_name: str, schema: TableSchema,
                chunk: MergeChunk) -> images.StagedChunk:
        return images.StagedChunk(
            table=quote_ident(table_name(workspace, object_name)),
            images=quote_ident(before_images_table(workspace, object_name)),
            source=f"{_STAGE}.{STAGE_TABLE}",
            staged={name: stage_column(i) for i, name in enumerate(chunk.names)},
            keys=[f.name for f in chunk.key_fields], values=[f.name for f in chunk.value_fields],
            fields=list(schema.field_names), rows=chunk.num_rows)

    # -- reverting ------------------------------------------------------------------------

    def revert_chunk(self, workspace: str, object_name: str, schema: TableSchema,
                     entry: LedgerEntry) -> tuple[int, int]:
        self.ensure_object(workspace, object_name, schema)
        ledger_key = (str(entry.job_id), entry.plan_version, entry.chunk)
        with self._lock, phase("revert"), self._write():
            undone = images.revert(
                self._conn, quote_ident(table_name(workspace, object_name)),
                quote_ident(before_images_table(workspace, object_name)), schema.field_names,
                schema.primary_key, ledger_key, _now())
            # A chunk reverted before has no additions left: this is then a no-op.
            this_chunk = "job_id = ? and plan_version = ? and chunk = ?"
            self._conn.execute(
                f"delete from {LIST_MEMBERS_TABLE} where (list_id, member_key) in"
                f" (select list_id, member_key from {LIST_ADDITIONS_TABLE} where {this_chunk})",
                ledger_key)
            self._conn.execute(f"delete from {LIST_ADDITIONS_TABLE} where {this_chunk}", ledger_key)
            return undone

    def revert_conflicts(self, workspace: str, object_name: str, schema: TableSchema,
                         job_id: UUID, plan_version: int, limit: int = 20) -> RevertConflicts:
        if not self._exists(table_name(workspace, object_name)):
            return RevertConflicts([], 0)
        self.ensure_object(workspace, object_name, schema)
        keys = list(schema.primary_key)
        convert = [_json_ready(schema.field(k)) for k in keys]
        with self._lock:
            pairs, count = images.conflicts(
                self._conn, quote_ident(before_images_table(workspace, object_name)), keys,
                str(job_id), plan_version, limit)
        return RevertConflicts(
            [{"key": {k: c(v) for k, c, v in zip(keys, convert, key)}, "jobId": later}
             for key, later in pairs], count)

    def before_images_kept(self, job_id: UUID, plan_version: int) -> int:
        with self._lock:
            return images.chunks_kept(self._conn, str(job_id), plan_version)

    def forget_before_images(self, workspace: str, object_name: str, job_id: UUID) -> int:
        if not self._exists(before_images_table(workspace, object_name)):
            return 0
        with self._lock, self._write():
            self._conn.execute(f"delete from {LIST_ADDITIONS_TABLE} where job_id = ?", (str(job_id),))
            return images.forget(self._conn, quote_ident(before_images_table(workspace, object_name)),
                                 str(job_id))

    @contextmanager
    def _attached(self, staged: Path | None) -> Iterator[None]:
        """The staged chunk readable as `_STAGE.rows` (ATTACH cannot run inside a transaction)."""
        if staged is None:
            yield
            return
        self._conn.execute(f"attach database ? as {_STAGE}", (str(staged),))
        try:
            yield
        finally:
            self._conn.execute(f"detach database {_STAGE}")

    def _apply(self, operation: str, chunk: images.StagedChunk, seen: Seen | None) -> MergeCounts:
        """One set-based statement over the staged rows (key order), counted exactly; none when
        `seen` (classified under this transaction's lock) shows there is nothing to write."""
        table, source, n = chunk.table, chunk.source, chunk.rows
        keys, values = chunk.keys, chunk.values
        columns = [chunk.staged[f] for f in chunk.staged]
        if operation == "delete":
            deleted = self._conn.execute(
                f"delete from {table} where ({_idents(keys)}) in"
                f" (select {', '.join(chunk.staged[k] for k in keys)} from {source})").rowcount
            return MergeCounts(deletes=deleted)
        assert seen is not None  # classified for every operation but delete
        if operation in ("insert", "upsert") and seen.existing == 0 and self._whole(chunk):
            # No key is stored: a plain INSERT of every column in table order, which SQLite
            # runs as a transfer, copying each staged record as it is (no conflict can arise).
            inserted = self._conn.execute(f"insert into {table} select * from {source}").rowcount
            return MergeCounts(inserts=inserted)
        # WHERE true: without it SQLite would read ON CONFLICT as the SELECT's join constraint.
        insert = (f"insert into {table} ({_idents(list(chunk.staged))})"
                  f" select {', '.join(columns)} from {source} where true")
        if operation == "insert":
            if seen.existing == n:
                return MergeCounts()
            inserted = self._conn.execute(f"{insert} on conflict ({_idents(keys)}) do nothing").rowcount
            return MergeCounts(inserts=inserted)
        if operation == "upsert":
            if seen.existing == n and not seen.changed:
                return MergeCounts(unchanged=n)
            # A conflicting row equal to the stored one is neither rewritten nor counted as
            # written; `changes()` (the rowcount) counts inserted and really updated rows only.
            action = _update_changed_from_excluded(values) if values else "do nothing"
            written = self._conn.execute(f"{insert} on conflict ({_idents(keys)}) {action}").rowcount
            inserts = n - seen.existing
            return MergeCounts(inserts=inserts, updates=written - inserts, unchanged=n - written)
        if not values or not seen.changed:
            return MergeCounts(unchanged=seen.existing)
        sets = ", ".join(f"{quote_ident(v)} = s.{chunk.staged[v]}" for v in values)
        updated = self._conn.execute(
            f"update {table} as t set {sets} from {source} as s where {chunk.on_key('t')}"
            f" and ({_idents(values, 't.')}) is not ({', '.join('s.' + chunk.staged[v] for v in values)})"
        ).rowcount
        return MergeCounts(updates=updated, unchanged=seen.existing - updated)

    def _whole(self, chunk: images.StagedChunk) -> bool:
        """The chunk holds every column of its table, in the table's order."""
        with self._lock:
            if chunk.table not in self._columns:
                self._columns[chunk.table] = [
                    row[1] for row in self._conn.execute(f"pragma table_info({chunk.table})")]
            return list(chunk.staged) == self._columns[chunk.table]

    def merged_chunks(self, job_id: UUID, plan_version: int) -> dict[int, MergeCounts]:
        with self._lock:
            rows = self._conn.execute(
                f"select chunk, inserts, updates, deletes, unchanged from {LEDGER_TABLE}"
                " where job_id = ? and plan_version = ? order by chunk",
                (str(job_id), plan_version),
            ).fetchall()
        return {chunk: MergeCounts(*counts) for chunk, *counts in rows}

    # -- lists ----------------------------------------------------------------------------

    def ensure_list(self, workspace: str, list_id: str, name: str, object_name: str) -> None:
        with self._write():
            self._conn.execute(
                f"insert into {LISTS_TABLE} (workspace, list_id, name, object_name, created_at)"
                " values (?, ?, ?, ?, ?) on conflict do nothing",
                (workspace, list_id, name, object_name, _now()),
            )

    def _page(self, query: collections.Query) -> list[tuple]:
        with self._lock:
            return self._conn.execute(*query).fetchall()

    def _instant(self, stored: Any) -> str:
        return stored  # stored as the API shows it

    # -- audiences ------------------------------------------------------------------------

    def _has_audience(self, workspace: str, object_name: str) -> bool:
        return self._conn.execute(
            f"select exists (select 1 from {AUDIENCES_TABLE} where workspace = ? and object_name = ?)",
            (workspace, object_name)).fetchone()[0] == 1

    def _record_writers(self, workspace: str, object_name: str, operation: str, entry: LedgerEntry,
                        chunk: MergeChunk) -> None:
        # One statement over a JSON array of the keys: SQLite walks it, no binding per row.
        keys = json.dumps(member_keys(chunk), ensure_ascii=False)
        if operation == "delete":
            self._conn.execute(
                f"delete from {RECORD_WRITERS_TABLE} where workspace = ? and object_name = ?"
                " and member_key in (select value from json_each(?))", (workspace, object_name, keys))
            return
        # WHERE true: without it SQLite would read ON CONFLICT as the SELECT's join constraint.
        self._conn.execute(
            f"insert into {RECORD_WRITERS_TABLE} (workspace, object_name, member_key, job_id)"
            " select ?, ?, value, ? from json_each(?) where true"
            " on conflict (workspace, object_name, member_key) do update set job_id = excluded.job_id",
            (workspace, object_name, str(entry.job_id), keys))

    def ensure_audience(self, workspace: str, audience_id: str, name: str, object_name: str,
                        job_id: UUID) -> None:
        with self._write():
            self._conn.execute(
                f"insert into {AUDIENCES_TABLE} (workspace, audience_id, name, object_name, job_id,"
                " created_at) values (?, ?, ?, ?, ?, ?) on conflict do nothing",
                (workspace, audience_id, name, object_name, str(job_id), _now()),
            )

    # -- reading --------------------------------------------------------------------------

    def existing_keys(
        self, workspace: str, object_name: str, schema: TableSchema, keys: list[tuple]
    ) -> set[tuple]:
        table_id = table_name(workspace, object_name)
        if not keys or not self._exists(table_id):
            return set()
        fields = [schema.field(k) for k in schema.primary_key]
        names = [f.name for f in fields]
        table = quote_ident(table_id)
        found: set[tuple] = set()
        for start in range(0, len(keys), 100_000):
            batch = keys[start:start + 100_000]
            stored = [[_key_to_storage(f, key[i]) for key in batch] for i, f in enumerate(fields)]
            with self._lock:
                positions = self._conn.execute(
                    f"select j.key from json_each(?) as j where exists"
                    f" (select 1 from {table} as t where {_json_key_match(names)})",
                    (_json_keys(stored),),
                ).fetchall()
            found.update(batch[p] for (p,) in positions)
        return found

    def read_records(
        self, workspace: str, object_name: str, schema: TableSchema, limit: int | None = None,
        after: tuple[Any, ...] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Records in key order, read a page at a time so a big table never sits in memory."""
        if limit is not None and limit < 0:
            raise ValueError("limit must be zero or more")
        table_id = table_name(workspace, object_name)
        if not self._exists(table_id):
            return
        table = quote_ident(table_id)
        names = list(schema.field_names)
        keys = list(schema.primary_key)
        key_at = [names.index(k) for k in keys]
        convert = [_json_ready(f) for f in schema.fields]
        select = f"select {_idents(names)} from {table}"
        order = f"order by {_idents(keys)} limit ?"
        def fetch_page(after: tuple | None, size: int) -> list:
            with self._lock:
                if after is None:
                    return self._conn.execute(f"{select} {order}", (size,)).fetchall()
                return self._conn.execute(
                    f"{select} where ({_idents(keys)}) > ({_marks(len(keys))}) {order}",
                    (*after, size),
                ).fetchall()

        start = None if after is None else tuple(
            _json_key_to_storage(schema.field(k), v) for k, v in zip(keys, after, strict=True))
        for row in keyset_pages(fetch_page, key_at, limit, _PAGE, start):
            yield {name: c(v) for name, c, v in zip(names, convert, row)}

    def count_records(self, workspace: str, object_name: str) -> int:
        table_id = table_name(workspace, object_name)
        if not self._exists(table_id):
            return 0
        with self._lock:
            return self._conn.execute(f"select count(*) from {quote_ident(table_id)}").fetchone()[0]

    # -- plumbing -------------------------------------------------------------------------

    def _write(self) -> "_WriteTransaction":
        return _WriteTransaction(self._conn, self._lock)


class _WriteTransaction:
    """BEGIN IMMEDIATE under the connection's lock; COMMIT on success, ROLLBACK otherwise."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock) -> None:
        self._conn = conn
        self._lock = lock

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            # IMMEDIATE takes the write lock now, so the ledger check and the writes that follow
            # see no other writer in between (another process merging the same chunk waits).
            self._conn.execute("begin immediate")
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                with phase("commit"):
                    self._conn.execute("commit")
            elif self._conn.in_transaction:
                self._conn.execute("rollback")
        finally:
            self._lock.release()


def _create_table_sql(table: str, fields: Sequence[Field], primary_key: Sequence[str],
                      column: Callable[[str], str] = quote_ident) -> str:
    """`column`: a field's (quoted) column name."""
    keys = set(primary_key)
    types = {f.name: f.type for f in fields}
    # A single integer key becomes the rowid itself: one B-tree instead of table plus index.
    rowid_key = len(primary_key) == 1 and types[primary_key[0]] in ("integer", "year")
    columns = []
    for f in fields:
        definition = f"{column(f.name)} {_SQL_TYPES[f.type]}"
        if f.name in keys:
            definition += " PRIMARY KEY NOT NULL" if rowid_key else " NOT NULL"
        columns.append(definition)
    if not rowid_key:
        columns.append(f"PRIMARY KEY ({', '.join(column(k) for k in primary_key)})")
    # STRICT: a value of the wrong type is an error, never silently stored as text.
    return f"create table if not exists {quote_ident(table)} ({', '.join(columns)}) STRICT"


def _timed_results(on_outcomes: RowOutcomesSink, words: list[str]) -> None:
    with phase("results"):
        on_outcomes(words)


def _lowest(stored: pa.Table, keys: Sequence[str]) -> tuple[Any, ...]:
    """The chunk's first key (its lowest: chunks are sorted), as stored."""
    return tuple(stored.column(k)[0].as_py() for k in keys)


def _key_to_storage(f: Field, value: Any) -> Any:
    """A typed Python key value as the table stores it (see _SQL_TYPES)."""
    if value is None:
        return None
    if f.type == "datetime" and isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds") + "Z"
    if f.type == "date" and isinstance(value, date):
        return value.isoformat()
    if f.type == "time" and isinstance(value, time):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    if f.type == "boolean":
        return int(bool(value))
    return value


def _json_ready(f: Field) -> Callable[[Any], Any]:
    if f.type == "boolean":
        return lambda v: None if v is None else bool(v)
    if f.type == "datetime":
        return lambda v: None if v is None else _drop_zero_fraction(v[:-1]) + "Z"
    if f.type == "time":
        return lambda v: None if v is None else _drop_zero_fraction(v)
    return lambda v: v


def _json_key_to_storage(f: Field, value: Any) -> Any:
    """A key value as read_records gives it, back in its stored form (_json_ready reversed)."""
    if f.type == "boolean":
        return int(bool(value))
    if f.type == "datetime":
        return _with_fraction(value[:-1]) + "Z"
    if f.type == "time":
        return _with_fraction(value)
    return value


def _with_fraction(text: str) -> str:
    return text if "." in text else text + ".000000"


def _drop_zero_fraction(text: str) -> str:
    return text[:-7] if text.endswith(".000000") else text


def _json_keys(key_columns: Sequence[list]) -> str:
    """Keys as one JSON array (of arrays, for a composite key), read back with json_each."""
    if len(key_columns) == 1:
        return json.dumps(key_columns[0], allow_nan=False)
    return json.dumps(list(zip(*key_columns)), allow_nan=False)


def _json_key_match(keys: list[str]) -> str:
    if len(keys) == 1:
        return f"t.{quote_ident(keys[0])} = j.value"
    return " and ".join(f"t.{quote_ident(k)} = (j.value ->> {i})" for i, k in enumerate(keys))


def _update_changed_from_excluded(values: list[str]) -> str:
    sets = ", ".join(f"{quote_ident(v)} = excluded.{quote_ident(v)}" for v in values)
    excluded = ", ".join(f"excluded.{quote_ident(v)}" for v in values)
    return f"do update set {sets} where ({_idents(values)}) is not ({excluded})"


def _add_unchanged_column(conn: sqlite3.Connection) -> None:
    """A ledger created before `unchanged` was counted gains the column (0 for old chunks)."""
    columns = {row[1] for row in conn.execute(f"pragma table_info({LEDGER_TABLE})")}
    if "unchanged" not in columns:
        conn.execute(f"alter table {LEDGER_TABLE} add column unchanged INTEGER NOT NULL DEFAULT 0")


def _idents(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + quote_ident(n) for n in names)


def _marks(n: int) -> str:
    return ", ".join("?" for _ in range(n))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
