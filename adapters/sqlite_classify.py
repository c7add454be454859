"""What a staged chunk would do to a SQLite table, found before the merge writes (ADR 0116).

Under the merge's write lock, one pass over the staged rows counts the keys the table holds and,
of those, the rows whose values differ, by the same comparison the write and the before-images
use. The merge then skips what cannot apply: a chunk of stored, unchanged rows (a re-import)
writes nothing at all, and a chunk of new keys only is copied without conflict checks. Per-row
outcomes (ADR 0090) are read row by row only for a chunk that is neither all new, all unchanged
nor all changed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np

from lading.adapters.sql_naming import quote_ident
from lading.adapters.sqlite_before_images import StagedChunk


@dataclass(frozen=True)
class Seen:
    """How many of the chunk's `rows` keys the table holds (`existing`) and, of those, how
    many hold other values (`changed`); per row in the chunk's key order when asked."""

    rows: int
    existing: int
    changed: int
    found: np.ndarray | None = None
    differs: np.ndarray | None = None


def classify(conn: sqlite3.Connection, chunk: StagedChunk, lowest: tuple[Any, ...], per_row: bool) -> Seen:
    """`lowest`: the chunk's first (sorted) key. The caller holds the write transaction, so
    nothing changes between this and the write."""
    n = chunk.rows
    if _beyond_table(conn, chunk, lowest):
        # The common first import: every key beyond what the table holds, nothing to probe.
        return _uniform(n, 0, 0, per_row)
    key = f"t.{quote_ident(chunk.keys[0])}"  # NOT NULL in the table: null only when missing
    differs = _differs(chunk)
    # LEFT JOIN: the staged rows drive the loop, each one probing the table by key.
    joined = f"from {chunk.source} as s left join {chunk.table} as t on {chunk.on_key('t')}"
    existing, changed = conn.execute(
        f"select count({key}), coalesce(sum({key} is not null and {differs}), 0) {joined}"
    ).fetchone()
    if not per_row or changed in (0, existing) and existing in (0, n):
        return _uniform(n, existing, changed, per_row)
    judged = np.array(conn.execute(
        f"select {key} is not null, {differs} {joined} order by s.rowid").fetchall(),
        dtype=bool).reshape(-1, 2)
    found = judged[:, 0]
    return Seen(n, existing, changed, found, found & judged[:, 1])


def _uniform(n: int, existing: int, changed: int, per_row: bool) -> Seen:
    if not per_row:
        return Seen(n, existing, changed)
    return Seen(n, existing, changed, np.full(n, existing == n and n > 0),
                np.full(n, changed == n and n > 0))


def _differs(chunk: StagedChunk) -> str:
    if not chunk.values:
        return "0"
    stored = ", ".join(f"t.{quote_ident(v)}" for v in chunk.values)
    staged = ", ".join(f"s.{chunk.staged[v]}" for v in chunk.values)
    return f"({stored}) is not ({staged})"


def _beyond_table(conn: sqlite3.Connection, chunk: StagedChunk, lowest: tuple[Any, ...]) -> bool:
    """No stored key is at or above the chunk's lowest key."""
    keys = ", ".join(quote_ident(k) for k in chunk.keys)
    marks = ", ".join("?" for _ in chunk.keys)
    return not conn.execute(
        f"select exists (select 1 from {chunk.table} where ({keys}) >= ({marks}))",
        lowest).fetchone()[0]
