"""A job's source rows as CSV, each with its outcome: `_status` (valid | rejected) and `_errors`.

The source is read again with the same readers validation used, in the same order (several
files one after another, row numbers continuing), and joined to the error file, which lists
rejected rows in source order: both are streamed, so memory stays bounded by a read chunk.
Rejected rows only need the error file (its `sourceRow` is the row as read). Every cell is
neutralised against formula injection (domain/csv_safety.py): these files are opened in
spreadsheets, and a plain number such as `-5` stays a number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from lading.adapters.readers import open_source
from lading.application.ports import SourceFile
from lading.domain.csv_safety import neutralise

STATUS, ERRORS = "_status", "_errors"


def write_annotated_csv(sources: Sequence[SourceFile], error_file: Path | None, out: IO[bytes],
                        workdir: Path, block_size: int, rejected_only: bool = False) -> int:
    """Write the rows (all, or only the rejected ones) with `_errors` (and `_status` for all);
    return how many rows were written."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\n")
        if rejected_only:
            header = _columns(entry.get("sourceRow") or {} for entry in _entries(error_file))
            writer.writerow([*header, ERRORS])
            written = 0
            for entry in _entries(error_file):
                source = entry.get("sourceRow") or {}
                writer.writerow([*(_cell(source.get(c)) for c in header),
                                 neutralise(errors_text(entry))])
                written += 1
            return written
        header = _columns(_source_headers(sources, workdir, block_size))
        writer.writerow([*header, STATUS, ERRORS])
        pending = _entries(error_file)
        entry = next(pending, None)
        written = 0
        for number, row in _source_rows(sources, workdir, block_size):
            while entry is not None and entry["rowNumber"] < number:
                entry = next(pending, None)
            if entry is not None and entry["rowNumber"] == number:
                values = row if row is not None else (entry.get("sourceRow") or {})
                writer.writerow([*(_cell(values.get(c)) for c in header), "rejected",
                                 neutralise(errors_text(entry))])
            else:
                writer.writerow([*(_cell((row or {}).get(c)) for c in header), "valid", ""])
            written += 1
        return written
    finally:
        text.detach()


def write_error_csv(error_file: Path | None, out: IO[bytes]) -> int:
    """Write the error file as CSV: `rowNumber`, `code`, `error`, then the row's source
    columns (first-seen order, `file` first for a several-file source); return rows written."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\n")
        seen: dict[str, None] = {}
        several = False
        for entry in _entries(error_file):  # a first pass for the header, memory per column
            several = several or "file" in entry
            seen.update(dict.fromkeys(c for c in entry.get("sourceRow") or {} if c != "_raw"))
        columns = list(seen)
        lead = ["rowNumber", "code", "error", *(["file"] if several else [])]
        writer.writerow([*lead, *columns])
        written = 0
        for entry in _entries(error_file):
            source = entry.get("sourceRow") or {}
            writer.writerow([entry.get("rowNumber"), entry.get("code"),
                             neutralise(str(entry.get("error") or "")),
                             *([_cell(entry.get("file"))] if several else []),
                             *(_cell(source.get(c)) for c in columns)])
            written += 1
        return written
    finally:
        text.detach()


def errors_text(entry: dict[str, Any]) -> str:
    """Every error of a rejected row, `field: message` each, `; `-separated."""
    said = [f"{e['field']}: {e['message']}" if e.get("field") else str(e.get("message"))
            for e in entry.get("errors") or ()]
    return "; ".join(said) or str(entry.get("error") or "")


def _entries(error_file: Path | None) -> Iterator[dict[str, Any]]:
    if error_file is None or not error_file.exists():
        return
    with open(error_file, encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def _columns(rows: Iterator[Any]) -> list[str]:
    """Column names in first-seen order (`_raw`, an unreadable line's text, is not a column)."""
    seen: dict[str, None] = {}
    for row in rows:
        for name in row:
            if name != "_raw":
                seen.setdefault(name, None)
    return list(seen)


def _source_headers(sources: Sequence[SourceFile], workdir: Path, block_size: int) -> Iterator[Any]:
    for source in sources:
        reader = open_source(Path(source.path), source.file_name, workdir, block_size, False)
        try:
            if reader.kind != "ndjson":
                yield reader.header
                continue
            for chunk in reader.chunks():
                yield from chunk.records  # NDJSON: the union of the objects' keys
        finally:
            reader.close()


def _source_rows(sources: Sequence[SourceFile], workdir: Path,
                 block_size: int) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(rowNumber, values) of every source row in order; None for a row that could not be split
    into columns (its values are the error file's)."""
    offset = 0
    for source in sources:
        reader = open_source(Path(source.path), source.file_name, workdir, block_size, False)
        read = 0
        try:
            for chunk in reader.chunks():
                header = list(reader.header or [])
                numbers = chunk.row_numbers.tolist()
                rows = chunk.source_rows(list(range(len(numbers))), header) if numbers else []
                every: list[tuple[int, dict[str, Any] | None]] = list(zip(numbers, rows))
                for bad in chunk.bad_rows:
                    cells = dict(zip(header, bad.cells)) if bad.cells is not None else None
                    every.append((bad.row_number, cells))
                every.sort(key=lambda pair: pair[0])
                for number, row in every:
                    yield number + offset, row
                read += chunk.read_rows
        finally:
            reader.close()
        offset += read
    return


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(str(value))
