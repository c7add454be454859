"""Proposals for a job paused at needs_attention: concrete plan changes that would recover rows.

Pure: it reads rejected rows as the error file records them (`errors`, `sourceRow`), the schema,
the plan and the column formats validation chose (`healing.columnFormats` labels), nothing else.
Every number it gives is counted with the rules validation itself runs (`evaluate` on a rule
built by `make_rule` from the changed plan, `choose_column_formats` for a remapped column), so an
approved change recovers in the re-run exactly the rows it says, with limits it cannot see from
rejected rows alone: a recovered row whose key equals that of a row which was valid already
(the re-run keeps one of the two), and, for a column remap, rows that were valid with the old
column. The first is counted out with `valid_keys` (which of these keys do valid rows have?)
or, without it, where the error file shows it (a DUPLICATE_KEY row's key belongs to a valid
row); the second is avoided by proposing remaps only when no row was valid. A `unique` field
other than the key is not checked against valid rows.

Changes are offered only where they widen what is accepted: a date or number layout only for a
column that has none yet, value maps only for values that failed (a value fails the same way in
every row), so no row valid before an approval is rejected after it.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from lading.domain import value_formats as vf
from lading.domain.column_formats import choose_column_formats
from lading.domain.errors import ColumnsMissing, DomainError, SourceUnreadable
from lading.domain.field_rules import (
    PLAIN,
    ColumnFormat,
    FieldRule,
    Issue,
    evaluate,
    make_rule,
    message,
)
from lading.domain.fix_values import number_format_to_wire
from lading.domain.header_matching import match_headers
from lading.domain.plan import ImportPlan
from lading.domain.proposal_changes import apply_proposal, change_kind
from lading.domain.row_errors import KEY_CODES, ROW_LEVEL_CODES, RowErrorCode
from lading.domain.table_schema import Field, TableSchema

SAMPLES = 5  # sample values shown per change
# Words exports use for booleans beyond the ones healed everywhere (value_formats.TRUE_WORDS).
TRUE_WORDS = ("ja", "oui", "si", "sí", "vrai", "wahr", "waar", "x", "✓", "✔", "checked",
              "active", "enabled", "positive", "+")
FALSE_WORDS = ("nein", "non", "faux", "falsch", "onwaar", "unchecked", "inactive", "disabled",
               "negative", "-")
EXTRA_DATE_LABELS = ("%d %B %Y", "%B %d %Y", "%B %d, %Y", "%d-%b-%y", "%d.%m.%Y", "%Y.%m.%d")
_ENUM_CASE_LABEL = ColumnFormat(enum_case=True).label
_UNFIXABLE = {str(c) for c in (*ROW_LEVEL_CODES, *KEY_CODES)}
# Which of the given primary keys (typed tuples) valid rows of the run already have.
ValidKeys = Callable[[list[tuple[Any, ...]]], set[tuple[Any, ...]]]


def propose_fixes(schema: TableSchema, plan: ImportPlan, error_rows: Iterable[dict[str, Any]],
                  invalid_rows: int, column_formats: Mapping[str, str] | None = None,
                  valid_rows: int | None = None,
                  valid_keys: ValidKeys | None = None) -> dict[str, Any]:
    """The proposal for a paused run. `error_rows` is read twice (pass a list or a re-readable
    source); `column_formats` are the labels validation chose; `valid_rows`, when known, lets a
    column remap be offered (only when it is 0: then no valid row can be lost by it)."""
    rows = error_rows if isinstance(error_rows, Sequence) else list(error_rows)
    context = _Context(schema, plan, rows, column_formats or {}, valid_keys)
    changes: list[dict[str, Any]] = []
    for f in schema.fields:
        if f.name not in context.mapped:
            continue
        failing = context.failing.get(f.name)
        if not failing:
            continue
        changes += _layout_changes(context, f, failing)
        changes += _value_map_changes(context, f, failing)
        changes += _set_value_changes(context, f)
        if valid_rows == 0:
            changes += _remap_changes(context, f)
    usable = []
    for change in changes:
        try:
            # 0 is possible: a row failing two fields needs two changes, and is counted below
            change["recoversRows"] = context.recovered([change])
        except DomainError:
            continue  # a candidate the plan would refuse is not offered
        usable.append(change)
    changes = usable
    together = context.recovered(compatible_changes(changes))
    changes.append({"kind": "delete_invalid_rows", "recoversRows": 0,
                    "deletesRows": invalid_rows - together})
    return {"invalidRows": invalid_rows, "sampledRows": len(rows), "recoversRows": together,
            "changes": changes}


def propose_remaps(missing: ColumnsMissing, plan: ImportPlan) -> dict[str, Any]:
    """The proposal for a file that could not be mapped (a mapped column missing, or two columns
    equally likely): one column remap per candidate the header matcher found, never a guess.
    No row was validated, so `recoversRows` is unknown (None) until a remap is approved."""
    changes = [{"kind": "column_remap", "field": plan.field_map[key], "sourceColumn": column,
                "mappedColumn": key, "recoversRows": None}
               for key, columns in missing.candidates.items() if key in plan.field_map
               for column in columns]
    return {"invalidRows": 0, "sampledRows": 0, "recoversRows": None, "reason": str(missing),
            "changes": changes}


def recovered_rows(schema: TableSchema, plan: ImportPlan, changes: Sequence[Mapping[str, Any]],
                   error_rows: Sequence[dict[str, Any]],
                   column_formats: Mapping[str, str] | None = None,
                   valid_keys: ValidKeys | None = None) -> int:
    """How many of the rejected rows the plan with `changes` (e.g. an edited proposal) accepts."""
    return _Context(schema, plan, error_rows, column_formats or {}, valid_keys).recovered(changes)


def compatible_changes(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The best change per field and kind family (alternatives exclude one another)."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for c in changes:
        family = "layout" if c["kind"] in ("date_format", "number_format", "column_remap",
                                           "set_value") else c["kind"]
        key = (c["field"], family)
        if key not in best or c["recoversRows"] > best[key]["recoversRows"]:
            best[key] = c
    return list(best.values())


class _Context:
    """The plan's rules as validation built them, the rejected rows and their failing values."""

    def __init__(self, schema: TableSchema, plan: ImportPlan, rows: Sequence[dict[str, Any]],
                 labels: Mapping[str, str], valid_keys: ValidKeys | None = None) -> None:
        self.schema = schema
        self.valid_keys = valid_keys
        self.plan = plan
        self.rows = rows
        self.labels = labels
        self.mapped = set(plan.field_map.values())
        self.columns: dict[str, str] = {}  # field -> header column, as the error file names it
        self.failing: dict[str, Counter[str]] = {}  # field -> failing source value -> rows
        self.failing_codes: dict[str, Counter[str]] = {}
        self.header: list[str] = []
        for row in rows:
            source = row.get("sourceRow") or {}
            if not self.header and "_raw" not in source:
                self.header = list(source)
            for e in row.get("errors") or ():
                name = e.get("field")
                if name is None or e.get("code") in _UNFIXABLE or name not in self.mapped:
                    continue
                if e.get("column"):
                    self.columns.setdefault(name, e["column"])
                self.failing.setdefault(name, Counter())[_text(self._raw(row, e))] += 1
                self.failing_codes.setdefault(name, Counter())[e.get("code")] += 1
        self._find_columns()
        self.duplicate_keys = {self._key(row, self._rules(plan, {}), {}) for row in rows
                               if any(e.get("code") == RowErrorCode.DUPLICATE_KEY
                                      for e in row.get("errors") or ())}

    def _find_columns(self) -> None:
        if not self.header:
            return
        try:
            match = match_headers(self.header, self.plan.field_map,
                                  strict=self.plan.import_mode == "strict")
        except SourceUnreadable:
            return
        for key, position in match.columns.items():
            self.columns.setdefault(self.plan.field_map[key], self.header[position])

    @staticmethod
    def _raw(row: Mapping[str, Any], entry: Mapping[str, Any]) -> Any:
        source = row.get("sourceRow") or {}
        column = entry.get("column")
        return source[column] if column in source else entry.get("value")

    def column_values(self, column: str) -> list[Any]:
        return [(row.get("sourceRow") or {}).get(column) for row in self.rows
                if "_raw" not in (row.get("sourceRow") or {})]

    # -- rules ---------------------------------------------------------------------------

    def format_for(self, plan: ImportPlan, name: str, remap: Mapping[str, str]) -> ColumnFormat:
        fix = plan.fixes.get(name) or {}
        if name in remap:
            return choose_column_formats(self.schema, plan, (name,),
                                         {name: self.column_values(remap[name])})[name]
        if "dateFormat" in fix or "numberFormat" in fix:
            return choose_column_formats(self.schema, plan, (name,), {})[name]
        return format_from_label(self.schema.field(name), self.labels.get(name))

    def _rules(self, plan: ImportPlan, remap: Mapping[str, str]) -> dict[str, Any]:
        strict = plan.import_mode == "strict"
        return {name: make_rule(self.schema.field(name), name, self.schema.is_required(name),
                                strict, self.format_for(plan, name, remap),
                                self.schema.missing_values, plan.fixes.get(name))
                for name in self.schema.field_names if name in set(plan.field_map.values())}

    def _key(self, row: Mapping[str, Any], rules: Mapping[str, Any],
             remap: Mapping[str, str]) -> tuple[Any, ...]:
        source = row.get("sourceRow") or {}
        out = []
        for name in self.schema.primary_key:
            column = remap.get(name) or self.columns.get(name)
            rule = rules.get(name)
            if column is None or rule is None:
                return ("unknown key of row", row.get("rowNumber"))  # equal to no other key
            out.append(evaluate(rule, source.get(column)).value)
        return tuple(out)

    # -- counting ------------------------------------------------------------------------

    def recovered(self, changes: Sequence[Mapping[str, Any]]) -> int:
        if not changes:
            return 0
        changes = [c for c in changes if change_kind(c) != "delete_invalid_rows"]
        if not changes:
            return 0
        new_plan = ImportPlan.from_dict(apply_proposal(self.plan.to_dict(), {"changes": list(changes)}),
                                        self.schema)
        remap = {c["field"]: c["sourceColumn"] for c in changes
                 if change_kind(c) == "column_remap"}
        changed = {c["field"] for c in changes}
        rules = self._rules(new_plan, remap)
        unique_message = {name: message(rule, Issue.UNIQUE) for name, rule in rules.items()}
        keys: set[tuple[Any, ...]] = set()
        for row in self.rows:
            if not self._passes(row, rules, changed, remap, unique_message):
                continue
            # a second recovered row with one key is the re-run's DUPLICATE_KEY; so is the
            # valid row a recovered row's key equals (one of the two is kept, not both)
            keys.add(self._key(row, rules, remap))
        keys -= self.duplicate_keys
        if self.valid_keys is not None and keys:
            keys -= set(self.valid_keys(sorted(keys, key=repr)))
        return len(keys)

    def _passes(self, row: Mapping[str, Any], rules: Mapping[str, Any], changed: set[str],
                remap: Mapping[str, str], unique_message: Mapping[str, str]) -> bool:
        errors = row.get("errors") or ()
        if not errors:
            return False
        source = row.get("sourceRow") or {}
        failing = set()
        for e in errors:
            name = e.get("field")
            if (e.get("code") in _UNFIXABLE or name not in changed or name not in rules
                    or e.get("message") == unique_message.get(name)):
                return False
            failing.add(name)
            raw = source.get(remap[name]) if name in remap else self._raw(row, e)
            if evaluate(rules[name], raw).issue is not Issue.NONE:
                return False
        for name, column in remap.items():
            if name not in failing and evaluate(rules[name], source.get(column)).issue is not Issue.NONE:
                return False
        return True


