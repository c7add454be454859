"""Column-level healing: which non-canonical layout a column uses, decided from a sample.

A date column written `05/01/2024` throughout, a number column with decimal commas, an enum
column in another letter case: these are consistent conventions, not typos, and are healed for
the whole column. A stray `31/12/1999` among ISO dates is not a convention and stays an error
(a proposal can still offer the format). The decision reads the first SAMPLE_ROWS rows only,
so it is deterministic and the same for the reference and the engine.

Rule, per field: among the candidate layouts, the one that parses the most sample values wins
if it parses strictly more values than the canonical form does and at least 90 % of the
non-missing sample values. Ties go to the earlier candidate (day-first before month-first).
A column the mapping's sourceFields declares as a date, datetime or number type is known to
hold such values, so its layout needs only most of them (more than half): the declaration is
the evidence the 90 % stands in for, and the values that fit no layout are still rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lading.domain import value_formats as vf
from lading.domain.field_rules import PLAIN, ColumnFormat
from lading.domain.plan import ImportPlan, feeds
from lading.domain.fix_values import number_format
from lading.domain.table_schema import Field, TableSchema

SAMPLE_ROWS = 5000
CONSISTENT_SHARE = 0.9
DECLARED_SHARE = 0.5
_LAYOUT_TYPES = ("date", "datetime", "integer", "number", "year")


def choose_column_formats(schema: TableSchema, plan: ImportPlan, fields: Sequence[str],
                          sample: Mapping[str, Sequence[Any]]) -> dict[str, ColumnFormat]:
    """Decide each field's column format from its sample values (raw source values).

    `sample[field]` holds the field's source values from the first SAMPLE_ROWS well-formed rows;
    values that are not text (typed JSON or Parquet values, undecodable bytes) are ignored.
    Approved fixes (`plan.fixes[field]["dateFormat"]` or `["numberFormat"]`) override the sample.
    """
    missing = set(schema.missing_values)
    declared = plan.declared_types()
    out: dict[str, ColumnFormat] = {}
    for name in fields:
        f = schema.field(name)
        fix = plan.fixes.get(name) or {}
        approved = _approved_date(f, fix)
        if approved is not None:
            out[name] = ColumnFormat(date=approved, date_approved=True)
            continue
        number = number_format(fix.get("numberFormat")) if f.type in ("integer", "number") else None
        if number is not None:
            out[name] = ColumnFormat(number=number, number_approved=True)
            continue
        texts = [v for v in sample.get(name, ()) if isinstance(v, str) and v not in missing]
        if f.type != "string":
            texts = [t for t in (vf.trim(v) for v in texts) if t not in missing]
        out[name] = _choose(f, texts, _share(f, declared.get(name))) if texts else PLAIN
    return out


def _share(f: Field, declared: str | None) -> float:
    """The share of sampled values a layout must parse (see the module's rule)."""
    if declared in _LAYOUT_TYPES and f.type in _LAYOUT_TYPES and feeds(declared, f.type):
        return DECLARED_SHARE
    return CONSISTENT_SHARE


def _approved_date(f: Field, fix: Mapping[str, Any]) -> vf.DateFormat | None:
    label = fix.get("dateFormat")
    if f.type not in ("date", "datetime") or not isinstance(label, str):
        return None
    return vf.date_format(label, with_time=f.type == "datetime")


def _choose(f: Field, values: list[str], share: float) -> ColumnFormat:
    if f.type in ("date", "datetime"):
        with_time = f.type == "datetime"
        build = vf.datetime_from_match if with_time else vf.date_from_match
        canonical = vf.DATETIME_BODY if with_time else vf.DATE_BODY
        labels = vf.DATETIME_CANDIDATES if with_time else vf.DATE_CANDIDATES
        fmt = _pick(values, lambda v: _dated(canonical, v, build),
                    [(d, lambda v, d=d: _dated(d.body, v, build)) for d in _formats(labels, with_time)],
                    share)
        return ColumnFormat(date=fmt) if fmt else PLAIN
    if f.type in ("integer", "number"):
        integer = f.type == "integer"
        fmt = _pick(values, lambda v: _canonical_number(v, integer),
                    [(n, lambda v, n=n: _formatted_number(n, v, integer))
                     for n in vf.NUMBER_CANDIDATES], share)
        return ColumnFormat(number=fmt) if fmt else PLAIN
    if f.type == "string" and f.constraints.enum is not None:
        allowed = {e for e in f.constraints.enum if isinstance(e, str)}
        lower = {vf.ascii_lower(e) for e in allowed}
        exact = sum(1 for v in values if v in allowed)
        case = sum(1 for v in values if v not in allowed and vf.ascii_lower(v) in lower)
        if case > exact and (exact + case) >= CONSISTENT_SHARE * len(values):
            return ColumnFormat(enum_case=True)
    return PLAIN


def _pick(values: list[str], canonical: Callable[[str], Any],
          candidates: Sequence[Any], share: float) -> Any:
    """The candidate parsing most values, if it beats the canonical form and reaches `share`."""
    passing: list[str] = []
    failing: list[str] = []
    for v in values:
        (passing if canonical(v) else failing).append(v)
    if not failing:
        return None
    best, best_score = None, len(passing)
    for candidate, parses in candidates:
        score = _score(parses, passing, failing, best_score)
        if score is not None and score > best_score:
            best, best_score = candidate, score
    if best is None or best_score < share * len(values) or best_score * 2 <= len(values):
        return None
    return best


def _score(parses: Callable[[str], Any], passing: list[str], failing: list[str],
           to_beat: int) -> int | None:
    """How many values `parses` accepts, or None as soon as it cannot exceed `to_beat`."""
    gained = sum(1 for v in failing if parses(v))
    # it must win back more values than the canonical form parses and it does not
    budget = len(passing) + gained - to_beat
    if budget <= 0:
        return None
    lost = 0
    for v in passing:
        if not parses(v):
            lost += 1
            if lost >= budget:
                return None
    return len(passing) - lost + gained


def _dated(body: str, value: str, build: Callable[..., Any]) -> bool:
    m = vf.fullmatch(body, value)
    return bool(m) and build(m) is not None


_FORMAT_CACHE: dict[tuple[tuple[str, ...], bool], list[vf.DateFormat]] = {}


def _formats(labels: tuple[str, ...], with_time: bool) -> list[vf.DateFormat]:
    key = (labels, with_time)
    if key not in _FORMAT_CACHE:
        _FORMAT_CACHE[key] = [d for d in (vf.date_format(l, with_time) for l in labels) if d]
    return _FORMAT_CACHE[key]


def _canonical_number(text: str, integer: bool) -> bool:
    if integer:
        return bool(vf.fullmatch(vf.INTEGER_BODY, text)) and vf.int64_or_none(int(text)) is not None
    return bool(vf.fullmatch(vf.NUMBER_BODY, text)) and vf.finite_float(text) is not None


def _formatted_number(fmt: vf.NumberFormat, text: str, integer: bool) -> bool:
    m = vf.fullmatch(fmt.body(integer), text)
    if not m or (fmt.currency and not fmt.has_symbol(m)):
        return False  # a currency layout counts only values that carry the symbol
    normal = fmt.normalised(m)
    if integer:
        return vf.int64_or_none(int(normal)) is not None
    return vf.finite_float(normal) is not None
