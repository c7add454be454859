"""The destination merge against a bare executemany, measured in the same run.

Rows are the demo `profiles` object's 11 columns, typed as validated chunks are, merged in
chunks through `merge_chunk` (conversion, key sort, ledger and exact counts included):

- SQLite: bare `executemany` INSERT of ready-made tuples, then merge_chunk upserts into an
  empty object, the same rows again (all unchanged), every row changed, and with keys
  shuffled across the whole file (every chunk overlaps the table: the exact-count probe runs);
  the unchanged, updated and shuffled cases again with per-row outcomes (ADR 0090).
- PostgreSQL: bare psycopg `executemany` INSERT and a bare COPY, then the same merges.

    python -m bench.destination_merge [--rows 1000000] [--chunk 100000] [--postgres URL | --no-postgres]

The machine is shared and noisy: compare ratios from one run, not absolute figures.
"""

from __future__ import annotations

import argparse
import io
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from lading.adapters.arrow_types import arrow_schema
from lading.adapters.postgres_destination import PostgresDestination
from lading.adapters.sqlite_destination import SqliteDestination
from lading.application.ports import LedgerEntry, MergeCounts
from lading.domain.table_schema import TableSchema
from lading.entrypoints.samples import profiles_object

SCHEMA = TableSchema.from_dict(profiles_object()["schema"])
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def profiles(rows: int, *, seed: int = 7, shuffled: bool = False, version: int = 0) -> pa.Table:
    """Deterministic rows shaped like gen_data.py's; ids ascend with gaps (export order)."""
    rng = random.Random(seed)
    ids = []
    current = 0
    for _ in range(rows):
        current += rng.randint(1, 3)
        ids.append(current)
    if shuffled:
        rng.shuffle(ids)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    data = {
        "id": ids,
        "email": [f"user{i}@example.com" for i in ids],
        "first_name": [("Ana", "Wei", "Kwame", "Olga")[i % 4] for i in ids],
        "last_name": [("Smith", "Chen", "Mensah", "Ivanova")[i % 4] for i in ids],
        "country": [("US", "DE", "GH", "JP")[i % 4] for i in ids],
        "signup_ts": [start + timedelta(seconds=i * 37) for i in ids],
        "birth_date": [(start - timedelta(days=7000 + i % 15000)).date() for i in ids],
        "lifetime_value": [round((i % 100_000) / 7 + version, 2) for i in ids],
        "is_active": [i % 3 != 0 for i in ids],
        "plan": [("free", "pro", "enterprise")[i % 3] for i in ids],
        "notes": [None if i % 5 else f'said "hi", twice {i}' for i in ids],
    }
    return pa.table(data, schema=arrow_schema(SCHEMA))


def chunks(table: pa.Table, size: int) -> list[pa.Table]:
    return [table.slice(start, size) for start in range(0, table.num_rows, size)]


def timed(label: str, rows: int, work: Callable[[], object]) -> None:
    began = time.perf_counter()
    outcome = work()
    elapsed = time.perf_counter() - began
    note = f"  {outcome}" if isinstance(outcome, MergeCounts) else ""
    print(f"  {label:<58} {rows / elapsed:>10,.0f} rows/s  ({elapsed:6.2f} s){note}", flush=True)


def merge_all(store, name: str, parts: list[pa.Table], outcomes: bool = False) -> MergeCounts:
    """With `outcomes`, each merge also classifies its rows for the per-row results file
    (ADR 0090); the part itself is not written, so this is the destination's share."""
    job = uuid.uuid4()
    inserts = updates = unchanged = 0
    for index, part in enumerate(parts):
        counts = store.merge_chunk("bench", name, SCHEMA, "upsert", part, LedgerEntry(job, 1, index),
                                   on_outcomes=(lambda words: None) if outcomes else None)
        inserts += counts.inserts
        updates += counts.updates
        unchanged += counts.unchanged
    return MergeCounts(inserts=inserts, updates=updates, unchanged=unchanged)


def time_merges(store: Any, rows: int, chunk: int, ordered: pa.Table, changed: pa.Table,
                changed_again: pa.Table, shuffled: pa.Table) -> None:
    """The destination's merge_chunk timed on each kind of file, in an order that builds on
    what the step before stored."""
    timed("merge_chunk upsert, empty object (all inserts)", rows,
          lambda: merge_all(store, "profiles", chunks(ordered, chunk)))
    timed("merge_chunk upsert, same rows again (all unchanged)", rows,
          lambda: merge_all(store, "profiles", chunks(ordered, chunk)))
    timed("  the same, with per-row outcomes", rows,
          lambda: merge_all(store, "profiles", chunks(ordered, chunk), outcomes=True))
    timed("merge_chunk upsert, every row changed (all updates)", rows,
          lambda: merge_all(store, "profiles", chunks(changed, chunk)))
    timed("  every row changed again, with per-row outcomes", rows,
          lambda: merge_all(store, "profiles", chunks(changed_again, chunk), outcomes=True))
    timed("merge_chunk upsert, keys shuffled over the file, empty", rows,
          lambda: merge_all(store, "shuffled", chunks(shuffled, chunk)))
    timed("  the same into another empty object, with per-row outcomes", rows,
          lambda: merge_all(store, "shuffled2", chunks(shuffled, chunk), outcomes=True))


