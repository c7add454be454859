"""Before-images on SQLite (ADR 0094): what a merge changed, kept so that it can be undone.

Each object's table has a twin (`before_images_table`) with the same columns, all nullable, plus
the merged chunk the row belongs to, the chunk's place in the order of all merges (`_lading_seq`)
and the row's kind: `inserted` (only the key: undoing deletes it), `updated` and `deleted` (the
whole row as it was: undoing writes it back). A merge captures them with set-based statements in
its own transaction, before it writes; a revert of a chunk restores them, deletes them and
records itself in the revert ledger, again in one transaction.

The twin is one B-tree keyed by (job, plan version, chunk, key), which is what a revert reads:
every image a merge writes costs one B-tree entry. Conflicts are looked up by key only when a
revert is asked for, rarely, and SQLite builds the index that join needs then.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lading.adapters.sql_naming import REVERT_LEDGER_TABLE, quote_ident

INSERTED, UPDATED, DELETED = "inserted", "updated", "deleted"
MERGE_SEQUENCE = "lading_merge_sequence"
_OF_CHUNK = "_lading_job = ? and _lading_plan = ? and _lading_chunk = ?"
_OF_CHUNK_B = "b._lading_job = ? and b._lading_plan = ? and b._lading_chunk = ?"


def create_sql(table: str, columns: Sequence[tuple[str, str]], keys: Sequence[str]) -> str:
    """The twin table of `table` (its (name, SQL type) columns)."""
    fields = ", ".join(f"{quote_ident(name)} {sql_type}" for name, sql_type in columns)
    return (f"create table if not exists {quote_ident(table)} ("
            " _lading_job TEXT NOT NULL, _lading_plan INTEGER NOT NULL,"
            " _lading_chunk INTEGER NOT NULL, _lading_seq INTEGER NOT NULL,"
            f" _lading_kind TEXT NOT NULL, {fields},"
            f" PRIMARY KEY (_lading_job, _lading_plan, _lading_chunk, {_idents(keys)}))"
            " STRICT, WITHOUT ROWID")


def create_ledger_sql() -> list[str]:
    """The revert ledger, and the counter that orders merged chunks (one row)."""
    return [
        f"create table if not exists {REVERT_LEDGER_TABLE} ("
        " job_id TEXT NOT NULL, plan_version INTEGER NOT NULL, chunk INTEGER NOT NULL,"
        " removed INTEGER NOT NULL, restored INTEGER NOT NULL, reverted_at TEXT NOT NULL,"
        " PRIMARY KEY (job_id, plan_version, chunk)) STRICT",
        f"create table if not exists {MERGE_SEQUENCE} (n INTEGER NOT NULL) STRICT",
        f"insert into {MERGE_SEQUENCE} (n) select 0 where not exists (select 1 from {MERGE_SEQUENCE})",
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

    def on_key(self, left: str, right: str = "s") -> str:
        return " and ".join(f"{left}.{quote_ident(k)} = {right}.{self.staged[k]}" for k in self.keys)


def capture(conn: sqlite3.Connection, chunk: StagedChunk, operation: str,
            ledger: tuple[str, int, int], existing: int | None) -> None:
    """Record the before-images of what merging `chunk` with `operation` is about to change;
    `existing`: how many of its keys the table holds (None for a delete), so that a chunk of
    new keys only (a first import) or of known keys only (a re-import) skips what cannot apply.
    The caller holds the write transaction, so chunks take their sequence numbers in the order
    they commit."""
    (seq,) = conn.execute(f"update {MERGE_SEQUENCE} set n = n + 1 returning n").fetchone()
    ledger = (*ledger, seq)
    into = (f"insert into {chunk.images} (_lading_job, _lading_plan, _lading_chunk, _lading_seq,"
            " _lading_kind,")
    whole = _idents(chunk.fields)
    new_keys = f"select ?, ?, ?, ?, '{INSERTED}', {', '.join('s.' + chunk.staged[k] for k in chunk.keys)}"
    if operation in ("upsert", "insert") and existing == 0:
        conn.execute(f"{into} {_idents(chunk.keys)}) {new_keys} from {chunk.source} as s", ledger)
    elif operation in ("upsert", "insert") and existing != chunk.rows:
        conn.execute(
            f"{into} {_idents(chunk.keys)}) {new_keys} from {chunk.source} as s"
            f" where not exists (select 1 from {chunk.table} as t where {chunk.on_key('t')})",
            ledger)
    if operation in ("upsert", "update") and chunk.values and existing:
        conn.execute(
            f"{into} {whole}) select ?, ?, ?, ?, '{UPDATED}', {_idents(chunk.fields, 't.')}"
            f" from {chunk.source} as s join {chunk.table} as t on {chunk.on_key('t')}"
            f" where ({_idents(chunk.values, 't.')}) is not"
            f" ({', '.join('s.' + chunk.staged[v] for v in chunk.values)})",
            ledger)
    if operation == "delete":
        conn.execute(
            f"{into} {whole}) select ?, ?, ?, ?, '{DELETED}', {_idents(chunk.fields, 't.')}"
            f" from {chunk.source} as s join {chunk.table} as t on {chunk.on_key('t')}",
            ledger)


def samples(conn: sqlite3.Connection, chunk: StagedChunk, ledger: tuple[str, int, int],
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
            f" where {_OF_CHUNK_B} and b._lading_kind = ? order by {_idents(chunk.keys, 'b.')}"
            " limit ?",
            (*ledger, kind, limit)).fetchall()
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
    key_list = _idents(keys)
    removed = conn.execute(
        f"delete from {table} where ({key_list}) in (select {key_list} from {images}"
        f" where {_OF_CHUNK} and _lading_kind = '{INSERTED}')", ledger).rowcount
    values = [f for f in fields if f not in keys]
    action = ("do update set " + ", ".join(f"{quote_ident(v)} = excluded.{quote_ident(v)}"
                                           for v in values)) if values else "do nothing"
    restored = conn.execute(
        f"insert into {table} ({_idents(fields)}) select {_idents(fields)} from {images}"
        f" where {_OF_CHUNK} and _lading_kind <> '{INSERTED}' order by {key_list}"
        f" on conflict ({key_list}) {action}", ledger).rowcount
    conn.execute(f"delete from {images} where {_OF_CHUNK}", ledger)
    conn.execute(
        f"insert into {REVERT_LEDGER_TABLE} (job_id, plan_version, chunk, removed, restored,"
        " reverted_at) values (?, ?, ?, ?, ?, ?)", (*ledger, removed, restored, now))
    return removed, restored


def conflicts(conn: sqlite3.Connection, images: str, keys: Sequence[str], job_id: str,
              plan_version: int, limit: int) -> tuple[list[tuple[tuple[Any, ...], str]], int]:
    """Keys this job changed that a later job (not reverted) changed again: up to `limit`
    (key values, later job id) pairs, and how many keys in all."""
    on_key = " and ".join(f"later.{quote_ident(k)} = mine.{quote_ident(k)}" for k in keys)
    pairs = (f"from {images} as mine join {images} as later on {on_key}"
             " and later._lading_seq > mine._lading_seq and later._lading_job <> mine._lading_job"
             " where mine._lading_job = ? and mine._lading_plan = ?")
    mine = _idents(keys, "mine.")
    count = conn.execute(f"select count(*) from (select distinct {mine} {pairs})",
                         (job_id, plan_version)).fetchone()[0]
    rows = conn.execute(
        f"select {mine}, min(later._lading_job) {pairs} group by {mine} order by {mine} limit ?",
        (job_id, plan_version, limit)).fetchall()
    return [(tuple(r[:-1]), r[-1]) for r in rows], count


def _idents(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + quote_ident(n) for n in names)