def format_from_label(f: Field, label: str | None) -> ColumnFormat:
    """The ColumnFormat behind a `healing.columnFormats` label (PLAIN when there is none)."""
    if not label:
        return PLAIN
    if f.type in ("date", "datetime"):
        fmt = vf.date_format(label, with_time=f.type == "datetime")
        return ColumnFormat(date=fmt) if fmt else PLAIN
    if f.type in ("integer", "number"):
        number = vf.NUMBER_LABELS.get(label)
        return ColumnFormat(number=number) if number else PLAIN
    if label == _ENUM_CASE_LABEL:
        return ColumnFormat(enum_case=True)
    return PLAIN


def _text(raw: Any) -> str:
    return vf.display_value(raw) or ""


def _samples(values: Counter[str], accepted: Callable[[str], bool]) -> list[dict[str, Any]]:
    return [{"value": v, "rows": n} for v, n in values.most_common() if accepted(v)][:SAMPLES]


# -- the changes offered ---------------------------------------------------------------------


def _layout_changes(context: _Context, f: Field, failing: Counter[str]) -> list[dict[str, Any]]:
    """The date or number layout under which most failing values parse (only for a column that
    has no layout yet: replacing one could reject rows that are valid under it)."""
    if context.labels.get(f.name) or set(context.plan.fixes.get(f.name) or ()) & {
            "dateFormat", "numberFormat"}:
        return []
    if f.type in ("date", "datetime"):
        with_time = f.type == "datetime"
        base = vf.DATETIME_CANDIDATES if with_time else vf.DATE_CANDIDATES
        extra = tuple(f"{d} %H:%M:%S" for d in EXTRA_DATE_LABELS) if with_time else EXTRA_DATE_LABELS
        options: list[dict[str, Any]] = [{"kind": "date_format", "field": f.name, "dateFormat": label}
                   for label in dict.fromkeys(base + extra)]
    elif f.type in ("integer", "number"):
        options = [{"kind": "number_format", "field": f.name,
                    "numberFormat": number_format_to_wire(n)} for n in vf.NUMBER_CANDIDATES]
    else:
        return []
    scored = []
    for option in options:
        try:
            rule = _rule_with(context, f, option)
        except DomainError:
            continue
        parsed = sum(n for v, n in failing.items() if evaluate(rule, v).issue is Issue.NONE)
        if parsed:
            scored.append((parsed, option, rule))
    if not scored:
        return []
    top = max(s for s, _, _ in scored)
    best = [(o, r) for s, o, r in scored if s == top]
    change, rule = best[0]
    change["samples"] = _samples(failing, lambda v: evaluate(rule, v).issue is Issue.NONE)
    if len(best) > 1:
        # `05/01/2024` reads day-first and month-first alike: the person approving chooses
        change["alternatives"] = [o.get("dateFormat") or o.get("numberFormat") for o, _ in best[1:]]
    return [change]


