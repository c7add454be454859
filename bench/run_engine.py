"""`make bench`: Lading end to end beside its references, measured in the same run (issue 13).

On the same generated rows (1,000,000 by default, 11 columns, 0.5 % invalid) it prints:
- reference: the DuckDB script (bench/duckdb_reference.py) and, with PostgreSQL, a bare COPY of
  the same rows into a table of the same shape and key;
- lading: `lading import FILE --object profiles` (a child process) into the SQLite default for
  each format, a re-import of the same CSV (every row unchanged), and the CSV into PostgreSQL;
- validate: validation alone through the engine (no merge);
- each import's breakdown (adapters/phase_timer.py): read, validate, stage, key checks (in the
  main thread), convert, load, before-images (ADR 0094), write, commit (the merge), and `other` (events,
  bookkeeping); the stager's thread adds `stage` beside the main thread;
- the issue's targets, each figure beside its reference from this run;
- each process's CPU seconds (user + sys), which a busy machine moves less than wall time
  (ADR 0135): the figure to compare two versions by.

    python -m bench.run_engine [--rows N] [--formats csv,ndjson,parquet] [--no-baseline]
                               [--postgres URL | --no-postgres] [--rounds K]

`--no-baseline` skips the DuckDB and bare-executemany references. `make bench-10m` runs the
CSV path on 10,000,000 rows (no references) to show peak RSS stays bounded by the chunk size.
The machine is shared and noisy: compare the ratios of one run, not absolute figures;
`--rounds K` (`make bench ROUNDS=K`) runs everything K times and prints each figure's median.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
GEN = ROOT.parent / "shared" / "bench" / "gen_data.py"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
PHASES = ("start-up", "read", "validate", "key checks", "stage", "convert", "load", "classify",
          "before-images", "write", "results", "commit")


def ensure_data(rows: int, formats: list[str]) -> dict[str, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    csv_path = DATA / f"profiles_{rows}.csv"
    ndjson_path = DATA / f"profiles_{rows}.ndjson"
    parquet_path = DATA / f"profiles_{rows}.parquet"
    if not csv_path.exists():
        subprocess.run([sys.executable, str(GEN), str(rows), str(csv_path)], check=True)
    if "ndjson" in formats and not ndjson_path.exists():
        subprocess.run([sys.executable, str(GEN), str(rows), str(ndjson_path), "--ndjson"], check=True)
    if "parquet" in formats and not parquet_path.exists():
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        reader = pacsv.open_csv(
            csv_path,
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={"id": pa.int64()},
                                                 default_column_type=pa.string()),
        )
        with pq.ParquetWriter(parquet_path, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
    return {"csv": csv_path, "ndjson": ndjson_path, "parquet": parquet_path}


class Child:
    """What a measured child process reported: wall seconds, CPU seconds (user + sys, of its
    threads and of the processes it waited for), peak RSS, phases and stdout."""

    def __init__(self, seconds: float, cpu: float, peak_mb: int, phases: dict[str, float],
                 out: str) -> None:
        self.seconds, self.cpu, self.peak_mb, self.phases, self.out = seconds, cpu, peak_mb, phases, out

    def json(self) -> dict:
        return json.loads(self.out)


def run_child(args: list[str], env: dict[str, str] | None = None) -> Child:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{err[-2000:]}")
    # The child reports its phases and its own peak RSS on its last stderr lines.
    lines = err.strip().splitlines()
    peak = int(lines[-1].split("=", 1)[1]) // 1024
    phases = json.loads(lines[-2].split("=", 1)[1]) if lines[-2].startswith("phases=") else {}
    return Child(elapsed, cpu, peak, phases, out)


_CHILD = "bench.run_engine_child"


class Home:
    """A fresh LADING_HOME with the `profiles` object, optionally on a PostgreSQL destination."""

    def __init__(self, destination: str | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.env = {**os.environ, "LADING_HOME": self._tmp.name}
        self.env.pop("LADING_EVENT_STORE", None)
        self.env.pop("LADING_DESTINATION", None)
        if destination:
            self.env["LADING_DESTINATION"] = destination
        run_child([sys.executable, "-m", _CHILD, "add-object"], self.env)

    def import_(self, path: Path) -> Child:
        return run_child([sys.executable, "-m", _CHILD, "import", str(path)], self.env)

    def close(self) -> None:
        self._tmp.cleanup()


def validate_only(path: Path) -> Child:
    return run_child([sys.executable, "-m", _CHILD, "validate", str(path)])


def baseline(path: Path) -> Child:
    with tempfile.TemporaryDirectory() as tmp:
        return run_child([sys.executable, "-m", _CHILD, "baseline", str(path), tmp])


def duckdb_reference(path: Path) -> Child:
    with tempfile.TemporaryDirectory() as tmp:
        return run_child([sys.executable, "-m", _CHILD, "duckdb", str(path), tmp])


def line(label: str, rows: int, seconds: float, cpu: float | None, peak: int | str = "",
         note: str = "") -> None:
    shown = "" if cpu is None else f"{cpu:.2f}"
    print(f"{label:<40}{seconds:>9.2f}{rows / seconds:>12,.0f}{shown:>8}{peak:>13}   {note}".rstrip(),
          flush=True)


def breakdown(child: Child) -> None:
    phases = child.phases
    main_thread = sum(v for k, v in phases.items() if k != "stage")
    shown = [f"{k} {phases[k]:.2f}" for k in PHASES if k in phases]
    other = max(0.0, child.seconds - main_thread)
    print(f"{'':<4}breakdown s: {', '.join(shown)}, other {other:.2f}", flush=True)


def imported(label: str, n: int, child: Child) -> dict:
    status = json.loads(child.out)
    note = (f"state={status['state']} valid={status['validRows']:,} "
            f"inserts={status['mergedInserts']:,} updates={status['mergedUpdates']:,} "
            f"unchanged={status.get('mergedUnchanged', 0):,}")
    line(label, n, child.seconds, child.cpu, child.peak_mb, note)
    breakdown(child)
    return status


def postgres_schema(url: str) -> tuple[str, str]:
    import psycopg

    name = f"lading_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'create schema "{name}"')
    return name, f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{name}"


def drop_schema(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'drop schema "{name}" cascade')


def target(text: str, ok: bool | None) -> None:
    mark = "" if ok is None else ("  met" if ok else "  NOT met")
    print(f"  {text}{mark}", flush=True)


def one_round(args: argparse.Namespace, files: dict[str, Path]) -> tuple[dict[str, float], dict[str, int]]:
    """Every path once, references first; its seconds and peaks by key."""
    n = args.rows
    formats = args.formats.split(",")
    # CPU s: the whole child process's (a validation's and DuckDB's include their start-up, a
    # PostgreSQL import's leaves out the server's).
    print(f"{'path':<40}{'seconds':>9}{'rows/s':>12}{'CPU s':>8}{'peak RSS MB':>13}")
    seconds: dict[str, float] = {}
    peaks: dict[str, int] = {}
    if not args.no_baseline:
        ref = duckdb_reference(files["csv"])
        seconds["duckdb"] = ref.json()["seconds"]
        line("reference: DuckDB script csv", n, seconds["duckdb"], ref.cpu, ref.peak_mb,
             f"rows={ref.json()['rows']:,} (in-process time; the process took {ref.seconds:.2f})")
        base = baseline(files["csv"])
        line("reference: pyarrow + executemany upsert", n, base.seconds, base.cpu, base.peak_mb)
    for fmt in formats:
        v = validate_only(files[fmt])
        seconds[f"validate {fmt}"] = v.json()["seconds"]
        line(f"validate {fmt}", n, v.json()["seconds"], v.cpu, v.peak_mb,
             f"valid={v.json()['valid']:,} invalid={v.json()['invalid']:,}")
        home = Home()
        try:
            child = home.import_(files[fmt])
            imported(f"lading import {fmt} -> SQLite", n, child)
            seconds[fmt], peaks[fmt] = child.seconds, child.peak_mb
            if fmt == "csv":
                again = home.import_(files[fmt])
                imported("lading re-import csv (all unchanged)", n, again)
                seconds["reimport"] = again.seconds
        finally:
            home.close()
    if not args.no_postgres and "csv" in formats:
        name, scoped = postgres_schema(args.postgres)
        try:
            home = Home(scoped)
            try:
                child = home.import_(files["csv"])
                imported("lading import csv -> PostgreSQL", n, child)
                seconds["postgres"] = child.seconds
                copy = run_child([sys.executable, "-m", _CHILD, "postgres-copy", scoped])
                seconds["copy"] = copy.json()["seconds"]
                line("reference: bare COPY, same rows and key", n, seconds["copy"], None, "",
                     f"rows={copy.json()['rows']:,} (COPY time only)")
            finally:
                home.close()
        finally:
            drop_schema(args.postgres, name)
    return seconds, peaks


def figures(n: int, seconds: dict[str, float], peaks: dict[str, int]) -> dict[str, float]:
    """One round's target figures: each ratio pairs a path with its reference of that round."""
    found: dict[str, float] = {}
    if "csv" in seconds:
        found["csv rate"] = n / seconds["csv"]
        if "duckdb" in seconds:
            found["duckdb ratio"] = seconds["csv"] / seconds["duckdb"]
    if "postgres" in seconds:
        found["postgres rate"] = n / seconds["postgres"]
        found["copy ratio"] = seconds["postgres"] / seconds["copy"]
    if "ndjson" in seconds and "csv" in seconds:
        found["ndjson share"] = seconds["csv"] / seconds["ndjson"]
    if "parquet" in seconds and "csv" in seconds:
        found["parquet share"] = seconds["csv"] / seconds["parquet"]
    if "validate csv" in seconds:
        found["validation rate"] = n / seconds["validate csv"]
    if "reimport" in seconds:
        found["reimport rate"] = n / seconds["reimport"]
        found["reimport ratio"] = seconds["reimport"] / seconds["csv"]
    if peaks:
        found["peak"] = max(peaks.values())
    return found


