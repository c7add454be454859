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


if __name__ == "__main__":
    action, *rest = sys.argv[1:]
    {"add-object": lambda: (add_object(), _report_peak()), "import": lambda: run_import(*rest),
     "validate": lambda: validate(*rest), "baseline": lambda: baseline(*rest)}[action]()
