"""Frictionless Table Schema, the subset Lading supports, as plain immutable data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lading.domain.errors import InvalidSchema

FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "time", "year")
STRING_FORMATS = ("default", "email", "uri", "uuid")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Constraints:
    required: bool = False
    unique: bool = False
    enum: tuple[Any, ...] | None = None
    pattern: str | None = None
    minimum: Any = None
    maximum: Any = None
    min_length: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"
    format: str = "default"
    constraints: Constraints = field(default_factory=Constraints)

    @property
    def required(self) -> bool:
        return self.constraints.required


@dataclass(frozen=True)
class TableSchema:
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    missing_values: tuple[str, ...] = ("",)

    # Cached: validation asks once per column, and a wide file has thousands of columns.
    @cached_property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> Field:
        return self._by_name[name]

    def is_required(self, name: str) -> bool:
        """Primary-key fields are required whether or not the schema says so."""
        return name in self.primary_key or self.field(name).required

    @classmethod
    def from_dict(cls, descriptor: Any) -> "TableSchema":
        if not isinstance(descriptor, dict):
            raise InvalidSchema("a Table Schema must be a JSON object")
        raw_fields = descriptor.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            raise InvalidSchema("a Table Schema needs a non-empty 'fields' list")
        fields = tuple(_field_from_dict(f, i) for i, f in enumerate(raw_fields))
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise InvalidSchema("field names must be unique")
        pk = descriptor.get("primaryKey")
        if isinstance(pk, str):
            pk = [pk]
        if not isinstance(pk, list) or not pk or not all(isinstance(k, str) for k in pk):
            raise InvalidSchema("'primaryKey' must name one or more fields")
        for k in pk:
            if k not in names:
                raise InvalidSchema(f"primaryKey names unknown field '{k}'")
        missing = descriptor.get("missingValues", [""])
        if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
            raise InvalidSchema("'missingValues' must be a list of strings")
        return cls(fields=fields, primary_key=tuple(pk), missing_values=tuple(missing))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "fields": [_field_to_dict(f) for f in self.fields],
            "primaryKey": list(self.primary_key),
        }
        if self.missing_values != ("",):
            out["missingValues"] = list(self.missing_values)
        return out


CONSTRAINTS = ("required", "unique", "enum", "pattern", "minimum", "maximum", "minLength",
               "maxLength")
_RANGED_TYPES = ("integer", "number", "date", "datetime", "time", "year")
# Table Schema lets date and time fields say `any`; Lading reads ISO 8601 and heals the rest.
_LOOSE_FORMATS = ("default", "any")


def _field_from_dict(raw: Any, index: int = 0) -> Field:
    at = f"fields[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise InvalidSchema(f"{at}: each field needs a 'name'")
    name = raw["name"]
    if not _NAME.match(name):
        raise InvalidSchema(
            f"{at}: field name '{name}' must start with a letter or '_' and use only letters, "
            "digits and '_'"
        )
    at = f"{at} ('{name}')"
    ftype = raw.get("type", "string")
    if ftype not in FIELD_TYPES:
        raise InvalidSchema(f"{at}.type: unsupported type {ftype!r}; use one of "
                            f"{', '.join(FIELD_TYPES)}")
    fmt = raw.get("format", "default")
    if ftype == "string" and fmt not in STRING_FORMATS:
        raise InvalidSchema(f"{at}.format: unsupported string format {fmt!r}; use one of "
                            f"{', '.join(STRING_FORMATS)}")
    if ftype != "string":
        allowed = _LOOSE_FORMATS if ftype in ("date", "datetime", "time") else ("default",)
        if fmt not in allowed:
            raise InvalidSchema(f"{at}.format: unsupported {ftype} format {fmt!r}; use "
                                f"{' or '.join(repr(a) for a in allowed)}")
        fmt = "default"
    c = raw.get("constraints", {}) or {}
    if not isinstance(c, dict):
        raise InvalidSchema(f"{at}.constraints must be an object")
    constraints = _constraints(f"{at}.constraints", ftype, fmt, c)
    return Field(name=name, type=ftype, format=fmt, constraints=constraints)


def _constraints(at: str, ftype: str, fmt: str, c: dict[str, Any]) -> Constraints:
    for key in c:
        if key not in CONSTRAINTS:
            raise InvalidSchema(f"{at}.{key}: unknown constraint; Lading supports "
                                f"{', '.join(CONSTRAINTS)}")
    for key in ("required", "unique"):
        if key in c and not isinstance(c[key], bool):
            raise InvalidSchema(f"{at}.{key} must be true or false, not {c[key]!r}")
    enum = c.get("enum")
    if enum is not None:
        if not isinstance(enum, list) or not enum:
            raise InvalidSchema(f"{at}.enum must be a non-empty list")
        for i, value in enumerate(enum):
            if not _is_value_of(ftype, fmt, value):
                raise InvalidSchema(f"{at}.enum[{i}]: {value!r} is not a valid {ftype}")
    pattern = c.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            raise InvalidSchema(f"{at}.pattern must be a regular expression string")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidSchema(f"{at}.pattern: bad pattern: {exc}") from None
    for key in ("minLength", "maxLength"):
        if key not in c:
            continue
        value = c[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidSchema(f"{at}.{key} must be a non-negative integer, not {value!r}")
        if ftype != "string":
            raise InvalidSchema(f"{at}.{key} applies to string fields, not {ftype}")
    if c.get("minLength", 0) > c.get("maxLength", c.get("minLength", 0)):
        raise InvalidSchema(f"{at}: minLength {c['minLength']} is greater than maxLength "
                            f"{c['maxLength']}")
    for key in ("minimum", "maximum"):
        if key not in c:
            continue
        if ftype not in _RANGED_TYPES:
            raise InvalidSchema(f"{at}.{key} applies to {', '.join(_RANGED_TYPES)} fields, "
                                f"not {ftype}")
        if not _is_bound_of(ftype, c[key]):
            raise InvalidSchema(f"{at}.{key}: {c[key]!r} is not a valid {ftype}")
    return Constraints(
        required=c.get("required", False),
        unique=c.get("unique", False),
        enum=tuple(enum) if enum is not None else None,
        pattern=pattern,
        minimum=c.get("minimum"),
        maximum=c.get("maximum"),
        min_length=c.get("minLength"),
        max_length=c.get("maxLength"),
    )


def _typed_value(ftype: str, fmt: str, value: Any) -> Any:
    # field_rules builds on this module's Field, so it is imported where it is used.
    from lading.domain.field_rules import FieldRule, parse

    rule = FieldRule(field=Field(name="_", type=ftype, format=fmt), column="", required=False)
    parsed = parse(rule, value)
    return None if parsed is None else parsed[0]


def _is_value_of(ftype: str, fmt: str, value: Any) -> bool:
    if ftype == "string":
        return isinstance(value, str) and (fmt == "default" or _typed_value(ftype, fmt, value) is not None)
    return value is not None and _typed_value(ftype, fmt, value) is not None


def _is_bound_of(ftype: str, value: Any) -> bool:
    if ftype in ("integer", "number", "year"):
        # a fractional bound on an integer field is a valid bound (compared exactly)
        if isinstance(value, bool):
            return False
        if isinstance(value, (int, float)):
            return value == value and value not in (float("inf"), float("-inf"))
    return isinstance(value, str) and _typed_value(ftype, "default", value) is not None


def _field_to_dict(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "type": f.type}
    if f.format != "default":
        out["format"] = f.format
    c = f.constraints
    cons = {
        "required": c.required or None,
        "unique": c.unique or None,
        "enum": list(c.enum) if c.enum is not None else None,
        "pattern": c.pattern,
        "minimum": c.minimum,
        "maximum": c.maximum,
        "minLength": c.min_length,
        "maxLength": c.max_length,
    }
    cons = {k: v for k, v in cons.items() if v is not None}
    if cons:
        out["constraints"] = cons
    return out
