"""The per-row results file (SPEC §8): one line per source row, in source order.

Validation writes, beside each staged chunk, the chunk's *row index*: every row read, in
row-number order, with the primary code and key of each rejected row (an Arrow IPC file; the
valid rows' keys are in the staged chunk, in the same order). When the chunk merges, its part
of the results file is rendered from the index, the staged rows and the merge's outcomes:

    {"rowNumber": 1, "outcome": "inserted", "key": 7}
    {"rowNumber": 2, "outcome": "rejected", "key": "x", "code": "VALIDATION_TYPE_MISMATCH"}

`key` is the primary key's value, an object of them for a composite key; a rejected row shows
its typed key where it parsed, else the text as given, else null.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa

from lading.domain.csv_safety import neutralise

ROW_INDEX_SCHEMA = pa.schema([("row_number", pa.int64()), ("code", pa.string()),
                              ("key", pa.string())])
CSV_COLUMNS = ("rowNumber", "outcome", "key", "code")
_REJECTED_BY_MERGE = ("KEY_EXISTS", "KEY_NOT_FOUND")


def row_index_name(index: int) -> str:
    return f"chunk-{index:06d}.rows.arrow"


def key_value(value: Any) -> Any:
    """A key value as JSON shows it (instants in UTC with `Z`, as the records API does)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, (date, time)):
        return value.isoformat()
    return value


def key_of(names: Sequence[str], values: Sequence[Any]) -> Any:
    return key_value(values[0]) if len(names) == 1 else {
        n: key_value(v) for n, v in zip(names, values)}


def write_row_index(path: Path, valid_numbers: np.ndarray,
                    rejected: Iterable[tuple[int, str, Any]]) -> None:
    """The chunk's rows in row-number order: valid ones (code null) and rejected ones
    (rowNumber, primary code, key)."""
    rejected = list(rejected)
    numbers = np.concatenate([np.asarray(valid_numbers, np.int64),
                              np.array([r[0] for r in rejected], np.int64)])
    codes = [None] * len(valid_numbers) + [r[1] for r in rejected]
    keys = [None] * len(valid_numbers) + [json.dumps(r[2], ensure_ascii=False) for r in rejected]
    order = np.argsort(numbers, kind="stable")
    table = pa.table([pa.array(numbers[order]), pa.array(codes, pa.string()).take(order),
                      pa.array(keys, pa.string()).take(order)], schema=ROW_INDEX_SCHEMA)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, ROW_INDEX_SCHEMA) as writer:
        writer.write_table(table)


def write_part(row_index: Path | None, staged: pa.Table | None, key_names: Sequence[str],
               outcomes: Sequence[str], out: IO[bytes]) -> int:
    """Write one chunk's results lines (JSON Lines); return how many.

    `outcomes` are the merge's, one per staged row (none for a chunk without valid rows)."""
    if row_index is None:
        return 0
    index = pa.ipc.open_file(pa.memory_map(str(row_index))).read_all()
    valid_keys = _valid_keys(staged, key_names) if staged is not None else []
    if len(valid_keys) != len(outcomes):
        raise ValueError(f"{len(outcomes)} outcomes for {len(valid_keys)} staged rows")
    lines = []
    next_valid = 0
    for number, code, key in zip(index.column("row_number").to_pylist(),
                                 index.column("code").to_pylist(), index.column("key").to_pylist()):
        if code is None:
            key, outcome = valid_keys[next_valid], outcomes[next_valid]
            next_valid += 1
            if outcome in _REJECTED_BY_MERGE:
                code, outcome = outcome, "rejected"
        else:
            outcome = "rejected"
        tail = f',"code":"{code}"}}' if code is not None else "}"
        lines.append(f'{{"rowNumber":{number},"outcome":"{outcome}","key":{key}{tail}\n')
    if next_valid != len(valid_keys):
        raise ValueError(f"the row index names {next_valid} valid rows, the chunk {len(valid_keys)}")
    out.write("".join(lines).encode())
    return len(lines)


def _valid_keys(staged: pa.Table, key_names: Sequence[str]) -> list[str]:
    """Each staged row's key as JSON text."""
    columns = [staged.column(k) for k in key_names]
    if len(columns) == 1 and pa.types.is_integer(columns[0].type):
        return [str(v) for v in columns[0].to_pylist()]  # the common key: no encoder needed
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    values = [c.to_pylist() for c in columns]
    return [dumps(key_of(key_names, row)) for row in zip(*values)]


def write_csv(lines: Iterable[bytes], out: IO[bytes]) -> int:
    """The results lines as CSV (rowNumber,outcome,key,code); a composite key as JSON text."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    written = 0
    for line in lines:
        row = json.loads(line)
        writer.writerow((row["rowNumber"], row["outcome"], _key_cell(row["key"]),
                         row.get("code") or ""))
        written += 1
    text.detach()
    return written


def _key_cell(key: Any) -> str:
    if key is None:
        return ""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (dict, list)):
        return neutralise(json.dumps(key, ensure_ascii=False, separators=(",", ":")))
    return neutralise(str(key))  # a key is the client's text: never a formula in a spreadsheet
