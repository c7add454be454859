"""THE specification of row validation: plain Python, one row at a time, rules stated plainly.

The vectorised engine (adapters/pyarrow_validator.py) must give every row the same outcome,
primary code and typed values as this module; tests/property checks that on generated data.

A row goes through these steps, and stops at the first that rejects it:

1. Row-level problems. A line that is not a JSON object, or a CSV record whose cell count
   differs from the header's, is MALFORMED_ROW (landing_friendly pads or truncates CSV records
   instead and warns). Bytes that are not valid in the file's encoding, in a mapped column, are
   ENCODING_ERROR, and so is a NUL character (U+0000) in a mapped text value, which no
   destination can store (landing_friendly replaces each bad byte or NUL with U+FFFD and warns).
2. Field checks, each mapped field in schema order (field_rules.evaluate): missing / required,
   type and format, strict-mode coercions, constraints. Every failing field is listed; the
   first in schema order is the primary error. landing_friendly instead nulls the failing
   value and warns, unless the field is part of the primary key.
3. `unique` fields (other than a sole primary key) against earlier accepted rows.
4. The key: DUPLICATE_KEY when an earlier *accepted* row has it; then, for insert / update /
   delete, KEY_EXISTS / KEY_NOT_FOUND from the destination. Only rows whose fields are valid
   get here, so a rejected row never blocks a later good one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from lading.domain.column_formats import SAMPLE_ROWS, choose_column_formats
from lading.domain.errors import SourceUnreadable
from lading.domain.field_rules import ISSUE_CODES, ColumnFormat, Healing, Issue, evaluate, message
from lading.domain.plan import ImportPlan
from lading.domain.error_entries import DEFAULT_VALUE_CHARS, error_entry
from lading.domain.row_errors import FieldError, RowErrorCode, primary_error
from lading.domain.table_schema import TableSchema
from lading.domain.validation_plan import (
    ENCODING_LINE_MESSAGE, WARN_ENCODING, WARN_NO_ROWS, WARN_RAGGED, ValidationPlan,
    malformed_message, map_source,
)
from lading.domain.value_formats import decode_lenient, display_value

__all__ = ["Malformed", "Undecodable", "RowOutcome", "ReferenceValidator", "validate_rows",
           "choose_column_formats", "sample_rows", "json_ready", "source_row_from_cells"]

# Which of these primary keys the destination already holds (insert/update/delete checks):
# declared once here, the lowest layer that needs it; the ports and the engine import it.
KeyLookup = Callable[[list[tuple[Any, ...]]], set[tuple[Any, ...]]]


@dataclass(frozen=True)
class Malformed:
    """A record that cannot be split into cells (NDJSON: not a JSON object)."""

    text: str
    message: str = "line is not a JSON object"


@dataclass(frozen=True)
class Undecodable:
    """An NDJSON line whose bytes are not valid in the file's encoding."""

    text: str  # decoded with one U+FFFD per bad byte, for the error file


@dataclass
class RowOutcome:
    row_number: int
    accepted: bool
    values: dict[str, Any] = field(default_factory=dict)  # typed, staged fields (accepted)
    errors: list[FieldError] = field(default_factory=list)
    healed: dict[str, str] = field(default_factory=dict)  # field -> healing label (accepted)
    warnings: list[str] = field(default_factory=list)  # landing_friendly (accepted)
    source_row: dict[str, Any] = field(default_factory=dict)
    field_order: tuple[str, ...] = ()

    @property
    def primary(self) -> FieldError | None:
        return primary_error(self.errors, self.field_order) if self.errors else None

    @property
    def code(self) -> str | None:
        p = self.primary
        return None if p is None else str(p.code)

    def error_entry(self, value_chars: int = DEFAULT_VALUE_CHARS) -> dict[str, Any]:
        """The error file line for a rejected row (SPEC §3 "Error file")."""
        assert self.errors, "an accepted row has no error entry"
        return error_entry(self.row_number, self.errors, self.source_row, self.field_order,
                           value_chars)