def _rule_with(context: _Context, f: Field, change: Mapping[str, Any]) -> FieldRule:
    plan = ImportPlan.from_dict(apply_proposal(context.plan.to_dict(), {"changes": [change]}),
                                context.schema)
    fmt = context.format_for(plan, f.name, {})
    return make_rule(f, f.name, context.schema.is_required(f.name),
                     plan.import_mode == "strict", fmt, context.schema.missing_values,
                     plan.fixes.get(f.name))


def _value_map_changes(context: _Context, f: Field, failing: Counter[str]) -> list[dict[str, Any]]:
    if f.type == "boolean":
        return _boolean_words(f, failing)
    if f.constraints.enum is None:
        return []
    allowed = [vf.display_value(e) or "" for e in f.constraints.enum]
    by_fold = {a.strip().casefold(): a for a in allowed}
    mapping: dict[str, str] = {}
    samples: list[dict[str, Any]] = []
    for value, rows in failing.most_common():
        folded = value.strip().casefold()
        target = by_fold.get(folded)
        if target is None:
            close = difflib.get_close_matches(folded, list(by_fold), n=2, cutoff=0.8)
            # two allowed values equally close is a guess, and proposals do not guess
            if len(close) == 1 or (len(close) == 2 and difflib.SequenceMatcher(
                    None, folded, close[0]).ratio() > difflib.SequenceMatcher(
                    None, folded, close[1]).ratio()):
                target = by_fold[close[0]]
        if target is not None and target != value:
            mapping[value] = target
            if len(samples) < SAMPLES:
                samples.append({"value": value, "becomes": target, "rows": rows})
    if not mapping:
        return []
    return [{"kind": "enum_map", "field": f.name, "enumMap": dict(sorted(mapping.items())),
             "samples": samples}]


