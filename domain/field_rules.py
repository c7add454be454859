"""One mapped field's rules: how a source value parses, heals, and breaks constraints.

`evaluate(rule, raw)` is the specification for a single cell. The vectorised engine reproduces
it over whole columns and falls back to it for values off its fast paths, so the `Issue` and
`Healing` codes below double as the small integers the engine keeps per row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from enum import IntEnum
from typing import Any

from lading.domain import value_formats as vf
from lading.domain.fix_values import value_map
from lading.domain.row_errors import RowErrorCode
from lading.domain.table_schema import Field


class Issue(IntEnum):
    NONE = 0
    REQUIRED = 1
    TYPE = 2
    COERCION = 3
    ENUM = 4
    PATTERN = 5
    MIN_LENGTH = 6
    MAX_LENGTH = 7
    MINIMUM = 8
    MAXIMUM = 9
    UNIQUE = 10
    ENCODING = 11
    NUL = 12  # U+0000 in a text value: no destination stores it (PostgreSQL refuses it)


ISSUE_CODES = {
    Issue.REQUIRED: RowErrorCode.REQUIRED_FIELD_MISSING,
    Issue.TYPE: RowErrorCode.VALIDATION_TYPE_MISMATCH,
    Issue.COERCION: RowErrorCode.COERCION_NOT_ALLOWED,
    Issue.ENUM: RowErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
    Issue.PATTERN: RowErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
    Issue.MIN_LENGTH: RowErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
    Issue.MAX_LENGTH: RowErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
    Issue.MINIMUM: RowErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
    Issue.MAXIMUM: RowErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
    Issue.UNIQUE: RowErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
    Issue.ENCODING: RowErrorCode.ENCODING_ERROR,
    Issue.NUL: RowErrorCode.ENCODING_ERROR,
}


class Healing(IntEnum):
    """What was done to a value to make it parse; the label goes into the job report."""

    NONE = 0
    TRIMMED = 1
    BOOLEAN_WORD = 2
    INTEGER_FROM_DECIMAL = 3
    NUMBER_FORMAT = 4
    DATE_FORMAT = 5
    ENUM_CASE = 6
    VALUE_TYPE = 7
    # Approved fixes are part of the plan the user signed off, so strict mode allows them.
    ENUM_MAP = 8
    APPROVED_FORMAT = 9

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def allowed_in_strict(self) -> bool:
        return self in (Healing.NONE, Healing.ENUM_MAP, Healing.APPROVED_FORMAT)


_COERCION_WORDS = {
    Healing.TRIMMED: "surrounding spaces",
    Healing.BOOLEAN_WORD: "a boolean word",
    Healing.INTEGER_FROM_DECIMAL: "a zero fraction",
    Healing.NUMBER_FORMAT: "a non-canonical number format",
    Healing.DATE_FORMAT: "a non-ISO date format",
    Healing.ENUM_CASE: "a different letter case",
    Healing.VALUE_TYPE: "a value of another JSON type",
}


@dataclass(frozen=True)
class ColumnFormat:
    """Column-level healing decided from the sample (or an approved fix) for one field."""

    date: vf.DateFormat | None = None
    date_approved: bool = False
    number: vf.NumberFormat | None = None
    number_approved: bool = False
    enum_case: bool = False

    @property
    def number_healing(self) -> "Healing":
        return Healing.APPROVED_FORMAT if self.number_approved else Healing.NUMBER_FORMAT

    @property
    def label(self) -> str | None:
        if self.date is not None:
            return self.date.label
        if self.number is not None:
            return self.number.label
        if self.enum_case:
            return "enum letter case ignored"
        return None


PLAIN = ColumnFormat()


@dataclass(frozen=True)
class FieldRule:
    """Everything needed to judge one mapped field's values."""

    field: Field
    column: str
    required: bool  # schema-required or part of the primary key
    strict: bool = False
    fmt: ColumnFormat = PLAIN
    missing_values: frozenset[str] = frozenset({""})
    enum_map: Mapping[str, str] | None = None
    enum_values: tuple[Any, ...] | None = None
    enum_lower: Mapping[str, str] = dataclasses.field(default_factory=dict)
    minimum: Any = None
    maximum: Any = None
    constant: str | None = None  # an approved setValue: every row's value, whatever the source

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def type(self) -> str:
        return self.field.type

    @property
    def missing_is_issue(self) -> bool:
        # strict mode treats an empty optional mapped field as missing a required value
        return self.required or self.strict


