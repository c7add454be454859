"""Each validated chunk says how far into the source's files reading had got, so progress can be
shown as a share of the known size (issue 16.6), for every format and across several files."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lading.adapters.arrow_engine import ArrowValidationEngine
from lading.application.ports import SourceFile
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import TableSchema

SCHEMA = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                           {"name": "email", "type": "string"}],
                                "primaryKey": ["id"]})
ROWS = 150_000  # CSV is read a 1 MiB block at a time: several blocks, and gzip's too


def csv_bytes(first: int = 0) -> bytes:
    noise = random.Random(first).randbytes
    return b"id,email\n" + b"".join(b"%d,%s@example.com\n" % (i, noise(12).hex().encode())
                                    for i in range(first, first + ROWS))


def write(tmp_path: Path, kind: str) -> Path:
    if kind == "csv":
        path = tmp_path / "a.csv"
        path.write_bytes(csv_bytes())
    elif kind == "csv.gz":
        path = tmp_path / "a.csv.gz"
        path.write_bytes(gzip.compress(csv_bytes()))
    elif kind == "ndjson":
        path = tmp_path / "a.ndjson"
        path.write_text("".join(json.dumps({"id": i, "email": f"u{i}@example.com"}) + "\n"
                                for i in range(ROWS)))
    else:
        path = tmp_path / "a.parquet"
        pq.write_table(pa.table({"id": list(range(ROWS)),
                                 "email": [f"u{i}@example.com" for i in range(ROWS)]}), path,
                       row_group_size=5000)
    return path


def progress(tmp_path: Path, sources: list[SourceFile]) -> list[tuple[int, int]]:
    engine = ArrowValidationEngine(block_size=64 * 1024, parquet_batch_rows=5000)
    chunks = engine.validate(sources, SCHEMA, ImportPlan.from_dict({}, SCHEMA), tmp_path / "work",
                             tmp_path / "errors.jsonl")
    return [(c.source_bytes_read, c.source_bytes) for c in chunks]


@pytest.mark.parametrize("kind", ["csv", "csv.gz", "ndjson", "parquet"])
def test_bytes_read_grow_to_the_files_size(tmp_path, kind):
    path = write(tmp_path, kind)
    seen = progress(tmp_path, [SourceFile(path, path.name)])
    size = path.stat().st_size
    assert len(seen) > 2 and {total for _, total in seen} == {size}
    read = [done for done, _ in seen]
    assert read == sorted(read) and read[0] < size and read[-1] == size


def test_several_files_count_against_their_combined_size(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_bytes(csv_bytes())
    second.write_bytes(csv_bytes(ROWS))
    seen = progress(tmp_path, [SourceFile(first, "a.csv"), SourceFile(second, "b.csv")])
    total = first.stat().st_size + second.stat().st_size
    assert {t for _, t in seen} == {total}
    assert any(done < first.stat().st_size for done, _ in seen)
    assert seen[-1][0] == total
