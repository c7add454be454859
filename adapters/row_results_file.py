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
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lading.adapters.key_json import key_of
from lading.domain.csv_safety import neutralise

ROW_INDEX_SCHEMA = pa.schema([("row_number", pa.int64()), ("code", pa.string()),
                              ("key", pa.string())])
CSV_COLUMNS = ("rowNumber", "outcome", "key", "code")
_REJECTED_BY_MERGE = ("KEY_EXISTS", "KEY_NOT_FOUND")


def row_index_name(index: int) -> str:
    return f"chunk-{index:06d}.rows.arrow"


def write_row_index(path: Path, valid_numbers: np.ndarray,
                    rejected: Iterable[tuple[int, str, Any]]) -> None:
    """The chunk's row index (`row_index_table`) as an Arrow IPC file at `path`."""
    table = row_index_table(valid_numbers, rejected)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, ROW_INDEX_SCHEMA) as writer:
        writer.write_table(table)


def row_index_table(valid_numbers: np.ndarray, rejected: Iterable[tuple[int, str, Any]]) -> pa.Table:
    """The chunk's rows in row-number order: valid ones (code null) and rejected ones
    (rowNumber, primary code, key)."""
    rejected = list(rejected)
    valid = len(valid_numbers)
    numbers = np.concatenate([np.asarray(valid_numbers, np.int64),
                              np.array([r[0] for r in rejected], np.int64)])
    codes = pa.concat_arrays([pa.nulls(valid, pa.string()),
                              pa.array([r[1] for r in rejected], pa.string())])
    keys = pa.concat_arrays([pa.nulls(valid, pa.string()), pa.array(
        [json.dumps(r[2], ensure_ascii=False) for r in rejected], pa.string())])
    columns = [pa.array(numbers), codes, keys]
    if rejected:  # valid rows alone are in row-number order already
        order = pa.array(np.argsort(numbers, kind="stable"))
        columns = [c.take(order) for c in columns]
    return pa.table(columns, schema=ROW_INDEX_SCHEMA)


def write_part(row_index: Path | None, staged: pa.Table | None, key_names: Sequence[str],
               outcomes: Sequence[str], out: IO[bytes]) -> int:
    """Write one chunk's results lines (JSON Lines); return how many.

    `outcomes` are the merge's, one per staged row (none for a chunk without valid rows).
    Built column-wise in Arrow: a chunk's lines cost about as much as copying its keys."""
    if row_index is None:
        return 0
    table = pa.ipc.open_file(pa.memory_map(str(row_index))).read_all()
    index = {name: table.column(name).combine_chunks() for name in table.column_names}
    is_valid = index["code"].is_null().to_numpy(zero_copy_only=False)
    valid = int(is_valid.sum())
    if valid != len(outcomes) or valid != (staged.num_rows if staged is not None else 0):
        raise ValueError(f"the row index names {valid} valid rows, the merge gave"
                         f" {len(outcomes)} outcomes")
    numbers = pc.cast(index["row_number"], pa.string())
    valid_at = pa.array(np.nonzero(is_valid)[0])
    keys = _valid_keys(staged, key_names) if staged is not None else pa.array([], pa.string())
    distinct = set(outcomes)
    if len(distinct) == 1 and not distinct & set(_REJECTED_BY_MERGE):
        # The usual chunk (all inserted, or all unchanged): one outcome, no code, so the
        # lines need no per-row outcome column (a third of their cost).
        valid_lines = pc.binary_join_element_wise(
            '{"rowNumber":', numbers.take(valid_at), f',"outcome":"{distinct.pop()}","key":',
            pc.fill_null(keys, "null"), "}\n", "")
    else:
        words = pa.array(outcomes, pa.string())
        # A row another writer's key kept out of the merge is rejected with that key's code.
        kept_out = pc.is_in(words, pa.array(_REJECTED_BY_MERGE))
        codes = pc.if_else(kept_out, words, pa.scalar(None, pa.string()))
        words = pc.if_else(kept_out, "rejected", words)
        valid_lines = _lines(numbers.take(valid_at), words, keys, codes)
    rejected_at = pa.array(np.nonzero(~is_valid)[0])
    rejected_lines = _lines(numbers.take(rejected_at),
                            pa.array(["rejected"] * len(rejected_at), pa.string()),
                            index["key"].take(rejected_at), index["code"].take(rejected_at))
    # Back into row-number order: each row takes its line from the valid or the rejected ones.
    position = np.empty(len(is_valid), np.int64)
    position[is_valid] = np.arange(valid)
    position[~is_valid] = valid + np.arange(len(is_valid) - valid)
    lines = pa.concat_arrays([valid_lines, rejected_lines]).take(pa.array(position))
    out.write(_text_of(lines))
    return len(lines)


def _lines(numbers: pa.Array, outcomes: pa.Array, keys: pa.Array, codes: pa.Array) -> pa.Array:
    """`{"rowNumber":N,"outcome":"…","key":K}` (with `,"code":"…"` where a code is) + newline."""
    tail = pc.if_else(pc.is_null(codes), "}\n",
                      pc.binary_join_element_wise(',"code":"', codes, '"}\n', ""))
    return pc.binary_join_element_wise('{"rowNumber":', numbers, ',"outcome":"', outcomes,
                                       '","key":', pc.fill_null(keys, "null"), tail, "")


def _text_of(lines: pa.Array) -> memoryview:
    """The lines' bytes, one after the other, straight from the array's data buffer."""
    if not len(lines):
        return memoryview(b"")
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, np.int32)[lines.offset:lines.offset + len(lines) + 1]
    return memoryview(data)[int(bounds[0]):int(bounds[-1])]


def _valid_keys(staged: pa.Table, key_names: Sequence[str]) -> pa.Array:
    """Each staged row's key as JSON text."""
    columns = [staged.column(k) for k in key_names]
    if len(columns) == 1 and pa.types.is_integer(columns[0].type):
        return pc.cast(columns[0], pa.string()).combine_chunks()  # the common key, vectorised
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    values = [c.to_pylist() for c in columns]
    return pa.array([dumps(key_of(key_names, row)) for row in zip(*values)], pa.string())


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
