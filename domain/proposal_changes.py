"""The changes a review proposal can carry, and applying an approved one to a plan.

    {"kind": "column_remap", "field": "email", "sourceColumn": "E-Mail Adresse"}
    {"kind": "date_format", "field": "joined", "dateFormat": "%d %b %Y"}
    {"kind": "number_format", "field": "total", "numberFormat": {"decimal": ",", "group": "."}}
    {"kind": "boolean_words", "field": "vip", "trueWords": ["ja"], "falseWords": ["nein"]}
    {"kind": "enum_map", "field": "tier", "enumMap": {"Gold ": "gold"}}
    {"kind": "set_value", "field": "country", "value": "FR"}
    {"kind": "delete_invalid_rows"}

Changes written before kinds existed (`{"field", "dateFormat"}`, `{"field", "enumMap"}`,
`{"field", "sourceColumn"}`) are read by the key they carry. Pure: plan dicts in, plan dicts out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lading.domain.errors import InvalidPlan

CHANGE_KINDS = ("column_remap", "date_format", "number_format", "boolean_words", "enum_map",
                "set_value", "delete_invalid_rows")
_LEGACY_KEYS = (("dateFormat", "date_format"), ("enumMap", "enum_map"),
                ("sourceColumn", "column_remap"), ("numberFormat", "number_format"))


def change_kind(change: Any) -> str:
    if not isinstance(change, Mapping):
        raise InvalidPlan("each proposal change must be an object")
    kind = change.get("kind")
    if kind is None:
        kind = next((k for key, k in _LEGACY_KEYS if key in change), None)
    if kind not in CHANGE_KINDS:
        raise InvalidPlan(f"proposal change kind must be one of {', '.join(CHANGE_KINDS)}")
    if kind != "delete_invalid_rows" and not isinstance(change.get("field"), str):
        raise InvalidPlan(f"a {kind} change needs the 'field' it applies to")
    return kind


def apply_proposal(plan: Mapping[str, Any], proposal: Mapping[str, Any]) -> dict[str, Any]:
    """The plan (as `ImportPlan.to_dict` writes it) with every change of `proposal` applied.

    Fixes go to `plan["fixes"][field]`, merged with those already approved; a column remap
    rewrites `fieldMap`; `delete_invalid_rows` completes the run whatever still fails (review
    policy `auto`). The result still has to pass `ImportPlan.from_dict` against the schema."""
    if not isinstance(proposal, Mapping):
        raise InvalidPlan("the proposal must be an object")
    changes = proposal.get("changes", [])
    if not isinstance(changes, list):
        raise InvalidPlan("the proposal's 'changes' must be a list")
    _check_one_column_each(changes)
    out = dict(plan)
    field_map = dict(plan.get("fieldMap") or {})
    fixes = {name: dict(fix) for name, fix in (plan.get("fixes") or {}).items()}
    for change in changes:
        kind = change_kind(change)
        if kind == "delete_invalid_rows":
            out["reviewPolicy"] = "auto"
            continue
        name = change["field"]
        if kind == "column_remap":
            field_map = _remapped(field_map, name, change.get("sourceColumn"))
            continue
        fix = fixes.setdefault(name, {})
        if kind == "date_format":
            fix["dateFormat"] = change.get("dateFormat")
        elif kind == "number_format":
            fix["numberFormat"] = change.get("numberFormat")
        elif kind == "enum_map":
            mapping = change.get("enumMap")
            if not isinstance(mapping, Mapping):
                raise InvalidPlan(f"the enum_map change for '{name}' needs an 'enumMap' object")
            fix["enumMap"] = {**(fix.get("enumMap") or {}), **mapping}
        elif kind == "boolean_words":
            words = dict(fix.get("booleanWords") or {})
            for canonical, key in (("true", "trueWords"), ("false", "falseWords")):
                given = change.get(key) or []
                if not isinstance(given, list):
                    raise InvalidPlan(f"the boolean_words change for '{name}': {key} must be a list")
                words[canonical] = list(dict.fromkeys([*(words.get(canonical) or []), *given]))
            fix["booleanWords"] = words
        elif kind == "set_value":
            fix["setValue"] = change.get("value")
    out["fieldMap"] = field_map
    out["fixes"] = {name: fix for name, fix in fixes.items() if fix}
    return out


def _check_one_column_each(changes: list[Any]) -> None:
    """A proposal may offer several columns for one field (a tie); approving more than one of
    them would leave the choice to the order of the changes, so the person must keep one."""
    offered: dict[str, list[Any]] = {}
    for change in changes:
        if isinstance(change, Mapping) and change_kind(change) == "column_remap":
            columns = offered.setdefault(str(change.get("field")), [])
            if change.get("sourceColumn") not in columns:
                columns.append(change.get("sourceColumn"))
    for name, columns in offered.items():
        if len(columns) > 1:
            raise InvalidPlan(f"the proposal remaps '{name}' to {len(columns)} columns "
                              f"({', '.join(repr(c) for c in columns)}): keep the one to use")


def _remapped(field_map: dict[str, str], name: str, column: Any) -> dict[str, str]:
    if not isinstance(column, str) or not column:
        raise InvalidPlan(f"the column_remap change for '{name}' needs a 'sourceColumn'")
    if field_map.get(column, name) != name:
        raise InvalidPlan(f"column {column!r} already feeds field '{field_map[column]}'; "
                          f"remap that field first")
    kept = {k: v for k, v in field_map.items() if v != name}
    kept[column] = name
    return kept
