"""`make bench`: Lading end to end against the bare physical path, measured in the same run.

For each format (CSV, NDJSON, Parquet) of the same 1,000,000 generated rows it prints:
- lading: `lading import FILE --object profiles` into the SQLite destination (a child process)
- validate: validation alone through the engine (no merge)
- baseline (CSV): pyarrow read of every column as text + one sqlite3 executemany upsert
with rows/s and the child's peak RSS, and the ratio lading/baseline.

    python -m bench.run_engine [--rows N] [--formats csv,ndjson,parquet] [--no-baseline]

`make bench-10m` runs the CSV path on 10,000,000 rows (no baseline) to show peak RSS stays
bounded by the chunk size, not the file size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
GEN = ROOT.parent / "shared" / "bench" / "gen_data.py"


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


def run_child(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run a child process; return (seconds, peak RSS in MB, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    status = proc.returncode
    elapsed = time.perf_counter() - started
    if status not in (0,):
        raise SystemExit(f"{' '.join(args)} failed ({status}):\n{err[-2000:]}")
    # The child reports its own peak RSS on its last stderr line (see _child_main).
    peak = int(err.strip().splitlines()[-1].split("=")[1]) // 1024
    return elapsed, peak, out


_CHILD = "bench.run_engine_child"


def lading_import(path: Path) -> tuple[float, int, dict]:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "LADING_HOME": home}
        env.pop("LADING_EVENT_STORE", None)
        env.pop("LADING_DESTINATION", None)
        run_child([sys.executable, "-m", _CHILD, "add-object"], env)
        secs, peak, out = run_child([sys.executable, "-m", _CHILD, "import", str(path)], env)
        return secs, peak, json.loads(out)


def validate_only(path: Path) -> tuple[float, int, dict]:
    secs, peak, out = run_child([sys.executable, "-m", _CHILD, "validate", str(path)])
    return secs, peak, json.loads(out)


def baseline(path: Path) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        secs, peak, _ = run_child([sys.executable, "-m", _CHILD, "baseline", str(path), tmp])
        return secs, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--formats", default="csv,ndjson,parquet")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the baseline (it holds the whole file in memory)")
    args = ap.parse_args()
    formats = args.formats.split(",")
    files = ensure_data(args.rows, formats)
    n = args.rows
    print(f"{n:,} rows, 11 columns, 0.5 % invalid; {os.cpu_count()} cores")
    print(f"{'path':<28}{'seconds':>9}{'rows/s':>12}{'peak RSS MB':>13}")
    base_secs = None
    if not args.no_baseline:
        base_secs, base_peak = baseline(files["csv"])
        print(f"{'baseline csv (read+upsert)':<28}{base_secs:>9.2f}{n / base_secs:>12,.0f}{base_peak:>13}")
    for fmt in formats:
        v_secs, v_peak, v = validate_only(files[fmt])
        print(f"{'validate ' + fmt:<28}{v['seconds']:>9.2f}{n / v['seconds']:>12,.0f}{v_peak:>13}"
              f"   valid={v['valid']:,} invalid={v['invalid']:,}")
        secs, peak, status = lading_import(files[fmt])
        print(f"{'lading import ' + fmt:<28}{secs:>9.2f}{n / secs:>12,.0f}{peak:>13}"
              f"   state={status['state']} valid={status['validRows']:,} invalid={status['invalidRows']:,}")
        if fmt == "csv" and base_secs:
            print(f"{'ratio lading/baseline (csv)':<28}{secs / base_secs:>9.2f}x")


if __name__ == "__main__":
    main()
