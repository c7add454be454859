"""The measured side of bench.run_engine, one action per process so each peak RSS is its own."""

from __future__ import annotations

import json
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path


def _report_peak() -> None:
    from lading.adapters.phase_timer import totals

    print(f"phases={json.dumps(totals())}", file=sys.stderr)
    print(f"peak_rss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)


def add_object() -> None:
    from lading.domain.table_schema import TableSchema
    from lading.entrypoints.bootstrap import bootstrap
    from lading.entrypoints.samples import profiles_object

    obj = profiles_object()
    lading = bootstrap()
    schema = TableSchema.from_dict(obj["schema"])
    lading.objects.catalog.add("default", obj["name"], schema)
    lading.objects.destination.ensure_object("default", obj["name"], schema)
    lading.close()


def run_import(path: str) -> None:
    from lading.adapters.phase_timer import phase

    with phase("start-up"):  # importing the modules; bootstrapping stays in `other`
        import lading.adapters.arrow_engine  # noqa: F401
        import lading.entrypoints.bootstrap  # noqa: F401
        from lading.entrypoints.cli import main

    sys.argv = ["lading", "import", path, "--object", "profiles", "--json"]
    try:
        main(standalone_mode=False)
    finally:
        _report_peak()


def validate(path: str) -> None:
    from lading.adapters.arrow_engine import ArrowValidationEngine
    from lading.application.ports import SourceFile
    from lading.domain.plan import ImportPlan
    from lading.domain.table_schema import TableSchema
    from lading.entrypoints.samples import profiles_object

    schema = TableSchema.from_dict(profiles_object()["schema"])
    plan = ImportPlan.from_dict({}, schema)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        valid = invalid = 0
        for chunk in ArrowValidationEngine().validate(SourceFile(Path(path), Path(path).name), schema,
                                                      plan, Path(tmp), Path(tmp) / "errors.jsonl"):
            valid += chunk.valid_rows
            invalid += chunk.invalid_rows
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "valid": valid, "invalid": invalid}))
    _report_peak()


def baseline(path: str, tmp: str) -> None:
    """The bare physical path: every column read as text, then one executemany upsert."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True),
                           convert_options=pacsv.ConvertOptions(default_column_type=pa.string()))
    names = table.column_names
    db = sqlite3.connect(Path(tmp) / "baseline.sqlite")
    cols = ", ".join(names)
    db.execute(f"create table t ({', '.join(n + (' primary key' if n == 'id' else '') for n in names)})")
    updates = ", ".join(f"{n} = excluded.{n}" for n in names if n != "id")
    rows = zip(*(table.column(n).to_pylist() for n in names))
    with db:
        db.executemany(f"insert into t ({cols}) values ({', '.join('?' for _ in names)})"
                       f" on conflict (id) do update set {updates}", rows)
    db.close()
    _report_peak()


def duckdb_reference(path: str, tmp: str) -> None:
    from bench.duckdb_reference import main

    started = time.perf_counter()
    rows = main(path, str(Path(tmp) / "reference.duckdb"))
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))
    _report_peak()


def postgres_copy(url: str) -> None:
    """A bare COPY of the rows Lading merged into PostgreSQL into an empty table of the same
    shape and key, in the same 100k-row transactions: the floor for the PostgreSQL path."""
    import psycopg

    from lading.adapters.sql_naming import quote_ident, table_name

    source = quote_ident(table_name("default", "profiles"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set time zone 'UTC'")
        conn.execute(f"create table copied (like {source} including all)")
        buffer = bytearray()
        with conn.cursor().copy(f"copy (select * from {source} order by id) to stdout") as out:
            for block in out:
                buffer += block
        lines = bytes(buffer).splitlines(keepends=True)
        started = time.perf_counter()
        for start in range(0, len(lines), 100_000):
            with conn.transaction(), conn.cursor().copy("copy copied from stdin") as copy:
                copy.write(b"".join(lines[start:start + 100_000]))
        seconds = time.perf_counter() - started
        rows = conn.execute("select count(*) from copied").fetchone()[0]
    print(json.dumps({"seconds": seconds, "rows": rows}))
    _report_peak()


if __name__ == "__main__":
    action, *rest = sys.argv[1:]
    {"add-object": lambda: (add_object(), _report_peak()), "import": lambda: run_import(*rest),
     "validate": lambda: validate(*rest), "baseline": lambda: baseline(*rest),
     "duckdb": lambda: duckdb_reference(*rest), "postgres-copy": lambda: postgres_copy(*rest)}[action]()