def _boolean_words(f: Field, failing: Counter[str]) -> list[dict[str, Any]]:
    true_words: list[str] = []
    false_words: list[str] = []
    samples: list[dict[str, Any]] = []
    for value, rows in failing.most_common():
        word = vf.trim(value).casefold()
        if word in TRUE_WORDS or word in vf.TRUE_WORDS:
            true_words.append(value)
        elif word in FALSE_WORDS or word in vf.FALSE_WORDS:
            false_words.append(value)
        else:
            continue
        if len(samples) < SAMPLES:
            samples.append({"value": value, "becomes": "true" if value in true_words else "false",
                            "rows": rows})
    if not true_words and not false_words:
        return []
    return [{"kind": "boolean_words", "field": f.name, "trueWords": sorted(true_words),
             "falseWords": sorted(false_words), "samples": samples}]


def _set_value_changes(context: _Context, f: Field) -> list[dict[str, Any]]:
    """A required field left empty whose schema allows exactly one value: that value."""
    codes = context.failing_codes.get(f.name) or Counter()
    enum = f.constraints.enum
    if (set(codes) != {RowErrorCode.REQUIRED_FIELD_MISSING} or enum is None or len(enum) != 1
            or f.name in context.schema.primary_key or f.constraints.unique):
        return []
    return [{"kind": "set_value", "field": f.name, "value": vf.display_value(enum[0])}]


def _remap_changes(context: _Context, f: Field) -> list[dict[str, Any]]:
    """Free columns whose values would pass where the mapped column's fail (every row failed)."""
    used = set(context.columns.values())
    out = []
    for column in context.header:
        if column in used:
            continue
        change = {"kind": "column_remap", "field": f.name, "sourceColumn": column}
        if context.recovered([change]):
            out.append(change)
    return out
