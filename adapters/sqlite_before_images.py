"""Before-images on SQLite (ADR 0094): what a merge changed, kept so that it can be undone.

Each merged chunk that changed rows gets a number (`lading_image_chunks`, in the order chunks
commit), and each object's table a twin (`before_images_table`) with the same columns, all
nullable, plus that number and the row's kind: `inserted` (only the key: undoing deletes it),
`updated` and `deleted` (the whole row as it was: undoing writes it back). A merge captures them
with set-based statements in its own transaction, before it writes; a revert of a chunk restores
them, deletes them and records itself in the revert ledger, again in one transaction.

The twin is one B-tree keyed by (chunk number, key): a merge appends to its right edge, and a
revert reads one range. Conflicts are looked up by key only when a revert is asked for, rarely,
and SQLite builds the index that join needs then.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lading.adapters.sql_naming import REVERT_LEDGER_TABLE, quote_ident

INSERTED, UPDATED, DELETED = "inserted", "updated", "deleted"
CHUNKS_TABLE = "lading_image_chunks"


def create_sql(table: str, columns: Sequence[tuple[str, str]], keys: Sequence[str]) -> str:
    """The twin table of `table` (its (name, SQL type) columns)."""
    fields = ", ".join(f"{quote_ident(name)} {sql_type}" for name, sql_type in columns)
    return (f"create table if not exists {quote_ident(table)} ("
            f" _lading_seq INTEGER NOT NULL, _lading_kind TEXT NOT NULL, {fields},"
            f" PRIMARY KEY (_lading_seq, {_idents(keys)})) STRICT, WITHOUT ROWID")


def create_ledger_sql() -> list[str]:
    """The numbered chunks that hold images, and the revert ledger."""
    return [
        f"create table if not exists {CHUNKS_TABLE} ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL,"
        " plan_version INTEGER NOT NULL, chunk INTEGER NOT NULL,"
        " UNIQUE (job_id, plan_version, chunk)) STRICT",
        f"create table if not exists {REVERT_LEDGER_TABLE} ("
        " job_id TEXT NOT NULL, plan_version INTEGER NOT NULL, chunk INTEGER NOT NULL,"
        " removed INTEGER NOT NULL, restored INTEGER NOT NULL, reverted_at TEXT NOT NULL,"
        " PRIMARY KEY (job_id, plan_version, chunk)) STRICT",
    ]


@dataclass(frozen=True)
class StagedChunk:
    """A chunk as the merge statement reads it: `source` (attached table) with its columns
    named by position (`staged[field]`), the object's `table` and its twin `images`."""

    table: str  # quoted
    images: str  # quoted
    source: str
    staged: dict[str, str]  # field -> staged column
    keys: list[str]
    values: list[str]  # the chunk's non-key fields (what an update may change)
    fields: list[str]  # every field of the object (what a before-image holds)
    rows: int

    def on_key(self, left: str) -> str:
        return " and ".join(f"{left}.{quote_ident(k)} = s.{self.staged[k]}" for k in self.keys)


def capture(conn: sqlite3.Connection, chunk: StagedChunk, operation: str,
            ledger: tuple[str, int, int], existing: int | None, changed: int | None = None) -> int:
    """Record the before-images of what merging `chunk` with `operation` is about to change and
    return the chunk's number; `existing`: how many of its keys the table holds (None for a
    delete) and `changed`: how many of those hold other values (None: not counted), so that a
    chunk of new keys only (a first import) or of unchanged known keys only (a re-import) skips
    what cannot apply. The caller holds the write transaction, so chunks are numbered in the
    order they commit."""
    seq = conn.execute(
        f"insert into {CHUNKS_TABLE} (job_id, plan_version, chunk) values (?, ?, ?)", ledger
    ).lastrowid
    assert seq is not None
    into = f"insert into {chunk.images} (_lading_seq, _lading_kind,"
    whole = _idents(chunk.fields)
    new_keys = (f"{into} {_idents(chunk.keys)}) select ?, '{INSERTED}',"
                f" {', '.join('s.' + chunk.staged[k] for k in chunk.keys)} from {chunk.source} as s")
    if operation in ("upsert", "insert") and existing == 0:
        conn.execute(new_keys, (seq,))
    elif operation in ("upsert", "insert") and existing != chunk.rows:
        conn.execute(f"{new_keys} where not exists (select 1 from {chunk.table} as t"
                     f" where {chunk.on_key('t')})", (seq,))
    if operation in ("upsert", "update") and chunk.values and existing and changed != 0:
        conn.execute(
            f"{into} {whole}) select ?, '{UPDATED}', {_idents(chunk.fields, 't.')}"
            f" from {chunk.source} as s join {chunk.table} as t on {chunk.on_key('t')}"
            f" where ({_idents(chunk.values, 't.')}) is not"
            f" ({', '.join('s.' + chunk.staged[v] for v in chunk.values)})", (seq,))
    if operation == "delete":
        conn.execute(
            f"{into} {whole}) select ?, '{DELETED}', {_idents(chunk.fields, 't.')}"
            f" from {chunk.source} as s join {chunk.table} as t on {chunk.on_key('t')}", (seq,))
    return seq


