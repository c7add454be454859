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
        fields = tuple(_field_from_dict(f) for f in raw_fields)
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


def _field_from_dict(raw: Any) -> Field:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise InvalidSchema("each field needs a 'name'")
    name = raw["name"]
    if not _NAME.match(name):
        raise InvalidSchema(
            f"field name '{name}' must start with a letter or '_' and use only letters, digits and '_'"
        )
    ftype = raw.get("type", "string")
    if ftype not in FIELD_TYPES:
        raise InvalidSchema(f"field '{name}' has unsupported type '{ftype}'")
    fmt = raw.get("format", "default")
    if ftype == "string" and fmt not in STRING_FORMATS:
        raise InvalidSchema(f"field '{name}' has unsupported string format '{fmt}'")
    if ftype != "string":
        fmt = "default"
    c = raw.get("constraints", {}) or {}
    if not isinstance(c, dict):
        raise InvalidSchema(f"field '{name}': constraints must be an object")
    enum = c.get("enum")
    if enum is not None and (not isinstance(enum, list) or not enum):
        raise InvalidSchema(f"field '{name}': enum must be a non-empty list")
    pattern = c.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidSchema(f"field '{name}': bad pattern: {exc}") from None
    for key in ("minLength", "maxLength"):
        if key in c and (not isinstance(c[key], int) or c[key] < 0):
            raise InvalidSchema(f"field '{name}': {key} must be a non-negative integer")
    return Field(
        name=name,
        type=ftype,
        format=fmt,
        constraints=Constraints(
            required=bool(c.get("required", False)),
            unique=bool(c.get("unique", False)),
            enum=tuple(enum) if enum is not None else None,
            pattern=pattern,
            minimum=c.get("minimum"),
            maximum=c.get("maximum"),
            min_length=c.get("minLength"),
            max_length=c.get("maxLength"),
        ),
    )


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