def _ratio(value: float, limit: float) -> str:
    """A ratio to two decimals, or three where two would show it equal to its limit (1.002x
    misses a <= 1.0x target and must not print as 1.00x)."""
    return f"{value:.3f}x" if round(value, 2) == limit and value != limit else f"{value:.2f}x"


def print_targets(title: str, found: dict[str, float]) -> None:
    print(title)
    if "duckdb ratio" in found:
        ratio = found["duckdb ratio"]
        target(f"csv -> SQLite / DuckDB script: {_ratio(ratio, 1.0)} (<= 1.0x)", ratio <= 1.0)
    if "csv rate" in found:
        target(f"csv -> SQLite: {found['csv rate']:,.0f} rows/s (>= 400k on a quiet machine)", None)
    if "copy ratio" in found:
        ratio = found["copy ratio"]
        target(f"csv -> PostgreSQL: {found['postgres rate']:,.0f} rows/s (>= 300k), "
               f"{_ratio(ratio, 1.3)} a bare COPY (<= 1.3x)", ratio <= 1.3)
    if "ndjson share" in found:
        share = found["ndjson share"]
        target(f"ndjson rate / csv rate: {share:.0%} (>= 60%)", share >= 0.6)
    if "parquet share" in found:
        share = found["parquet share"]
        target(f"parquet rate / csv rate: {share:.0%} (>= 100%)", share >= 1.0)
    if "validation rate" in found:
        v_rate = found["validation rate"]
        target(f"csv validation alone: {v_rate:,.0f} rows/s (>= 1.5M)", v_rate >= 1.5e6)
    if "reimport ratio" in found:
        ratio = found["reimport ratio"]
        target(f"re-import (all unchanged) {found['reimport rate']:,.0f} rows/s beside the first"
               f" import {found['csv rate']:,.0f} rows/s: {_ratio(ratio, 1.0)} its time (<= 1.0x)",
               ratio <= 1.0)
    if "peak" in found:
        worst = int(found["peak"])
        target(f"peak RSS of an import: {worst} MB (< 400 MB)", worst < 400)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--formats", default="csv,ndjson,parquet")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the references that are not Lading (DuckDB, executemany)")
    ap.add_argument("--postgres", default=DEFAULT_PG, help="server URL (a scratch schema is used)")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run every path this many times; each figure's median is printed last")
    args = ap.parse_args()
    files = ensure_data(args.rows, args.formats.split(","))
    print(f"{args.rows:,} rows, 11 columns, 0.5 % invalid; {os.cpu_count()} cores")
    rounds = []
    for index in range(args.rounds):
        if args.rounds > 1:
            print(f"round {index + 1} of {args.rounds}")
        found = figures(args.rows, *one_round(args, files))
        print_targets("targets (issue 13), this run:" if args.rounds == 1
                      else f"targets (issue 13), round {index + 1}:", found)
        rounds.append(found)
    if args.rounds > 1:
        # The machine's speed drifts by a third within a minute: a ratio is taken within its
        # round, and the median of the rounds' figures is the one to quote.
        print_targets(f"targets (issue 13), median of {args.rounds} rounds:",
                      {key: statistics.median(r[key] for r in rounds) for key in rounds[0]})


if __name__ == "__main__":
    main()