def make_rule(f: Field, column: str, required: bool, strict: bool, fmt: ColumnFormat,
              missing_values: tuple[str, ...], fixes: Mapping[str, Any] | None) -> FieldRule:
    enum_map = value_map(fixes)
    constant = fixes.get("setValue") if fixes else None
    enum_values = None
    enum_lower: dict[str, str] = {}
    if f.constraints.enum is not None:
        parsed = [_bound(f, e) for e in f.constraints.enum]
        enum_values = tuple(dict.fromkeys(p for p in parsed if p is not None))
        if f.type == "string":
            for e in enum_values:
                enum_lower.setdefault(vf.ascii_lower(e), e)
    minimum = _bound(f, f.constraints.minimum, floor=False)
    maximum = _bound(f, f.constraints.maximum, floor=True)
    return FieldRule(
        field=f, column=column, required=required, strict=strict, fmt=fmt,
        missing_values=frozenset(missing_values), enum_map=enum_map, enum_values=enum_values,
        enum_lower=enum_lower, minimum=minimum, maximum=maximum,
        constant=constant if isinstance(constant, str) else None,
    )


def _bound(f: Field, raw: Any, floor: bool | None = None) -> Any:
    """A schema value (enum member, minimum, maximum) as a typed value of the field's type."""
    if raw is None:
        return None
    if f.type == "string":
        if f.constraints is not None and floor is not None:
            return None  # minimum/maximum do not apply to strings
        return raw if isinstance(raw, str) else vf.display_value(raw)
    if f.type in ("integer", "year") and isinstance(raw, float) and not isinstance(raw, bool):
        if floor is None:
            return int(raw) if raw.is_integer() else None
        # an integer column compares exactly against the nearest whole bound
        return math.floor(raw) if floor else math.ceil(raw)
    if f.type == "number" and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    parsed = parse(FieldRule(field=Field(name=f.name, type=f.type, format=f.format), column="",
                             required=False), raw)
    return None if parsed is None else parsed[0]


@dataclass(frozen=True)
class FieldResult:
    value: Any = None
    issue: Issue = Issue.NONE
    healing: Healing = Healing.NONE


OK_NULL = FieldResult()


