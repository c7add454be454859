"""Proposals for a job paused at needs_attention: concrete plan changes that would recover rows.

Pure: it reads rejected rows as the error file records them and the schema, nothing else.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from lading.domain.plan import ImportPlan
from lading.domain.table_schema import TableSchema

DATE_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d %b %Y",
                "%d %B %Y", "%b %d %Y", "%Y%m%d")


def propose_fixes(schema: TableSchema, plan: ImportPlan, error_rows: list[dict[str, Any]],
                  invalid_rows: int) -> dict[str, Any]:
    failing: dict[str, list[str]] = defaultdict(list)
    only_field: Counter[str] = Counter()
    for row in error_rows:
        fields = {e.get("field") for e in row.get("errors", []) if e.get("field")}
        for e in row.get("errors", []):
            if e.get("field") and e.get("value") is not None:
                failing[e["field"]].append(str(e["value"]))
        if len(fields) == 1:
            only_field[next(iter(fields))] += 1
    changes: list[dict[str, Any]] = []
    for field in schema.fields:
        values = failing.get(field.name)
        if not values:
            continue
        if field.type == "date":
            fmt, parsed = _best_date_format(values)
            if fmt:
                changes.append({"field": field.name, "dateFormat": fmt,
                                "recoversRows": min(parsed, only_field[field.name])})
        if field.constraints.enum:
            mapping = _enum_map(values, [str(v) for v in field.constraints.enum])
            if mapping:
                recovered = sum(1 for v in values if v in mapping)
                changes.append({"field": field.name, "enumMap": mapping,
                                "recoversRows": min(recovered, only_field[field.name])})
    return {"invalidRows": invalid_rows, "sampledRows": len(error_rows), "changes": changes}


def _best_date_format(values: list[str]) -> tuple[str | None, int]:
    best, best_count = None, 0
    for fmt in DATE_FORMATS:
        count = 0
        for v in values:
            try:
                datetime.strptime(v.strip(), fmt)
                count += 1
            except ValueError:
                pass
        if count > best_count:
            best, best_count = fmt, count
    return best, best_count


def _enum_map(values: list[str], allowed: list[str]) -> dict[str, str]:
    by_fold = {a.strip().casefold(): a for a in allowed}
    mapping: dict[str, str] = {}
    for v in sorted(set(values)):
        folded = v.strip().casefold()
        if folded in by_fold:
            mapping[v] = by_fold[folded]
            continue
        close = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=0.8)
        if close:
            mapping[v] = by_fold[close[0]]
    return mapping


def apply_proposal(plan: dict[str, Any], proposal: dict[str, Any]) -> dict[str, Any]:
    """The plan with an approved (possibly edited) proposal's changes in it.

    Format and value-map changes join the plan's per-field `fixes`; a change with a
    `sourceColumn` remaps that field to the column. `{"changes": []}` keeps the plan as it is.
    """
    out = dict(plan)
    fixes = {name: dict(fix) for name, fix in (plan.get("fixes") or {}).items()}
    field_map = dict(plan.get("fieldMap") or {})
    for change in proposal.get("changes", []):
        field_name = change.get("field")
        if not field_name:
            continue
        fix = {k: v for k, v in change.items() if k in FIX_KEYS}
        if fix:
            fixes[field_name] = {**fixes.get(field_name, {}), **fix}
        if change.get("sourceColumn"):
            field_map = {k: v for k, v in field_map.items() if v != field_name}
            field_map[change["sourceColumn"]] = field_name
    out["fieldMap"] = field_map
    out["fixes"] = fixes
    return out


# The plan keys a proposal's change may set for a field (domain/plan.py reads them as `fixes`).
FIX_KEYS = ("dateFormat", "enumMap")