def samples(conn: sqlite3.Connection, chunk: StagedChunk, seq: int,
            limits: dict[str, int]) -> dict[str, list[tuple[tuple[Any, ...], tuple[Any, ...]]]]:
    """Up to `limits[kind]` captured rows of each kind as (before, after) tuples of every
    field, read after the merge statement inside its transaction: after is the table's row
    (empty for a delete), before the image (empty for an insert)."""
    found: dict[str, list[tuple[tuple[Any, ...], tuple[Any, ...]]]] = {}
    on_key = " and ".join(f"t.{quote_ident(k)} = b.{quote_ident(k)}" for k in chunk.keys)
    for kind, limit in limits.items():
        if limit <= 0:
            continue
        before = _idents(chunk.fields, "b.") if kind != INSERTED else ""
        after = _idents(chunk.fields, "t.") if kind != DELETED else ""
        join = f" join {chunk.table} as t on {on_key}" if after else ""
        rows = conn.execute(
            f"select {', '.join(c for c in (before, after) if c)} from {chunk.images} as b{join}"
            f" where b._lading_seq = ? and b._lading_kind = ?"
            f" order by {_idents(chunk.keys, 'b.')} limit ?",
            (seq, kind, limit)).fetchall()
        split = len(chunk.fields) if before else 0
        found[kind] = [(tuple(r[:split]), tuple(r[split:])) for r in rows]
    return found


def revert(conn: sqlite3.Connection, table: str, images: str, fields: Sequence[str],
           keys: Sequence[str], ledger: tuple[str, int, int], now: str) -> tuple[int, int]:
    """Undo one merged chunk from its before-images, exactly once; return (removed, restored).
    The caller holds the write transaction."""
    recorded = conn.execute(
        f"select removed, restored from {REVERT_LEDGER_TABLE}"
        " where job_id = ? and plan_version = ? and chunk = ?", ledger).fetchone()
    if recorded is not None:
        return recorded[0], recorded[1]
    numbered = conn.execute(f"select seq from {CHUNKS_TABLE} where job_id = ? and plan_version = ?"
                            " and chunk = ?", ledger).fetchone()
    removed = restored = 0
    if numbered is not None:  # a chunk that changed nothing has no images
        (seq,) = numbered
        key_list = _idents(keys)
        removed = conn.execute(
            f"delete from {table} where ({key_list}) in (select {key_list} from {images}"
            f" where _lading_seq = ? and _lading_kind = '{INSERTED}')", (seq,)).rowcount
        values = [f for f in fields if f not in keys]
        action = ("do update set " + ", ".join(f"{quote_ident(v)} = excluded.{quote_ident(v)}"
                                               for v in values)) if values else "do nothing"
        restored = conn.execute(
            f"insert into {table} ({_idents(fields)}) select {_idents(fields)} from {images}"
            f" where _lading_seq = ? and _lading_kind <> '{INSERTED}' order by {key_list}"
            f" on conflict ({key_list}) {action}", (seq,)).rowcount
        conn.execute(f"delete from {images} where _lading_seq = ?", (seq,))
        conn.execute(f"delete from {CHUNKS_TABLE} where seq = ?", (seq,))
    conn.execute(
        f"insert into {REVERT_LEDGER_TABLE} (job_id, plan_version, chunk, removed, restored,"
        " reverted_at) values (?, ?, ?, ?, ?, ?)", (*ledger, removed, restored, now))
    return removed, restored


def chunks_kept(conn: sqlite3.Connection, job_id: str, plan_version: int) -> int:
    """How many of the job's merged chunks still hold their images."""
    return conn.execute(f"select count(*) from {CHUNKS_TABLE} where job_id = ? and plan_version = ?",
                        (job_id, plan_version)).fetchone()[0]


def forget(conn: sqlite3.Connection, images: str, job_id: str) -> int:
    """Drop every image of the job (retention); return how many rows went. The caller holds
    the write transaction."""
    chunks = f"select seq from {CHUNKS_TABLE} where job_id = ?"
    gone = conn.execute(f"delete from {images} where _lading_seq in ({chunks})", (job_id,)).rowcount
    conn.execute(f"delete from {CHUNKS_TABLE} where job_id = ?", (job_id,))
    return gone


def conflicts(conn: sqlite3.Connection, images: str, keys: Sequence[str], job_id: str,
              plan_version: int, limit: int) -> tuple[list[tuple[tuple[Any, ...], str]], int]:
    """Keys this job changed that a later job (not reverted) changed again: up to `limit`
    (key values, later job id) pairs, and how many keys in all."""
    on_key = " and ".join(f"later.{quote_ident(k)} = mine.{quote_ident(k)}" for k in keys)
    pairs = (f"from {CHUNKS_TABLE} as mc join {images} as mine on mine._lading_seq = mc.seq"
             f" join {images} as later on {on_key} and later._lading_seq > mine._lading_seq"
             f" join {CHUNKS_TABLE} as lc on lc.seq = later._lading_seq and lc.job_id <> mc.job_id"
             " where mc.job_id = ? and mc.plan_version = ?")
    mine = _idents(keys, "mine.")
    count = conn.execute(f"select count(*) from (select distinct {mine} {pairs})",
                         (job_id, plan_version)).fetchone()[0]
    rows = conn.execute(
        f"select {mine}, min(lc.job_id) {pairs} group by {mine} order by {mine} limit ?",
        (job_id, plan_version, limit)).fetchall()
    return [(tuple(r[:-1]), r[-1]) for r in rows], count


def _idents(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + quote_ident(n) for n in names)
