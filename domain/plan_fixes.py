"""Approved per-field fixes a plan carries (`plan.fixes[field]`), checked before they are used.

    {"dateFormat": "%d/%m/%Y"}                          a date/datetime layout
    {"numberFormat": {"decimal": ",", "group": ".", "currency": "€"}}
    {"booleanWords": {"true": ["ja"], "false": ["nein"]}}
    {"enumMap": {"PRO": "pro"}}                         source value -> value to validate
    {"setValue": "FR"}                                  every row gets this value

A fix is part of the plan the user approved, so the engine applies it in every mode (strict
included) and the reference and the engine read it through the same ColumnFormat / FieldRule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lading.domain import value_formats as vf
from lading.domain.errors import InvalidPlan, UnknownField
from lading.domain.field_rules import PLAIN, Issue, evaluate, make_rule
from lading.domain.fix_values import GROUP_MARKS, number_format
from lading.domain.table_schema import Field, TableSchema

FIX_KEYS = ("dateFormat", "numberFormat", "booleanWords", "enumMap", "setValue")


def check_fixes(fixes: Any, schema: TableSchema) -> dict[str, dict[str, Any]]:
    """The fixes as given, or InvalidPlan / UnknownField naming the offending part."""
    if not isinstance(fixes, Mapping):
        raise InvalidPlan("fixes must be an object")
    known = set(schema.field_names)
    for name, fix in fixes.items():
        if name not in known:
            raise UnknownField(f"fixes.{name}: the object has no field '{name}'")
        if not isinstance(fix, Mapping):
            raise InvalidPlan(f"fixes.{name} must be an object")
        for key in fix:
            if key not in FIX_KEYS:
                raise InvalidPlan(f"fixes.{name}.{key}: unknown fix; use one of {', '.join(FIX_KEYS)}")
        _check_field_fix(schema, schema.field(name), fix)
    return {name: dict(fix) for name, fix in fixes.items()}


def _check_field_fix(schema: TableSchema, f: Field, fix: Mapping[str, Any]) -> None:
    at = f"fixes.{f.name}"
    if "dateFormat" in fix:
        label = fix["dateFormat"]
        if f.type not in ("date", "datetime"):
            raise InvalidPlan(f"{at}.dateFormat: field '{f.name}' is {f.type}, not a date")
        if not isinstance(label, str) or vf.date_format(label, f.type == "datetime") is None:
            raise InvalidPlan(f"{at}.dateFormat: {label!r} is not a layout of %d %m %Y %y %b %B"
                              + (" followed by %H:%M[:%S]" if f.type == "datetime" else ""))
    if "numberFormat" in fix:
        if f.type not in ("integer", "number"):
            raise InvalidPlan(f"{at}.numberFormat: field '{f.name}' is {f.type}, not a number")
        if number_format(fix["numberFormat"]) is None:
            raise InvalidPlan(f"{at}.numberFormat must be {{\"decimal\": \".\"|\",\", \"group\": "
                              f"one of {GROUP_MARKS} other than the decimal mark, \"currency\": "
                              f"one of {vf.CURRENCY_SYMBOLS}}}")
    if "booleanWords" in fix:
        words = fix["booleanWords"]
        if f.type != "boolean":
            raise InvalidPlan(f"{at}.booleanWords: field '{f.name}' is {f.type}, not a boolean")
        if (not isinstance(words, Mapping) or set(words) - {"true", "false"} or not all(
                isinstance(w, list) and all(isinstance(x, str) for x in w) for w in words.values())):
            raise InvalidPlan(f"{at}.booleanWords must be {{\"true\": [words], \"false\": [words]}}")
        both = set(words.get("true") or ()) & set(words.get("false") or ())
        if both:
            raise InvalidPlan(f"{at}.booleanWords: {sorted(both)} cannot mean both true and false")
    if "enumMap" in fix:
        mapping = fix["enumMap"]
        if not isinstance(mapping, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
            raise InvalidPlan(f"{at}.enumMap must map source values to values")
    if "setValue" in fix:
        value = fix["setValue"]
        if name_is_key(schema, f) or f.constraints.unique:
            raise InvalidPlan(f"{at}.setValue: '{f.name}' must differ from row to row "
                              "(key or unique); one value for every row cannot be right")
        if not isinstance(value, str) or not _accepts(schema, f, value):
            raise InvalidPlan(f"{at}.setValue: {value!r} is not a valid {f.type} for '{f.name}'")


def name_is_key(schema: TableSchema, f: Field) -> bool:
    return f.name in schema.primary_key


def _accepts(schema: TableSchema, f: Field, value: str) -> bool:
    rule = make_rule(f, f.name, True, False, PLAIN, schema.missing_values, None)
    return evaluate(rule, value).issue is Issue.NONE
