"""The error file read a page at a time for the job page: filtered, from a byte offset.

A page reads forward from where the previous one stopped (its `next` offset), so page N costs
the same as page 1 however many millions of rows the file holds, and memory stays one page.
A filter that matches rarely stops after SCAN_LINES lines and offers to continue from there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGE_ROWS = 50
SCAN_LINES = 200_000


@dataclass(frozen=True)
class ErrorEntry:
    row_number: int
    code: str
    column: str | None
    field: str | None
    value: str | None
    message: str


@dataclass
class ErrorPage:
    entries: list[ErrorEntry] = field(default_factory=list)
    next_offset: int | None = None  # where the next page starts; None at the end of the file
    exhausted_scan: bool = False  # stopped after SCAN_LINES lines without filling the page


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def entries_of(line: dict[str, Any]) -> list[ErrorEntry]:
    """One entry per problem of a rejected row; a row-level problem shows the raw record."""
    number = int(line.get("rowNumber", 0))
    out = []
    for err in line.get("errors") or [{"code": line.get("code"), "message": line.get("error")}]:
        value = err.get("value")
        if value is None and err.get("field") is None:
            value = (line.get("sourceRow") or {}).get("_raw")
        out.append(ErrorEntry(row_number=number, code=str(err.get("code") or line.get("code")),
                              column=err.get("column"), field=err.get("field"),
                              value=_text(value), message=str(err.get("message") or "")))
    return out


def read_page(path: Path | None, offset: int = 0, code: str | None = None,
              column: str | None = None, rows: int = PAGE_ROWS,
              scan_lines: int = SCAN_LINES) -> ErrorPage:
    """Up to `rows` entries from `offset` on whose code and column (or field) match."""
    page = ErrorPage()
    if path is None or not path.exists():
        return page
    with open(path, "rb") as fh:
        fh.seek(max(offset, 0))
        scanned = 0
        while True:
            raw = fh.readline()
            if not raw:
                return page
            scanned += 1
            try:
                line = json.loads(raw)
            except ValueError:
                continue  # a torn last line of a file still being written
            matching = [e for e in entries_of(line)
                        if (not code or e.code == code)
                        and (not column or column in (e.column, e.field))]
            page.entries.extend(matching)
            if len(page.entries) >= rows or scanned >= scan_lines:
                page.next_offset = fh.tell()
                page.exhausted_scan = len(page.entries) < rows
                # The next page begins at a line boundary only if it has more to read.
                if not fh.readline():
                    page.next_offset = None
                return page
