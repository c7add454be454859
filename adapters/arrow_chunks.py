"""Check and order a chunk of typed rows before a SQL destination merges it.

Both destinations need the same guarantees from a chunk: known columns in schema order, the
Arrow types of adapters/arrow_types.py, no null and no repeated key, rows in key order. A chunk
that breaks them is a caller's bug, refused before any transaction begins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lading.adapters.arrow_types import arrow_type
from lading.adapters.key_json import key_value
from lading.domain.plan import OPERATIONS
from lading.domain.table_schema import Field, TableSchema


class ChunkRefused(ValueError):
    """A chunk the destination will not merge (wrong columns, types or keys)."""


@dataclass(frozen=True)
class MergeChunk:
    """A chunk ready to merge: `rows` holds `fields` (schema order), sorted by the key."""

    rows: pa.Table
    fields: tuple[Field, ...]
    key_fields: tuple[Field, ...]
    # Where each (sorted) row was in the rows as given; None when they came in key order.
    source_order: np.ndarray | None = None

    @property
    def value_fields(self) -> tuple[Field, ...]:
        keys = {f.name for f in self.key_fields}
        return tuple(f for f in self.fields if f.name not in keys)

    @property
    def num_rows(self) -> int:
        return self.rows.num_rows

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


@dataclass(frozen=True)
class PreparedChunk:
    """A chunk checked, converted and staged by a destination, ready for its merge transaction.
    `staged` is the destination's own (e.g. a scratch file), released after the merge."""

    schema: TableSchema
    operation: str
    chunk: MergeChunk
    staged: Any = None

    def check(self, schema: TableSchema, operation: str) -> None:
        if schema != self.schema or operation != self.operation:
            raise ChunkRefused("a chunk prepared for another schema or operation")


def prepare_chunk(schema: TableSchema, operation: str, rows: pa.Table | pa.RecordBatch) -> MergeChunk:
    """Return the chunk typed, in schema column order and sorted by key; raise ChunkRefused."""
    if operation not in OPERATIONS:
        raise ChunkRefused(f"unknown operation {operation!r}; use one of {', '.join(OPERATIONS)}")
    if isinstance(rows, pa.RecordBatch):
        rows = pa.Table.from_batches([rows])
    names = rows.column_names
    unknown = [n for n in names if n not in schema.field_names]
    if unknown:
        raise ChunkRefused(f"columns not in the object's schema: {', '.join(unknown)}")
    if len(set(names)) != len(names):
        raise ChunkRefused("a chunk cannot repeat a column")
    missing = [k for k in schema.primary_key if k not in names]
    if missing:
        raise ChunkRefused(f"a chunk needs every primary key column; missing {', '.join(missing)}")
    # A delete needs only the keys; any other column would be ignored anyway.
    wanted = set(schema.primary_key) if operation == "delete" else set(names)
    fields = tuple(f for f in schema.fields if f.name in wanted)
    key_fields = tuple(schema.field(k) for k in schema.primary_key)
    table = pa.table([_typed(rows.column(f.name), f) for f in fields], names=[f.name for f in fields])
    for f in key_fields:
        if table.column(f.name).null_count:
            raise ChunkRefused(f"primary key field {f.name!r} is empty in some rows")
    keys = [f.name for f in key_fields]
    order = None
    if not _strictly_ascending(table, keys):
        table, order = _sorted(table, keys)
        if _has_repeated_key(table, keys):
            raise ChunkRefused("a chunk cannot hold the same key twice")
    return MergeChunk(rows=table, fields=fields, key_fields=key_fields, source_order=order)


def _typed(column: pa.ChunkedArray, f: Field) -> pa.ChunkedArray:
    expected = arrow_type(f)
    if column.type == expected:
        return column
    try:
        return column.cast(expected, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ChunkRefused(
            f"field {f.name!r} is {f.type} ({expected}) but the chunk holds {column.type}: {exc}"
        ) from None


def _sorted(table: pa.Table, keys: list[str]) -> tuple[pa.Table, np.ndarray | None]:
    # Key order makes B-tree upserts touch each page once (SQLite ran ~5x faster) and gives
    # PostgreSQL's row locks one global order, so concurrent merges cannot deadlock.
    if table.num_rows < 2:
        return table, None
    order = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys])
    return table.take(order), order.to_numpy()


def _strictly_ascending(table: pa.Table, keys: list[str]) -> bool:
    """A single key already in strictly ascending order (the usual export order): sorted and
    free of repeats, so both the sort and the repeat check can be skipped."""
    if len(keys) != 1 or table.num_rows < 2:
        return table.num_rows < 2
    column = table.column(keys[0])
    return bool(pc.all(pc.greater(column.slice(1), column.slice(0, table.num_rows - 1))).as_py())


def _has_repeated_key(table: pa.Table, keys: list[str]) -> bool:
    # Sorted, so a repeat sits next to its twin: compare each row with the previous one.
    n = table.num_rows
    if n < 2:
        return False
    same: pa.Array | None = None
    for k in keys:
        column = table.column(k)
        equal = pc.equal(column.slice(1), column.slice(0, n - 1))
        same = equal if same is None else pc.and_(same, equal)
    return bool(pc.any(same).as_py())


def member_keys(chunk: MergeChunk) -> list[str]:
    """Each row's primary key as the JSON object a list stores as one member, e.g. {"id":7}:
    compact, key fields in schema order, text as is (what json.dumps with separators=(",", ":")
    and ensure_ascii=False writes), built from each value's JSON text (a few times faster)."""
    names = [f.name for f in chunk.key_fields]
    heads = [json.dumps(n, ensure_ascii=False) + ":" for n in names]
    columns = [[_key_text(v) for v in chunk.rows.column(n).to_pylist()] for n in names]
    if len(columns) == 1:
        head = "{" + heads[0]
        return [f"{head}{text}}}" for text in columns[0]]
    return ["{" + ",".join(h + t for h, t in zip(heads, texts)) + "}" for texts in zip(*columns)]


def _key_text(value) -> str:
    if type(value) is int:  # the common key, and never a bool (a subclass)
        return str(value)
    return json.dumps(key_value(value), ensure_ascii=False)
