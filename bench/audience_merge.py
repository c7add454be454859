"""What an audience costs a merge (ADR 0065): the same upserts into an object without an
audience (one lookup a chunk) and into one with an audience (every key's last writer recorded
in the merge's transaction), then a second job rewriting every record, on SQLite and PostgreSQL.

    python -m bench.audience_merge [--rows 1000000] [--chunk 100000] [--postgres URL | --no-postgres]

The machine is shared and noisy: compare figures from one run, not across machines.
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from pathlib import Path

from bench.destination_merge import DEFAULT_PG, chunks, merge_all, profiles, timed
from lading.adapters.postgres_destination import PostgresDestination
from lading.adapters.sqlite_destination import SqliteDestination


def run(store, rows: int, chunk: int) -> None:
    first, second = chunks(profiles(rows), chunk), chunks(profiles(rows, version=1), chunk)
    name = f"plain_{uuid.uuid4().hex[:8]}"
    timed("no audience: upsert, empty object", rows, lambda: merge_all(store, name, first))
    timed("no audience: every row rewritten", rows, lambda: merge_all(store, name, second))
    name = f"audience_{uuid.uuid4().hex[:8]}"
    store.ensure_audience("bench", str(uuid.uuid4()), "bench", name, uuid.uuid4())
    timed("with an audience: upsert, empty object", rows, lambda: merge_all(store, name, first))
    timed("with an audience: every row rewritten", rows, lambda: merge_all(store, name, second))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--postgres", default=DEFAULT_PG)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite")
        store = SqliteDestination(Path(tmp))
        try:
            run(store, args.rows, args.chunk)
        finally:
            store.close()
    if not args.no_postgres:
        print("PostgreSQL")
        store = PostgresDestination(args.postgres)
        try:
            run(store, args.rows, args.chunk)
        finally:
            store.close()


if __name__ == "__main__":
    main()
