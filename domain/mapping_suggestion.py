"""Suggest which object field each column of a sample feeds, with a confidence and a reason.

Evidence, strongest first: a saved mapping of the workspace that mapped a column of the same
(normalised) name; the field's own name (exact, normalised, words contained, similar); and the
column's values, judged by the rules validation runs (value_fit), which also lower the
confidence of a name match whose values do not fit. Each field is suggested for one column at
most, best evidence first; ties are settled by column then field order, so the suggestion is
deterministic. A pure function: callers bring the sample and the past mappings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lading.domain.header_matching import (SIMILARITY_THRESHOLD, header_tokens, normalize_header,
                                           similarity)
from lading.domain.table_schema import Field, TableSchema
from lading.domain.value_fit import is_informative, value_fit

MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Suggestion:
    column: str
    field: str | None
    confidence: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "field": self.field, "confidence": round(self.confidence, 2),
                "reason": self.reason}


def suggest_mapping(schema: TableSchema, header: Sequence[str], rows: Sequence[Sequence[Any]],
                    past_field_maps: Sequence[Mapping[str, str]] = ()) -> dict[str, Any]:
    """{"fieldMap": column -> field, "columns": [per column: field, confidence, reason],
    "unmappedFields": fields no column was suggested for (required ones first)}."""
    past = _past_votes(schema, past_field_maps)
    candidates: list[tuple[float, int, int, Suggestion]] = []
    for ci, column in enumerate(header):
        values = [row[ci] if ci < len(row) else None for row in rows]
        for fi, f in enumerate(schema.fields):
            found = _evidence(f, column, values, past, schema.missing_values)
            if found is not None and found[0] >= MIN_CONFIDENCE:
                candidates.append((-found[0], ci, fi, Suggestion(column, f.name, *found)))
    chosen: dict[str, Suggestion] = {}
    used: set[str] = set()
    for _, _, _, s in sorted(candidates, key=lambda c: c[:3]):
        if s.column in chosen or s.field in used:
            continue
        chosen[s.column] = s
        if s.field is not None:
            used.add(s.field)
    columns = [chosen.get(c) or Suggestion(c, None, 0.0, "no field's name or values match")
               for c in header]
    unmapped = [f for f in schema.fields if f.name not in used]
    unmapped.sort(key=lambda f: not schema.is_required(f.name))
    return {
        "fieldMap": {s.column: s.field for s in columns if s.field},
        "columns": [s.to_dict() for s in columns],
        "unmappedFields": [{"field": f.name, "required": schema.is_required(f.name)}
                           for f in unmapped],
    }


def _past_votes(schema: TableSchema, maps: Sequence[Mapping[str, str]]) -> dict[str, Counter[str]]:
    votes: dict[str, Counter[str]] = {}
    known = set(schema.field_names)
    for field_map in maps:
        for column, field_name in field_map.items():
            if field_name in known:
                votes.setdefault(normalize_header(column), Counter())[field_name] += 1
    return votes


def _evidence(f: Field, column: str, values: list[Any], past: Mapping[str, Counter[str]],
              missing_values: Sequence[str]) -> tuple[float, str] | None:
    name = _name_evidence(f, column)
    fit = value_fit(f, values, missing_values) if values else None
    votes = past.get(normalize_header(column))
    if votes and votes.get(f.name):
        top = max(votes.values())
        if votes[f.name] == top and list(votes.values()).count(top) == 1:
            n = votes[f.name]
            name = (0.95, f"mapped to '{f.name}' in {n} saved mapping{'s' if n > 1 else ''}")
    if name is not None:
        confidence, reason = name
        if fit is not None and fit.present:
            if fit.share < 0.5:
                return confidence * 0.6, f"{reason}, but only {fit.share:.0%} of its values fit"
            if fit.fits and is_informative(f):
                return min(1.0, confidence + 0.04), f"{reason}; its values fit ({fit.share:.0%})"
        return confidence, reason
    if fit is not None and fit.fits and is_informative(f):
        what = f"{f.format} " if f.format != "default" else ""
        return (0.5 + 0.2 * fit.share,
                f"its values are valid {what}{f.type} values for '{f.name}' ({fit.share:.0%} of "
                f"{fit.present})")
    return None


def _name_evidence(f: Field, column: str) -> tuple[float, str] | None:
    if column == f.name:
        return 1.0, "same name"
    if normalize_header(column) == normalize_header(f.name):
        return 0.97, "same name once case and separators are ignored"
    wanted, words = header_tokens(f.name), header_tokens(column)
    if wanted and wanted <= words:
        return 0.75 + 0.15 * len(wanted) / len(words), f"its name contains '{f.name}'"
    score = similarity(normalize_header(column), normalize_header(f.name))
    if score >= SIMILARITY_THRESHOLD:
        return 0.85 * score, f"similar name ({score:.2f})"
    return None