def is_missing(rule: FieldRule, raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        if raw in rule.missing_values:
            return True
        return rule.type != "string" and vf.trim(raw) in rule.missing_values
    return False


def evaluate(rule: FieldRule, raw: Any) -> FieldResult:
    """Judge one source value: its typed value, the first issue, and any healing applied."""
    if rule.constant is not None:
        raw = rule.constant
    if is_missing(rule, raw):
        return FieldResult(issue=Issue.REQUIRED) if rule.missing_is_issue else OK_NULL
    healing = Healing.NONE
    if rule.enum_map is not None and isinstance(raw, str) and raw in rule.enum_map:
        raw, healing = rule.enum_map[raw], Healing.ENUM_MAP
    parsed = parse(rule, raw)
    if parsed is None:
        return FieldResult(issue=Issue.TYPE)
    value, kind = parsed
    if kind is not Healing.NONE:
        healing = kind
    if rule.strict and not healing.allowed_in_strict:
        return FieldResult(issue=Issue.COERCION, healing=healing)
    if rule.enum_values is not None and rule.fmt.enum_case and value not in rule.enum_values:
        mapped = rule.enum_lower.get(vf.ascii_lower(value))
        if mapped is not None:
            value, healing = mapped, Healing.ENUM_CASE
            if rule.strict:
                return FieldResult(issue=Issue.COERCION, healing=healing)
    issue = constraint_issue(rule, value)
    if issue is not Issue.NONE:
        return FieldResult(issue=issue, healing=healing)
    return FieldResult(value=value, healing=healing)


def constraint_issue(rule: FieldRule, value: Any) -> Issue:
    """The first constraint the (typed, non-null) value breaks, in a fixed order."""
    c = rule.field.constraints
    if rule.enum_values is not None and value not in rule.enum_values:
        return Issue.ENUM
    if rule.type == "string":
        if c.pattern is not None and not pattern_matches(c.pattern, value):
            return Issue.PATTERN
        if c.min_length is not None and len(value) < c.min_length:
            return Issue.MIN_LENGTH
        if c.max_length is not None and len(value) > c.max_length:
            return Issue.MAX_LENGTH
        return Issue.NONE
    if rule.minimum is not None and value < rule.minimum:
        return Issue.MINIMUM
    if rule.maximum is not None and value > rule.maximum:
        return Issue.MAXIMUM
    return Issue.NONE


_PATTERNS: dict[str, re.Pattern[str]] = {}


def pattern_matches(pattern: str, value: str) -> bool:
    """A Table Schema pattern must match the whole value; character classes are ASCII."""
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        compiled = _PATTERNS[pattern] = re.compile(pattern, re.ASCII)
    return compiled.fullmatch(value) is not None


# -- parsing ----------------------------------------------------------------------------------

Parsed = tuple[Any, Healing]


def parse(rule: FieldRule, raw: Any) -> Parsed | None:
    """The typed value of a non-missing source value and how it was healed; None = mismatch."""
    if isinstance(raw, str):
        return _PARSE_TEXT[rule.type](rule, raw)
    return parse_typed(rule, raw)


def _string(rule: FieldRule, raw: str) -> Parsed | None:
    body = vf.STRING_FORMAT_BODIES.get(rule.field.format)
    if body is None:
        return raw, Healing.NONE  # strings stay exactly as given
    if vf.fullmatch(body, raw):
        return raw, Healing.NONE
    trimmed = vf.trim(raw)
    if trimmed != raw and vf.fullmatch(body, trimmed):
        return trimmed, Healing.TRIMMED
    return None


def _with_trim(parsed: Parsed | None, trimmed: bool) -> Parsed | None:
    if parsed is None or parsed[1] is not Healing.NONE or not trimmed:
        return parsed
    return parsed[0], Healing.TRIMMED


def _integer(rule: FieldRule, raw: str) -> Parsed | None:
    text = vf.trim(raw)
    return _with_trim(_integer_text(rule, text), text != raw)


def _integer_text(rule: FieldRule, text: str) -> Parsed | None:
    fmt = rule.fmt.number
    if fmt is not None:
        m = vf.fullmatch(fmt.body(integer=True), text)
        if m:
            value = vf.int64_or_none(int(fmt.normalised(m)))
            if value is None:
                return None
            plain = vf.fullmatch(vf.INTEGER_BODY, text) and int(text) == value
            return value, Healing.NONE if plain else rule.fmt.number_healing
    if vf.fullmatch(vf.INTEGER_BODY, text):
        value = vf.int64_or_none(int(text))
        return None if value is None else (value, Healing.NONE)
    if vf.fullmatch(vf.INTEGER_FROM_DECIMAL_BODY, text):
        value = vf.int64_or_none(int(text.split(".")[0]))
        return None if value is None else (value, Healing.INTEGER_FROM_DECIMAL)
    return None


def _number(rule: FieldRule, raw: str) -> Parsed | None:
    text = vf.trim(raw)
    return _with_trim(_number_text(rule, text), text != raw)


def _number_text(rule: FieldRule, text: str) -> Parsed | None:
    fmt = rule.fmt.number
    if fmt is not None:
        m = vf.fullmatch(fmt.body(integer=False), text)
        if m:
            value = vf.finite_float(fmt.normalised(m))
            if value is None:
                return None
            plain = vf.fullmatch(vf.NUMBER_BODY, text) and float(text) == value
            return value, Healing.NONE if plain else rule.fmt.number_healing
    if vf.fullmatch(vf.NUMBER_BODY, text):
        value = vf.finite_float(text)
        return None if value is None else (value, Healing.NONE)
    return None


def _boolean(rule: FieldRule, raw: str) -> Parsed | None:
    text = vf.trim(raw)
    if text == "true" or text == "false":
        return _with_trim((text == "true", Healing.NONE), text != raw)
    if text.isascii():
        word = text.lower()
        if word in vf.TRUE_WORDS:
            return True, Healing.BOOLEAN_WORD
        if word in vf.FALSE_WORDS:
            return False, Healing.BOOLEAN_WORD
    return None


def _dated(rule: FieldRule, raw: str, canonical: str,
           build: Callable[..., Any]) -> Parsed | None:
    text = vf.trim(raw)
    fmt = rule.fmt.date
    if fmt is not None:
        m = vf.fullmatch(fmt.body, text)
        if m:
            value = build(m)
            if value is None:
                return None
            kind = Healing.APPROVED_FORMAT if rule.fmt.date_approved else Healing.DATE_FORMAT
            return value, kind
    m = vf.fullmatch(canonical, text)
    if m:
        return _with_trim(None if (v := build(m)) is None else (v, Healing.NONE), text != raw)
    return None


def _date(rule: FieldRule, raw: str) -> Parsed | None:
    return _dated(rule, raw, vf.DATE_BODY, vf.date_from_match)


def _datetime(rule: FieldRule, raw: str) -> Parsed | None:
    return _dated(rule, raw, vf.DATETIME_BODY, vf.datetime_from_match)


def _time(rule: FieldRule, raw: str) -> Parsed | None:
    text = vf.trim(raw)
    m = vf.fullmatch(vf.TIME_BODY, text)
    if not m:
        return None
    value = vf.time_from_match(m)
    return None if value is None else _with_trim((value, Healing.NONE), text != raw)


def _year(rule: FieldRule, raw: str) -> Parsed | None:
    text = vf.trim(raw)
    if not vf.fullmatch(vf.YEAR_BODY, text):
        return None
    return _with_trim((int(text), Healing.NONE), text != raw)


_PARSE_TEXT = {
    "string": _string, "integer": _integer, "number": _number, "boolean": _boolean,
    "date": _date, "datetime": _datetime, "time": _time, "year": _year,
}


def parse_typed(rule: FieldRule, value: Any) -> Parsed | None:
    """Values that arrive typed (NDJSON numbers and booleans, Parquet columns).

    The field's own type is taken as is; a close relative is converted and reported as
    healing (`value_type`), which strict mode refuses; anything else is a type mismatch.
    """
    t = rule.type
    if isinstance(value, bool):
        if t == "boolean":
            return value, Healing.NONE
        if t == "string":
            return _as_text(rule, "true" if value else "false")
        return None
    if isinstance(value, int):
        if t in ("integer", "year"):
            ok = vf.int64_or_none(value) if t == "integer" else (value if 0 <= value <= 9999 else None)
            return None if ok is None else (ok, Healing.NONE)
        if t == "number":
            try:
                return float(value), Healing.NONE
            except OverflowError:
                return None
        if t == "boolean" and value in (0, 1):
            return value == 1, Healing.VALUE_TYPE
        if t == "string":
            return _as_text(rule, str(value))
        return None
    if isinstance(value, (float, Decimal)):
        number = float(value)
        if not math.isfinite(number):
            return None
        if t == "number":
            return number, Healing.NONE
        if t == "integer" and number.is_integer():
            whole = vf.int64_or_none(int(value))
            return None if whole is None else (whole, Healing.INTEGER_FROM_DECIMAL)
        if t == "string":
            return _as_text(rule, repr(value) if isinstance(value, float) else str(value))
        return None
    if isinstance(value, datetime):
        if t == "datetime":
            utc = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
            return utc, Healing.NONE
        if t == "string":
            return _as_text(rule, value.isoformat())
        return None
    if isinstance(value, date):
        if t == "date":
            return value, Healing.NONE
        if t == "string":
            return _as_text(rule, value.isoformat())
        return None
    if isinstance(value, time):
        if t == "time":
            return value.replace(tzinfo=None), Healing.NONE
        if t == "string":
            return _as_text(rule, value.isoformat())
        return None
    return None


def _as_text(rule: FieldRule, text: str) -> Parsed | None:
    parsed = _string(rule, text)
    return None if parsed is None else (parsed[0], Healing.VALUE_TYPE)


# -- messages ---------------------------------------------------------------------------------

_TYPE_MESSAGES = {
    "integer": "not a valid integer",
    "number": "not a valid number",
    "boolean": "not a valid boolean (expected true or false)",
    "date": "not a valid date (expected YYYY-MM-DD)",
    "datetime": "not a valid datetime (expected ISO 8601, e.g. 2023-05-17T10:00:00Z)",
    "time": "not a valid time (expected HH:MM:SS)",
    "year": "not a valid year (expected YYYY)",
    "string": "not a valid string",
}


def message(rule: FieldRule, issue: Issue, healing: Healing = Healing.NONE) -> str:
    """The human message for an issue; it depends only on the rule, never on the value."""
    f = rule.field
    c = f.constraints
    if issue is Issue.REQUIRED:
        return "value is required"
    if issue is Issue.TYPE:
        if f.type == "string" and f.format != "default":
            return f"invalid {f.format} format"
        text = _TYPE_MESSAGES[f.type]
        if rule.fmt.date is not None:
            text = text[:-1] + f" or {rule.fmt.date.label})" if text.endswith(")") else text
        return text
    if issue is Issue.COERCION:
        what = _COERCION_WORDS.get(healing, "coercion")
        return f"value needs coercion ({what}), which strict mode does not allow"
    if issue is Issue.ENUM:
        return "value must be one of: " + ", ".join(vf.display_value(e) or "" for e in c.enum or ())
    if issue is Issue.PATTERN:
        return f"value does not match pattern {c.pattern}"
    if issue is Issue.MIN_LENGTH:
        return f"value is shorter than minLength {c.min_length}"
    if issue is Issue.MAX_LENGTH:
        return f"value is longer than maxLength {c.max_length}"
    if issue is Issue.MINIMUM:
        return f"value is less than minimum {vf.display_value(c.minimum)}"
    if issue is Issue.MAXIMUM:
        return f"value is greater than maximum {vf.display_value(c.maximum)}"
    if issue is Issue.UNIQUE:
        return "value must be unique; an earlier row already has it"
    if issue is Issue.ENCODING:
        return "value has bytes that are not valid in the file's encoding"
    if issue is Issue.NUL:
        return "value contains a NUL character (U+0000), which cannot be stored"
    raise ValueError(issue)
