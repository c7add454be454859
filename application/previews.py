"""Before mapping: the first rows of a job's file as Lading parsed them, a suggested field per
column (from the mapping suggestions), and the share of each column's sampled values that would pass under a mapping and mode.

Everything here reads a bounded sample from the start of the file (SAMPLE_ROWS rows at most),
never the whole file, so a preview costs the same for 1 kB and 50 GB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from lading.domain.errors import DomainError, SourceUnreadable
from lading.domain.plan import ImportPlan
from lading.domain.reference_validator import Malformed, Undecodable, json_ready, validate_rows
from lading.domain.table_schema import TableSchema

PREVIEW_ROWS = 20
SAMPLE_ROWS = 1000
SAMPLE_VALUES = 5


@dataclass(frozen=True)
class SourceSample:
    kind: str  # csv | ndjson | parquet
    header: list[str]
    rows: list[tuple[int, Any]]  # (rowNumber, cells list | dict | Malformed | Undecodable)
    encoding: str | None = None
    delimiter: str | None = None


Sampler = Callable[[str, str, int], SourceSample]  # a stored source's blob key, file name, rows


class NoFileYet(DomainError):
    code = "STATE.CONFLICT"


def _cell(cells: Any, header: Sequence[str], position: int) -> Any:
    if isinstance(cells, dict):
        return cells.get(header[position])
    if isinstance(cells, list) and position < len(cells):
        return cells[position]
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    ready = json_ready(value)
    return ready if isinstance(ready, str) else str(ready)


class SourcePreviews:
    def __init__(self, jobs: Any, sample: Sampler, suggestions: Any) -> None:
        """`suggestions` is the MappingSuggestions the API's suggest-mapping uses: the editor
        suggests exactly what that endpoint would for the same rows."""
        self.jobs = jobs
        self.sample = sample
        self.suggestions = suggestions

    def _schema(self, workspace: str, job_id: UUID) -> TableSchema:
        status = self.jobs.status(workspace, job_id)
        schema: TableSchema = self.jobs.schema_of(workspace, status["objectName"])
        return schema

    def _sample(self, workspace: str, job_id: UUID) -> SourceSample:
        source = self.jobs.stored_source(workspace, job_id)
        if source is None:
            raise NoFileYet("the job has no file yet: upload one first")
        key, file_name = source
        return self.sample(key, file_name, SAMPLE_ROWS)

    def preview(self, workspace: str, job_id: UUID) -> dict[str, Any]:
        """The detected format, the first rows as text, and per column its sample values and
        suggested field; an unreadable file gives `error` instead of rows."""
        schema = self._schema(workspace, job_id)
        try:
            sample = self._sample(workspace, job_id)
        except SourceUnreadable as exc:
            return {"error": str(exc), "header": [], "rows": [], "columns": [],
                    "fields": list(schema.field_names), "sampledRows": 0}
        header = sample.header
        delimited = [[_text(_cell(cells, header, i)) for i in range(len(header))]
                     for _, cells in sample.rows if not isinstance(cells, (Malformed, Undecodable))]
        object_name = self.jobs.status(workspace, job_id)["objectName"]
        suggested = {c["column"]: c for c in self.suggestions.suggest(
            workspace, object_name, header=header, rows=delimited)["columns"]}
        columns = []
        for position, name in enumerate(header):
            values: list[str] = []
            for _, cells in sample.rows:
                text = _text(_cell(cells, header, position))
                if text and text not in values:
                    values.append(text)
                    if len(values) >= SAMPLE_VALUES:
                        break
            suggestion = suggested.get(name) or {}
            columns.append({"name": name, "samples": values,
                            "suggestedField": suggestion.get("field"),
                            "confidence": suggestion.get("confidence") or 0.0,
                            "reason": suggestion.get("reason")})
        rows = []
        for number, cells in sample.rows[:PREVIEW_ROWS]:
            if isinstance(cells, (Malformed, Undecodable)):
                rows.append({"rowNumber": number, "cells": [], "raw": cells.text})
            else:
                rows.append({"rowNumber": number, "raw": None,
                             "cells": [_text(_cell(cells, header, i)) for i in range(len(header))]})
        return {"error": None, "kind": sample.kind, "encoding": sample.encoding, "delimiter": sample.delimiter,
                "header": header, "rows": rows, "columns": columns,
                "fields": list(schema.field_names), "sampledRows": len(sample.rows)}

    def predict(self, workspace: str, job_id: UUID, mapping: dict[str, Any]) -> dict[str, Any]:
        """Per mapped column, the share of sampled rows whose value passes under `mapping`
        (its fieldMap and importMode); a mapping Lading would refuse gives `error` instead."""
        schema = self._schema(workspace, job_id)
        try:
            sample = self._sample(workspace, job_id)
            plan = ImportPlan.from_dict(mapping, schema)
            result = validate_rows(schema, plan, sample.header if sample.kind != "ndjson" else None,
                                   sample.rows)
        except DomainError as exc:
            return {"error": str(exc), "columns": {}, "sampledRows": len(sample.rows)}
        delimited = [o for o in result.outcomes
                     if not any(e.field is None and e.code in ("MALFORMED_ROW", "ENCODING_ERROR")
                                for e in o.errors)]
        failing: dict[str, int] = {field: 0 for field in plan.field_map.values()}
        for outcome in delimited:
            for field in {e.field for e in outcome.errors if e.field is not None}:
                if field in failing:
                    failing[field] = failing.get(field, 0) + 1
        total = len(delimited)
        columns = {column: (round(1 - failing[field] / total, 4) if total else None)
                   for column, field in plan.field_map.items()}
        return {"error": None, "columns": columns, "sampledRows": len(sample.rows),
                "validRows": sum(1 for o in result.outcomes if o.accepted)}
