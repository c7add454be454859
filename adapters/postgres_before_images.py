"""Before-images on PostgreSQL (ADR 0094): the SQLite design (sqlite_before_images.py) in
PostgreSQL's SQL.

Statements run on the merge's ADBC cursor (adapters/postgres_arrow.py), inside its transaction:
DML is wrapped in a CTE with RETURNING, parameters are `$n`. The revert ledger row is claimed
first, as the merge ledger's is, so two processes reverting one chunk cannot both undo it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from lading.adapters.postgres_arrow import fetch_one
from lading.adapters.sql_naming import REVERT_LEDGER_TABLE, quote_ident

INSERTED, UPDATED, DELETED = "inserted", "updated", "deleted"
CHUNKS_TABLE = "lading_image_chunks"


def create_sql(table: str, columns: Sequence[str]) -> list[str]:
    """The twin of an object's table (`columns`: its column definitions without NOT NULL).
    Its one index is a BRIN on `_lading_seq`: chunks are numbered in the order they append
    their images, so each block range holds a few chunks and a revert reads its chunk's blocks.
    A B-tree primary key (`_lading_seq`, key) cost more to maintain than the images' own heap
    and WAL (ADR 0113); conflicts are a hash join when a revert is asked for. Twins created
    with that primary key keep it."""
    return [f"create table if not exists {quote_ident(table)} ("
            f" _lading_seq bigint not null, _lading_kind text not null, {', '.join(columns)})",
            f"create index if not exists {quote_ident('s' + table[1:])} on {quote_ident(table)}"
            " using brin (_lading_seq) with (autosummarize = on)"]


def summarize(cursor: Any, table: str) -> None:
    """Summarise the twin's block ranges not summarised yet, so that a revert reads only its
    chunk's blocks: `autosummarize` leaves that to autovacuum, which a server may not run
    (without it every chunk's revert scanned the whole twin). A twin keyed by the old primary
    key has no BRIN index: nothing to do."""
    fetch_one(cursor, "select count(brin_summarize_new_values(i)) from"
                      " (select to_regclass($1::text) as i) as s where i is not null",
              (quote_ident("s" + table[1:]),))


def create_ledger_sql() -> list[str]:
    """The numbered chunks that hold images, and the revert ledger."""
    return [
        f"create table if not exists {CHUNKS_TABLE} ("
        " seq bigint generated always as identity primary key, job_id uuid not null,"
        " plan_version integer not null, chunk integer not null,"
        " unique (job_id, plan_version, chunk))",
        f"create table if not exists {REVERT_LEDGER_TABLE} ("
        " job_id uuid not null, plan_version integer not null, chunk integer not null,"
        " removed bigint not null default 0, restored bigint not null default 0,"
        " reverted_at timestamptz not null default now(),"
        " primary key (job_id, plan_version, chunk))",
    ]


def number_chunk(cursor: Any, ledger: tuple[str, int, int]) -> int:
    """The chunk's number, in the order merges take them (inside the merge's transaction)."""
    (seq,) = fetch_one(
        cursor, f"insert into {CHUNKS_TABLE} (job_id, plan_version, chunk)"
                " values ($1::uuid, $2, $3) returning seq", ledger) or (0,)
    return int(seq)


def capture(cursor: Any, table: str, images: str, source: str, operation: str,
            keys: Sequence[str], values: Sequence[str], fields: Sequence[str], seq: int) -> None:
    """Record, under the chunk's number `seq`, the before-images of what merging the staged
    `source` is about to change."""
    into = f"insert into {images} (_lading_seq, _lading_kind,"
    on_key = " and ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in keys)
    whole = f"{_idents(fields)}) select $1, "
    statements = []
    if operation == "upsert":
        # One statement, so one snapshot: as two, a key another transaction committed between
        # them was captured both as inserted and as updated (a duplicate image).
        first = quote_ident(keys[0])
        picked = ", ".join(f"s.{quote_ident(f)}" if f in keys else f"t.{quote_ident(f)}"
                           for f in fields)
        changed = (f"({_idents(values, 't.')}) is distinct from ({_idents(values, 's.')})"
                   if values else "false")
        statements.append(
            f"{into} {_idents(fields)}) select $1,"
            f" case when t.{first} is null then '{INSERTED}' else '{UPDATED}' end, {picked}"
            f" from {source} s left join {table} t on {on_key} where t.{first} is null or {changed}")
    if operation == "insert":
        statements.append(
            f"{into} {_idents(keys)}) select $1, '{INSERTED}', {_idents(keys, 's.')}"
            f" from {source} s where not exists (select 1 from {table} t where {on_key})")
    if operation == "update" and values:
        statements.append(
            f"{into} {whole}'{UPDATED}', {_idents(fields, 't.')} from {source} s join {table} t"
            f" on {on_key} where ({_idents(values, 't.')}) is distinct from ({_idents(values, 's.')})")
    if operation == "delete":
        statements.append(
            f"{into} {whole}'{DELETED}', {_idents(fields, 't.')} from {source} s join {table} t"
            f" on {on_key}")
    for statement in statements:
        fetch_one(cursor, f"with captured as ({statement} returning 1) select count(*) from captured",
                  (seq,))


def capture_appended(cursor: Any, images_id: str, keys: pa.Table, seq: int) -> None:
    """Record as inserted every key of `keys`: rows COPYed straight into a table above its
    highest key (the merge's fast path; a COPY the primary key accepted) added exactly those. They go in
    by the same binary COPY as the rows, from their own Arrow columns: reading them back out of
    the table into a B-tree-keyed twin cost as much as the rows' own COPY (ADR 0113)."""
    n = keys.num_rows
    rows = pa.table([pa.array(np.full(n, seq, dtype=np.int64)),
                     pa.array([INSERTED], pa.string()).take(np.zeros(n, dtype=np.int32)),
                     *keys.columns],
                    names=["_lading_seq", "_lading_kind", *keys.column_names])
    cursor.adbc_ingest(images_id, rows, mode="append")


def samples(cursor: Any, table: str, images: str, keys: Sequence[str], fields: Sequence[str],
            ledger: tuple[str, int, int],
            limits: dict[str, int]) -> dict[str, list[tuple[tuple[Any, ...], tuple[Any, ...]]]]:
    """As sqlite_before_images.samples: (before, after) tuples of every field, read inside the
    merge's transaction after its statement."""
    found: dict[str, list[tuple[tuple[Any, ...], tuple[Any, ...]]]] = {}
    on_key = " and ".join(f"t.{quote_ident(k)} = b.{quote_ident(k)}" for k in keys)
    for kind, limit in limits.items():
        if limit <= 0:
            continue
        before = _idents(fields, "b.") if kind != INSERTED else ""
        after = _idents(fields, "t.") if kind != DELETED else ""
        join = f" join {table} t on {on_key}" if after else ""
        cursor.execute(
            f"select {', '.join(c for c in (before, after) if c)} from {images} b{join}"
            f" where b._lading_seq = (select seq from {CHUNKS_TABLE} where job_id = $1::uuid"
            f" and plan_version = $2 and chunk = $3) and b._lading_kind = $4"
            f" order by {_idents(keys, 'b.')} limit $5", (*ledger, kind, limit))
        split = len(fields) if before else 0
        found[kind] = [(tuple(r[:split]), tuple(r[split:])) for r in cursor.fetchall()]
    return found


def revert(cursor: Any, table: str, images: str, fields: Sequence[str], keys: Sequence[str],
           ledger: tuple[str, int, int]) -> tuple[int, int]:
    """Undo one merged chunk from its before-images, exactly once; (removed, restored)."""
    this_chunk = "job_id = $1::uuid and plan_version = $2 and chunk = $3"
    claimed = fetch_one(
        cursor,
        f"insert into {REVERT_LEDGER_TABLE} (job_id, plan_version, chunk) values ($1::uuid, $2, $3)"
        " on conflict do nothing returning true", ledger)
    if claimed is None:
        recorded = fetch_one(
            cursor, f"select removed, restored from {REVERT_LEDGER_TABLE} where {this_chunk}", ledger)
        assert recorded is not None
        return int(recorded[0]), int(recorded[1])
    numbered = fetch_one(cursor, f"select seq from {CHUNKS_TABLE} where {this_chunk}", ledger)
    removed = restored = 0
    if numbered is not None:  # a chunk that changed nothing has no images
        seq = numbered[0]
        key_list = _idents(keys)
        (removed,) = fetch_one(
            cursor,
            f"with gone as (delete from {table} where ({key_list}) in (select {key_list}"
            f" from {images} where _lading_seq = $1 and _lading_kind = '{INSERTED}') returning 1)"
            " select count(*) from gone", (seq,)) or (0,)
        values = [f for f in fields if f not in keys]
        action = ("do update set " + ", ".join(f"{quote_ident(v)} = excluded.{quote_ident(v)}"
                                               for v in values)) if values else "do nothing"
        (restored,) = fetch_one(
            cursor,
            f"with back as (insert into {table} ({_idents(fields)}) select {_idents(fields)}"
            f" from {images} where _lading_seq = $1 and _lading_kind <> '{INSERTED}'"
            f" order by {key_list} on conflict ({key_list}) {action} returning 1)"
            " select count(*) from back", (seq,)) or (0,)
        fetch_one(cursor, f"with used as (delete from {images} where _lading_seq = $1 returning 1)"
                          " select count(*) from used", (seq,))
        fetch_one(cursor, f"with used as (delete from {CHUNKS_TABLE} where seq = $1 returning 1)"
                          " select count(*) from used", (seq,))
    fetch_one(
        cursor,
        f"with recorded as (update {REVERT_LEDGER_TABLE} set removed = $4, restored = $5"
        f" where {this_chunk} returning 1) select count(*) from recorded",
        (*ledger, removed, restored))
    return int(removed), int(restored)


def chunks_kept_sql() -> str:
    """For psycopg: how many of a job's merged chunks still hold their images."""
    return f"select count(*) from {CHUNKS_TABLE} where job_id = %s and plan_version = %s"


def forget_sql(images: str) -> list[str]:
    """For psycopg, in one transaction: drop every image of a job (retention)."""
    return [f"delete from {images} where _lading_seq in"
            f" (select seq from {CHUNKS_TABLE} where job_id = %s)",
            f"delete from {CHUNKS_TABLE} where job_id = %s"]


def conflicts_sql(images: str, keys: Sequence[str]) -> tuple[str, str]:
    """(count, first pairs) queries for psycopg: the job's keys a later job changed again."""
    on_key = " and ".join(f"later.{quote_ident(k)} = mine.{quote_ident(k)}" for k in keys)
    pairs = (f"from {CHUNKS_TABLE} mc join {images} mine on mine._lading_seq = mc.seq"
             f" join {images} later on {on_key} and later._lading_seq > mine._lading_seq"
             f" join {CHUNKS_TABLE} lc on lc.seq = later._lading_seq and lc.job_id <> mc.job_id"
             " where mc.job_id = %s and mc.plan_version = %s")
    mine = _idents(keys, "mine.")
    return (f"select count(*) from (select distinct {mine} {pairs}) as changed",
            f"select {mine}, min(lc.job_id::text) {pairs} group by {mine}"
            f" order by {mine} limit %s")


def _idents(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + quote_ident(n) for n in names)
