"""HTML forms in the API's terms: the mapping editor's fields, an edited proposal."""

from __future__ import annotations

from typing import Any

from lading.domain.errors import InvalidPlan

_MAX_COLUMNS = 10_000


def mapping_from_form(form: Any) -> dict[str, Any]:
    """`column-N` / `field-N` pairs (an empty field: not imported), mode, operation, policy."""
    field_map: dict[str, str] = {}
    for i in range(_MAX_COLUMNS):
        column = form.get(f"column-{i}")
        if column is None:
            break
        field = (form.get(f"field-{i}") or "").strip()
        if field:
            field_map[column] = field
    if not field_map:
        raise InvalidPlan("map at least one column to a field")
    mapping: dict[str, Any] = {"fieldMap": field_map,
                               "importMode": form.get("importMode") or "balanced",
                               "operation": form.get("operation") or "upsert"}
    policy = form.get("reviewPolicy") or "auto"
    if policy == "ratio":
        try:
            ratio = float(form.get("maxInvalidRatio") or "") / 100
        except ValueError:
            raise InvalidPlan("the share of invalid rows to pause at must be a number") from None
        mapping["reviewPolicy"] = {"maxInvalidRatio": ratio}
    else:
        mapping["reviewPolicy"] = policy
    return mapping


def approval_from_form(proposal: dict[str, Any], form: Any) -> dict[str, Any]:
    """The proposal's changes the person kept (`apply-N`), with their edits; none kept means
    finish on the current plan, as SPEC §3 says of an empty `changes`."""
    changes = []
    for i, change in enumerate(proposal.get("changes") or []):
        if form.get(f"apply-{i}") != "on":
            continue
        # Everything the change says (its kind and parameters), less what only informs a person.
        kept = {k: v for k, v in change.items() if k not in ("recoversRows", "samples", "deletesRows")}
        if "dateFormat" in change:
            kept["dateFormat"] = (form.get(f"dateFormat-{i}") or change["dateFormat"]).strip()
        if "enumMap" in change:
            edited = {}
            for j, source in enumerate(change["enumMap"]):
                target = form.get(f"enum-{i}-{j}")
                if target is None:
                    target = change["enumMap"][source]
                if target:
                    edited[source] = target
            kept["enumMap"] = edited
        if "sourceColumn" in change:
            kept["sourceColumn"] = (form.get(f"sourceColumn-{i}") or change["sourceColumn"]).strip()
        changes.append(kept)
    return {"changes": changes}
