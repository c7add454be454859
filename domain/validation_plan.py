"""Everything decided once per source before any row is judged: which header column feeds which
field, the column formats, and the per-field rules. The reference validator and the vectorised
engine both judge rows against the same ValidationPlan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lading.domain.column_formats import SAMPLE_ROWS, choose_column_formats
from lading.domain.field_rules import ColumnFormat, FieldRule, make_rule
from lading.domain.header_matching import ColumnValues, HeaderMatch, match_headers, unique_names
from lading.domain.plan import ImportPlan
from lading.domain.row_errors import FieldError, RowErrorCode
from lading.domain.table_schema import TableSchema
from lading.domain.value_formats import display_value

# Keys of `warnings_by_field` / `rejected_by_field` for problems that belong to no field.
WARN_RAGGED = "(ragged row)"
WARN_ENCODING = "(encoding error)"
WARN_NO_ROWS = "(no rows)"  # the file has no data rows at all: counted once, for the file
ROW_LEVEL = "(row)"

KEY_MESSAGES = {
    RowErrorCode.DUPLICATE_KEY: "duplicate key: an earlier row already has this key",
    RowErrorCode.KEY_EXISTS: "a record with this key already exists",
    RowErrorCode.KEY_NOT_FOUND: "no record with this key exists",
}
ENCODING_LINE_MESSAGE = "line has bytes that are not valid in the file's encoding"

__all__ = ["SAMPLE_ROWS", "SourceMapping", "ValidationPlan", "map_source", "WARN_RAGGED",
           "WARN_ENCODING", "WARN_NO_ROWS", "ROW_LEVEL"]


@dataclass(frozen=True)
class SourceMapping:
    """Which header position feeds each validated field, in schema order."""

    header: tuple[str, ...]
    match: HeaderMatch
    fields: tuple[str, ...]  # validated fields, schema order (delete: the key only)
    positions: Mapping[str, int]  # field -> header position

    def column(self, field: str) -> str:
        return self.header[self.positions[field]]


def map_source(schema: TableSchema, plan: ImportPlan, header: Sequence[str],
               column_values: ColumnValues | None = None) -> SourceMapping:
    """Match the header; raise SourceUnreadable when a mapped column is missing (or, in strict
    mode, when the header has columns the mapping does not use). `column_values(position)`,
    the sampled values of a header column, lets a column renamed past recognition be found by
    what it holds."""
    fields = {f.name: f for f in schema.fields}
    match = match_headers(header, plan.field_map, strict=plan.import_mode == "strict",
                          fields=fields, column_values=column_values,
                          missing_values=schema.missing_values)
    by_field = {plan.field_map[key]: pos for key, pos in match.columns.items()}
    wanted = set(schema.primary_key) if plan.operation == "delete" else set(by_field)
    mapped = tuple(f.name for f in schema.fields if f.name in wanted and f.name in by_field)
    return SourceMapping(header=tuple(header), match=match, fields=mapped,
                         positions={f: by_field[f] for f in mapped})


@dataclass(frozen=True)
class ValidationPlan:
    schema: TableSchema
    plan: ImportPlan
    mapping: SourceMapping
    formats: Mapping[str, ColumnFormat]
    rules: tuple[FieldRule, ...]

    @classmethod
    def create(cls, schema: TableSchema, plan: ImportPlan, mapping: SourceMapping,
               sample: Mapping[str, Sequence[Any]]) -> "ValidationPlan":
        formats = choose_column_formats(schema, plan, mapping.fields, sample)
        strict = plan.import_mode == "strict"
        rules = tuple(
            make_rule(schema.field(name), mapping.column(name), schema.is_required(name), strict,
                      formats[name], schema.missing_values, plan.fixes.get(name))
            for name in mapping.fields
        )
        return cls(schema=schema, plan=plan, mapping=mapping, formats=formats, rules=rules)

    @property
    def mode(self) -> str:
        return self.plan.import_mode

    @property
    def landing(self) -> bool:
        return self.plan.import_mode == "landing_friendly"

    @property
    def operation(self) -> str:
        return self.plan.operation

    @property
    def header(self) -> tuple[str, ...]:
        return self.mapping.header

    @property
    def source_names(self) -> list[str]:
        return unique_names(self.mapping.header)

    @property
    def key_fields(self) -> tuple[str, ...]:
        return self.schema.primary_key

    @property
    def staged_fields(self) -> tuple[str, ...]:
        return self.mapping.fields

    @property
    def unique_fields(self) -> tuple[str, ...]:
        """Fields with `unique` that the key check does not already cover."""
        sole_key = self.key_fields if len(self.key_fields) == 1 else ()
        return tuple(r.name for r in self.rules
                     if r.field.constraints.unique and r.name not in sole_key)

    @property
    def header_healing(self) -> dict[str, str]:
        return dict(self.mapping.match.renamed)

    @property
    def header_renames(self) -> list[dict[str, object]]:
        """Every rename with the mapped column it stands for and why (for `healing.headers`)."""
        return [r.to_dict() for r in self.mapping.match.renames]

    @property
    def column_format_labels(self) -> dict[str, str]:
        return {name: fmt.label for name, fmt in self.formats.items() if fmt.label}

    def key_error(self, code: RowErrorCode, raw_values: Sequence[Any]) -> FieldError:
        columns = [self.mapping.column(k) for k in self.key_fields]
        return FieldError(
            code=code, message=KEY_MESSAGES[code], field=",".join(self.key_fields),
            column=",".join(columns), value=", ".join(display_value(v) or "" for v in raw_values),
        )


def malformed_message(cells: int, expected: int) -> str:
    return f"row has {cells} cells but the header has {expected}"