def as_tuples(table: pa.Table) -> list[tuple]:
    """Plain Python tuples as a hand-written loader would bind them (ISO text for times)."""
    columns = []
    for column, field in zip(table.columns, SCHEMA.fields):
        if field.type in ("date", "datetime"):
            column = column.cast(pa.timestamp("us")).cast(pa.string()) if field.type == "datetime" \
                else column.cast(pa.string())
        columns.append(column.to_pylist())
    return list(zip(*columns))


def bench_sqlite(rows: int, chunk: int) -> None:
    print(f"SQLite, {rows:,} rows in chunks of {chunk:,}")
    ordered, shuffled = profiles(rows), profiles(rows, shuffled=True)
    changed = profiles(rows, version=1)
    changed_again = profiles(rows, version=2)
    with tempfile.TemporaryDirectory() as tmp:
        bare = sqlite3.connect(Path(tmp) / "bare.sqlite", isolation_level=None)
        bare.execute("pragma journal_mode=wal")
        bare.execute("pragma synchronous=full")
        others = ", ".join(f'"{f.name}"' for f in SCHEMA.fields[1:])
        bare.execute(f'create table t ("id" INTEGER PRIMARY KEY, {others})')  # as the store does
        tuples = as_tuples(ordered)
        marks = ", ".join("?" for _ in SCHEMA.fields)

        def executemany() -> None:
            for start in range(0, len(tuples), chunk):
                bare.execute("begin")
                bare.executemany(f"insert into t values ({marks})", tuples[start:start + chunk])
                bare.execute("commit")

        timed("baseline: bare executemany INSERT, tuples ready", rows, executemany)
        bare.close()

        store = SqliteDestination(Path(tmp) / "lading")
        time_merges(store, rows, chunk, ordered, changed, changed_again, shuffled)
        store.close()


def bench_postgres(url: str, rows: int, chunk: int) -> None:
    import psycopg

    schema_name = f"lading_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'create schema "{schema_name}"')
    scoped = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema_name}"
    print(f"PostgreSQL, {rows:,} rows in chunks of {chunk:,}")
    try:
        ordered, shuffled = profiles(rows), profiles(rows, shuffled=True)
        changed = profiles(rows, version=1)
        changed_again = profiles(rows, version=2)
        with psycopg.connect(scoped, autocommit=True) as conn:
            conn.execute("set time zone 'UTC'")
            types = {"integer": "bigint", "number": "double precision", "boolean": "boolean",
                     "date": "date", "datetime": "timestamptz", "string": "text"}
            columns = ", ".join(f'"{f.name}" {types[f.type]}' for f in SCHEMA.fields)
            names = ", ".join(f'"{f.name}"' for f in SCHEMA.fields)
            tuples = as_tuples(ordered)
            marks = ", ".join("%s" for _ in SCHEMA.fields)

            def executemany() -> None:
                conn.execute(f'create table bare ({columns}, primary key ("id"))')
                for start in range(0, len(tuples), chunk):
                    with conn.transaction():
                        conn.cursor().executemany(f"insert into bare values ({marks})",
                                                  tuples[start:start + chunk])

            def copy() -> None:
                conn.execute(f'create table copied ({columns}, primary key ("id"))')
                naive = pa.table([c.cast(pa.timestamp("us")) if pa.types.is_timestamp(c.type)
                                  else c for c in ordered.columns], names=ordered.column_names)
                for part in chunks(naive, chunk):
                    buffer = io.BytesIO()
                    pacsv.write_csv(part, buffer, pacsv.WriteOptions(include_header=False))
                    with conn.transaction(), conn.cursor().copy(
                            f"copy copied ({names}) from stdin (format csv)") as cp:
                        cp.write(buffer.getvalue())

            timed("baseline: bare psycopg executemany INSERT, tuples ready", rows, executemany)
            timed("baseline: bare COPY (CSV from Arrow)", rows, copy)

        store = PostgresDestination(scoped)
        time_merges(store, rows, chunk, ordered, changed, changed_again, shuffled)
        store.close()
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'drop schema "{schema_name}" cascade')


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--postgres", default=DEFAULT_PG, help="server URL (a scratch schema is used)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    bench_sqlite(args.rows, args.chunk)
    if not args.no_postgres:
        bench_postgres(args.postgres, args.rows, args.chunk)


if __name__ == "__main__":
    sys.exit(main())
