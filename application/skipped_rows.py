"""Rejected rows counted once each, by the source column of their primary error (and its code).

Each rejected row is counted under one (column, code) pair, so the counts add up to
`invalidRows`, unlike per-field counts where a row failing two fields counts twice; a field's
other failures (on rows whose primary error is elsewhere) are counted apart, as "also failing".
A key problem counts under the first primary-key column; a row-level problem (a malformed row)
under no column.

The summary is made once, when validation ends, in one pass over the error file (memory grows
with the number of (column, code) pairs and 5 samples each, not with the rows), and is kept as
a small JSON blob beside it: reports read it back and never the error file again.
"""

from __future__ import annotations

import json
import dataclasses
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lading.domain.row_errors import KEY_CODES, RowErrorCode

SAMPLES = 5


@dataclass
class SkippedGroup:
    column: str | None  # the source column, None for a row-level problem
    code: str  # the primary row error code
    field: str | None = None  # the object's field the column feeds (None: row-level)
    count: int = 0
    # up to SAMPLES of {rowNumber, value, message}; a malformed row's value is its cells
    samples: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def values(self) -> list[Any]:
        return [s["value"] for s in self.samples]


@dataclass
class RejectionSummary:
    groups: list[SkippedGroup]  # in order of first appearance in the file (source order)
    also_failing: dict[str, int]  # field -> rows failing it whose primary error is another

    def to_json(self) -> str:
        return json.dumps({"groups": [asdict(g) for g in self.groups],
                           "alsoFailing": self.also_failing}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> RejectionSummary:
        data = json.loads(text)
        return cls([SkippedGroup(**g) for g in data["groups"]], dict(data["alsoFailing"]))


def summarise_rejections(error_file: Path | None) -> RejectionSummary:
    groups: dict[tuple[str | None, str], SkippedGroup] = {}
    also: dict[str, int] = {}
    if error_file is None or not error_file.exists():
        return RejectionSummary([], {})
    with open(error_file, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            code = row["code"]
            errors: list[dict[str, Any]] = row.get("errors") or []
            primary = next((e for e in errors if e.get("code") == code), {})
            column, primary_field = _column(code, primary), _field(code, primary)
            group = groups.setdefault((column, code), SkippedGroup(column, code, primary_field))
            group.count += 1
            if len(group.samples) < SAMPLES:
                group.samples.append({"rowNumber": row["rowNumber"], "value": _sample(code, primary, row),
                                      "message": primary.get("message") or row.get("error")})
            for other in {e["field"] for e in errors if e is not primary and e.get("field")}:
                if other != primary_field:
                    also[other] = also.get(other, 0) + 1
    return RejectionSummary(list(groups.values()), also)


def _column(code: str, primary: dict[str, Any]) -> str | None:
    if code == RowErrorCode.MALFORMED_ROW:
        return None
    column = primary.get("column")
    if not column:
        return None
    # A key error names every key column, comma-separated: it counts under the first.
    first: str = column.split(",")[0]
    return first if code in KEY_CODES else column


def _field(code: str, primary: dict[str, Any]) -> str | None:
    name = primary.get("field")
    if code == RowErrorCode.MALFORMED_ROW or not name:
        return None
    return str(name).split(",")[0] if code in KEY_CODES else str(name)


def _sample(code: str, primary: dict[str, Any], row: dict[str, Any]) -> Any:
    # A malformed row has no one value to show: its cells, as the error file keeps them.
    if code == RowErrorCode.MALFORMED_ROW:
        return row.get("sourceRow")
    return primary.get("value")
