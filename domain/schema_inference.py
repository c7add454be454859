"""Infer a Table Schema from a sample of a file, in the spirit of `frictionless describe`.

Each column gets the most specific type every sampled value fits, judged by the rules
validation runs (so a column written `05/01/2024` throughout is a date, as an import would
read it, and its layout is noted in the field's description); `required` when no sampled value
is missing; an `enum` for a text column repeating a few values; and a primary key candidate:
the first column, preferring names with the word `id`, whose sampled values are all present
and distinct. Field names are the column names made valid (`Customer Email` ->
`customer_email`); `fieldMap` maps the columns to them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from lading.domain.header_matching import header_tokens
from lading.domain.table_schema import Field
from lading.domain.value_fit import value_fit
from lading.domain.value_formats import display_value, trim

# Most specific first; a column of 0/1 is an integer, as frictionless reads it.
TYPE_ORDER = ("boolean", "integer", "number", "date", "datetime", "time")
STRING_FORMATS = ("email", "uuid", "uri")
ENUM_MAX = 10  # distinct values a column may repeat to be offered as an enum
ENUM_MIN_ROWS = 10
_WORD = re.compile(r"[A-Za-z0-9]+")
_KEY_TYPES = ("integer", "string")
_KEY_ORDER = ("name", "title", "type", "format", "description", "constraints")


def infer_schema(header: Sequence[str], rows: Sequence[Sequence[Any]],
                 missing_values: Sequence[str] = ("",)) -> dict[str, Any]:
    """{"schema": a Table Schema descriptor, "fieldMap": column -> field, "rowsSampled": n}."""
    names = field_names(header)
    fields: list[dict[str, Any]] = []
    key_candidates: list[tuple[int, int, str]] = []
    for i, column in enumerate(header):
        values = [row[i] if i < len(row) else None for row in rows]
        present = [v for v in values if not _missing(v, missing_values)]
        described = _describe_column(names[i], present, missing_values)
        if present and len(present) == len(values):
            described.setdefault("constraints", {})["required"] = True
            texts = [display_value(v) for v in present]
            if described["type"] in _KEY_TYPES and len(set(texts)) == len(texts):
                has_id = "id" in header_tokens(column)
                key_candidates.append((0 if has_id else 1, i, names[i]))
        if column != names[i]:
            described["title"] = column
        fields.append({k: described[k] for k in _KEY_ORDER if k in described})
    descriptor: dict[str, Any] = {"fields": fields}
    if key_candidates:
        descriptor["primaryKey"] = [min(key_candidates)[2]]
    return {"schema": descriptor, "fieldMap": dict(zip(header, names)), "rowsSampled": len(rows)}


def _missing(value: Any, missing_values: Sequence[str]) -> bool:
    return value is None or (isinstance(value, str) and trim(value) in missing_values)


def _describe_column(name: str, present: list[Any], missing_values: Sequence[str]) -> dict[str, Any]:
    if not present:
        return {"name": name, "type": "string"}
    for ftype in TYPE_ORDER:
        fit = value_fit(Field(name, ftype), present, missing_values)
        if fit.accepted != fit.present:
            continue
        if ftype == "boolean" and all(display_value(v) in ("0", "1") for v in present):
            continue
        out: dict[str, Any] = {"name": name, "type": ftype}
        if fit.layout:
            out["description"] = f"written as {fit.layout}; Lading heals it on import"
        return out
    for fmt in STRING_FORMATS:
        fit = value_fit(Field(name, "string", fmt), present, missing_values)
        if fit.accepted == fit.present:
            return {"name": name, "type": "string", "format": fmt}
    out = {"name": name, "type": "string"}
    texts = [display_value(v) for v in present]
    distinct = sorted({t for t in texts if t is not None})
    if len(present) >= ENUM_MIN_ROWS and len(distinct) <= min(ENUM_MAX, len(present) // 4):
        out["constraints"] = {"enum": distinct}
    return out


def field_names(header: Sequence[str]) -> list[str]:
    """Valid, unique Table Schema field names for the columns (`E-mail` -> `e_mail`)."""
    out: list[str] = []
    seen: set[str] = set()
    for i, column in enumerate(header):
        ascii_name = unicodedata.normalize("NFKD", column).encode("ascii", "ignore").decode()
        base = "_".join(w.lower() for w in _WORD.findall(ascii_name))[:60] or f"column_{i + 1}"
        if base[0].isdigit():
            base = "_" + base
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        out.append(name)
    return out