def json_ready(value: Any) -> Any:
    """A source value as it can appear in JSON (`sourceRow`)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
    if isinstance(value, (bytes, bytearray)):
        return decode_lenient(bytes(value))
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return str(value)


def source_row_from_cells(names: Sequence[str], cells: Sequence[Any]) -> dict[str, Any]:
    """A CSV record as `sourceRow`: header name -> cell; cells beyond the header under `_extra`."""
    row = {name: json_ready(cell) for name, cell in zip(names, cells)}
    if len(cells) > len(names):
        row["_extra"] = [json_ready(c) for c in cells[len(names):]]
    return row


class ReferenceValidator:
    """Judges rows one at a time, in source order, remembering accepted keys and values."""

    def __init__(self, vplan: ValidationPlan, key_lookup: KeyLookup | None = None) -> None:
        self.vplan = vplan
        self.key_lookup = key_lookup
        self.seen_keys: set[tuple[Any, ...]] = set()
        self.seen_unique: dict[str, set[Any]] = {f: set() for f in vplan.unique_fields}
        self._names = vplan.source_names
        self._order = vplan.schema.field_names

    def _reject(self, n: int, errors: list[FieldError], source_row: dict[str, Any]) -> RowOutcome:
        return RowOutcome(n, False, errors=errors, source_row=source_row, field_order=self._order)

    def validate(self, row_number: int, cells: Any, encoding_replaced: bool = False) -> RowOutcome:
        p = self.vplan
        if isinstance(cells, Malformed):
            return self._reject(row_number, [FieldError(RowErrorCode.MALFORMED_ROW, cells.message)],
                                {"_raw": cells.text})
        if isinstance(cells, Undecodable):
            return self._reject(row_number, [FieldError(RowErrorCode.ENCODING_ERROR,
                                                        ENCODING_LINE_MESSAGE)], {"_raw": cells.text})
        warnings: list[str] = []
        if isinstance(cells, Mapping):
            source_row = json_ready(dict(cells))
            raws = {r.name: cells.get(p.header[p.mapping.positions[r.name]]) for r in p.rules}
        else:
            cells = list(cells)
            source_row = source_row_from_cells(self._names, cells)
            if len(cells) != len(p.header):
                if not p.landing:
                    return self._reject(row_number, [FieldError(
                        RowErrorCode.MALFORMED_ROW, malformed_message(len(cells), len(p.header)))],
                        source_row)
                cells = (cells + [None] * len(p.header))[: len(p.header)]
                warnings.append(WARN_RAGGED)
            raws = {r.name: cells[p.mapping.positions[r.name]] for r in p.rules}
        encoding_errors = []
        for rule in p.rules:
            raw = raws[rule.name]
            issue = Issue.NONE
            if isinstance(raw, (bytes, bytearray)):
                data = bytes(raw)
                try:
                    raw = data.decode("utf-8")
                except UnicodeDecodeError:
                    raw, issue = decode_lenient(data), Issue.ENCODING
            if isinstance(raw, str) and "\0" in raw:
                if issue is Issue.NONE:
                    issue = Issue.NUL
                if p.landing:
                    raw = raw.replace("\0", "\ufffd")
            raws[rule.name] = raw
            if issue is not Issue.NONE:
                encoding_replaced = True
                encoding_errors.append(FieldError(RowErrorCode.ENCODING_ERROR, message(rule, issue),
                                                  rule.name, rule.column, raw))
        if encoding_errors and not p.landing:
            return self._reject(row_number, encoding_errors, source_row)
        if encoding_replaced:
            warnings.append(WARN_ENCODING)

        results = {rule.name: evaluate(rule, raws[rule.name]) for rule in p.rules}
        errors = [
            FieldError(ISSUE_CODES[res.issue], message(rule, res.issue, res.healing), rule.name,
                       rule.column, display_value(raws[rule.name]))
            for rule in p.rules if (res := results[rule.name]).issue is not Issue.NONE
        ]
        values = {name: res.value for name, res in results.items()}
        healed = {name: res.healing.label for name, res in results.items()
                  if res.healing is not Healing.NONE and res.issue is Issue.NONE}
        if p.landing:
            key_errors = [e for e in errors if e.field in p.key_fields]
            if key_errors:
                return self._reject(row_number, key_errors, source_row)
            for e in errors:
                if e.field is not None:
                    warnings.append(e.field)
        elif errors:
            return self._reject(row_number, errors, source_row)

        if not p.landing:
            unique_errors = [
                FieldError(RowErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
                           message(rule, Issue.UNIQUE), rule.name, rule.column,
                           display_value(raws[rule.name]))
                for rule in p.rules if rule.name in self.seen_unique
                and values[rule.name] is not None and values[rule.name] in self.seen_unique[rule.name]
            ]
            if unique_errors:
                return self._reject(row_number, unique_errors, source_row)
        key = tuple(values[k] for k in p.key_fields)
        raw_key = [raws[k] for k in p.key_fields]
        if key in self.seen_keys:
            return self._reject(row_number, [p.key_error(RowErrorCode.DUPLICATE_KEY, raw_key)],
                                source_row)
        if p.operation != "upsert" and self.key_lookup is not None:
            exists = key in self.key_lookup([key])
            if p.operation == "insert" and exists:
                return self._reject(row_number, [p.key_error(RowErrorCode.KEY_EXISTS, raw_key)],
                                    source_row)
            if p.operation in ("update", "delete") and not exists:
                return self._reject(row_number, [p.key_error(RowErrorCode.KEY_NOT_FOUND, raw_key)],
                                    source_row)
        self.seen_keys.add(key)
        for name, seen in self.seen_unique.items():
            value = values[name]
            if value is None:
                continue
            if value in seen:  # only reachable in landing_friendly: the later value is dropped
                values[name] = None
                healed.pop(name, None)
                warnings.append(name)
            else:
                seen.add(value)
        return RowOutcome(row_number, True, values={f: values[f] for f in p.staged_fields},
                          healed=healed, warnings=warnings, source_row=source_row,
                          field_order=self._order)


def sample_rows(rows: Iterable[tuple[int, Any]], header_len: int | None) -> list[Any]:
    """The well-formed rows among the first SAMPLE_ROWS read rows (what formats are chosen from)."""
    out = []
    for i, (_, cells) in enumerate(rows):
        if i >= SAMPLE_ROWS:
            break
        if isinstance(cells, Mapping) or (
                isinstance(cells, (list, tuple)) and header_len is not None and len(cells) == header_len):
            out.append(cells)
    return out


def ndjson_header(sample: Sequence[Any]) -> list[str]:
    """NDJSON has no header: the keys of the sampled objects, in first-seen order."""
    keys: dict[str, None] = {}
    for obj in sample:
        if isinstance(obj, Mapping):
            for k in obj:
                keys.setdefault(k, None)
    return list(keys)


@dataclass
class ReferenceResult:
    vplan: ValidationPlan | None
    outcomes: list[RowOutcome]

    @property
    def file_warnings(self) -> list[str]:
        """Warnings about the file as a whole: WARN_NO_ROWS when it has no data rows."""
        return [] if self.outcomes else [WARN_NO_ROWS]

    @property
    def formats(self) -> Mapping[str, ColumnFormat]:
        return {} if self.vplan is None else self.vplan.formats


def validate_rows(schema: TableSchema, plan: ImportPlan, header: Sequence[str] | None,
                  rows: Sequence[tuple[int, Any]], key_lookup: KeyLookup | None = None,
                  encoding_replaced: Sequence[int] = ()) -> ReferenceResult:
    """Validate a whole (small) source: `rows` are (rowNumber, cells) in source order, cells a
    list (CSV, positional against `header`), a dict (NDJSON / Parquet; header None means: take
    the keys of the sampled objects), Malformed or Undecodable."""
    if not rows and not header:
        return ReferenceResult(None, [])
    sample = sample_rows(rows, None if header is None else len(header))
    if header is None:
        header = ndjson_header(sample)
    def column_values(position: int) -> list[Any]:
        return [cells.get(header[position]) if isinstance(cells, Mapping) else cells[position]
                for cells in sample]

    mapping = map_source(schema, plan, header, column_values)
    values = {f: column_values(mapping.positions[f]) for f in mapping.fields}
    vplan = ValidationPlan.create(schema, plan, mapping, values)
    validator = ReferenceValidator(vplan, key_lookup)
    replaced = set(encoding_replaced)
    return ReferenceResult(vplan, [validator.validate(n, cells, n in replaced) for n, cells in rows])


__all__ += ["ReferenceResult", "ndjson_header", "SourceUnreadable"]
