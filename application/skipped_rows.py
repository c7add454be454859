"""Rejected rows counted once each, by the source column of their primary error (and its code).

Each rejected row is counted under one (column, code) pair, so the counts add up to
`invalidRows`, unlike per-field counts where a row failing two fields counts twice. A key
problem counts under the first primary-key column; a row-level problem (a malformed row) under
no column. Read from the error file, one line at a time; memory grows with the number of
(column, code) pairs, not with the rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lading.domain.row_errors import KEY_CODES, RowErrorCode


@dataclass
class SkippedGroup:
    column: str | None  # the source column, None for a row-level problem
    code: str  # the primary row error code
    count: int = 0
    samples: list[Any] = field(default_factory=list)  # up to `samples_per_group` values


def skipped_by_source_column(error_file: Path | None, samples_per_group: int = 5) -> list[SkippedGroup]:
    """The groups in order of first appearance in the file (source order)."""
    groups: dict[tuple[str | None, str], SkippedGroup] = {}
    if error_file is None or not error_file.exists():
        return []
    with open(error_file, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            code = row["code"]
            primary: dict[str, Any] = next(
                (e for e in row.get("errors") or [] if e.get("code") == code), {})
            column = _column(code, primary)
            group = groups.setdefault((column, code), SkippedGroup(column, code))
            group.count += 1
            if len(group.samples) < samples_per_group:
                group.samples.append(_sample(primary, row))
    return list(groups.values())


def _column(code: str, primary: dict[str, Any]) -> str | None:
    if code == RowErrorCode.MALFORMED_ROW:
        return None
    column = primary.get("column")
    if not column:
        return None
    # A key error names every key column, comma-separated: it counts under the first.
    first: str = column.split(",")[0]
    return first if code in KEY_CODES else column


def _sample(primary: dict[str, Any], row: dict[str, Any]) -> Any:
    if "value" in primary:
        return primary["value"]
    return row.get("sourceRow")
