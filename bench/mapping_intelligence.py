"""What header healing by values, proposals and the data profile cost, measured in one run.

- header matching of a wide header where some mapped columns are found only by their values
  (every free column's 5,000-row sample is judged per unmatched field);
- `propose_fixes` over a 5,000-row error sample (layout candidates, value maps, recount);
- the data profile over Arrow chunks (value_counts per chunk), and past the exact bound.

    python -m bench.mapping_intelligence [--columns 40] [--sample 5000] [--profile-rows 1000000]

The machine is shared and noisy: compare figures from one run, not across machines.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

import pyarrow as pa

from lading.adapters.arrow_profile import add_table
from lading.domain.data_profile import DataProfile
from lading.domain.header_matching import match_headers
from lading.domain.plan import ImportPlan
from lading.domain.proposals import propose_fixes
from lading.domain.reference_validator import validate_rows
from lading.domain.table_schema import TableSchema


def _timed(label: str, fn) -> object:
    started = time.perf_counter()
    result = fn()
    print(f"{label:<58} {time.perf_counter() - started:8.3f} s")
    return result


def header_by_values(columns: int, sample: int) -> None:
    rng = random.Random(1)
    fields = [{"name": "id", "type": "integer"}, {"name": "email", "format": "email"},
              {"name": "joined", "type": "date"}, {"name": "amount", "type": "number"}]
    schema = TableSchema.from_dict({"fields": fields, "primaryKey": ["id"]})
    header = ["id", "c_mail", "c_date", "c_amount"] + [f"extra {i}" for i in range(columns - 4)]
    values = {
        0: [str(i) for i in range(sample)],
        1: [f"u{i}@example.com" for i in range(sample)],
        2: [(date(2020, 1, 1) + timedelta(days=rng.randrange(900))).strftime("%d/%m/%Y")
            for _ in range(sample)],
        3: [f"{rng.randrange(10**6) / 100:.2f}".replace(".", ",") for _ in range(sample)],
    }
    text = [f"word{rng.randrange(50)}" for _ in range(sample)]
    field_map = {"id": "id", "mail": "email", "joined_at": "joined", "amt": "amount"}
    match = _timed(f"header match, {columns} columns, 3 fields found by values",
                   lambda: match_headers(header, field_map, strict=False,
                                         fields={f.name: f for f in schema.fields},
                                         column_values=lambda i: values.get(i, text)))
    assert {k: header[p] for k, p in match.columns.items()} == {
        "id": "id", "mail": "c_mail", "joined_at": "c_date", "amt": "c_amount"}


def proposals(sample: int) -> None:
    rng = random.Random(2)
    schema = TableSchema.from_dict({"primaryKey": ["id"], "fields": [
        {"name": "id", "type": "integer"}, {"name": "joined", "type": "date"},
        {"name": "total", "type": "number"},
        {"name": "tier", "type": "string", "constraints": {"enum": ["gold", "silver", "bronze"]}}]})
    plan = ImportPlan.from_dict({}, schema)
    rows = []
    for i in range(1, 4 * sample + 1):
        bad = i % 4 == 0
        rows.append((i, [str(i), "05 Jan 2024" if bad and i % 8 else "2024-01-05",
                         "1.234,50" if bad and i % 3 == 0 else "12.5",
                         rng.choice(["Gould", "silvr", "gold"]) if bad else "gold"]))
    result = validate_rows(schema, plan, ["id", "joined", "total", "tier"], rows)
    errors = [o.error_entry() for o in result.outcomes if not o.accepted]
    labels = result.vplan.column_format_labels
    proposal = _timed(f"propose_fixes over {len(errors):,} rejected rows",
                      lambda: propose_fixes(schema, plan, errors, len(errors), labels))
    print("    changes:", [(c["kind"], c["recoversRows"]) for c in proposal["changes"]])


def profile(rows: int) -> None:
    rng = random.Random(3)
    table = pa.table({"id": pa.array(range(rows), pa.int64()),
                      "tier": pa.array([rng.choice(["gold", "silver", None]) for _ in range(rows)]),
                      "amount": pa.array([rng.randrange(10_000) / 100 for _ in range(rows)])})
    data = DataProfile(["id", "tier", "amount"])
    _timed(f"data profile, {rows:,} rows x 3 columns, 100,000-row chunks",
           lambda: [add_table(data, b) for b in table.to_batches(max_chunksize=100_000)])
    out = data.to_dict()
    print(f"    id distinct {out['id']['distinct']:,} (approximate: {out['id']['distinctApproximate']})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--columns", type=int, default=40)
    parser.add_argument("--sample", type=int, default=5000)
    parser.add_argument("--profile-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    header_by_values(args.columns, args.sample)
    proposals(args.sample)
    profile(args.profile_rows)


if __name__ == "__main__":
    main()
