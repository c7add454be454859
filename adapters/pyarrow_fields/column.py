"""One field's values for a whole chunk, judged at once: the vectorised twin of
domain/field_rules.py's `evaluate`.

Missing values, approved enum maps and strict mode are handled here; each type's fast path
(text, numbers, temporal) *claims* the values it parses exactly as the reference does, and
every other non-missing value is handed to the reference's own `parse`, one by one. Then the
constraints. Clean data never leaves the vectorised paths; odd values get the specification's
exact answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lading.adapters.pyarrow_fields.arrays import keep_only, mask, present_and_empty
from lading.adapters.pyarrow_fields.constraints import check_constraints, heal_enum_case
from lading.adapters.pyarrow_fields.numbers import fast_integer, fast_number, fast_year
from lading.adapters.pyarrow_fields.temporal import fast_dated, fast_time
from lading.adapters.pyarrow_fields.text import fast_boolean, fast_string
from lading.adapters.pyarrow_fields.typed_values import Store
from lading.domain import value_formats as vf
from lading.domain.field_rules import FieldRule, Healing, Issue, parse


@dataclass
class ColumnInput:
    """A field's source values for one chunk, split by how they arrived."""

    n: int
    text: pa.Array | None = None  # string; null where the value is absent or not text
    native: pa.Array | None = None  # already the field's Arrow type; null elsewhere
    others: dict[int, Any] = field(default_factory=dict)  # any other value, judged in Python


@dataclass
class FieldColumn:
    values: pa.Array  # the field's Arrow type; null where missing or failing
    issue: np.ndarray  # int8 Issue per row
    healing: np.ndarray  # int8 Healing per row


def evaluate_column(rule: FieldRule, col: ColumnInput, hints: dict | None = None) -> FieldColumn:
    """`hints` (kept per field across chunks) only steer which fast path is tried first."""
    n = col.n
    hints = {} if hints is None else hints
    if rule.constant is not None:  # an approved setValue: the source's values are not read
        col = ColumnInput(n, text=pa.repeat(pa.scalar(rule.constant, pa.string()), n))
    issue = np.zeros(n, dtype=np.int8)
    healing = np.zeros(n, dtype=np.int8)
    store = Store(rule, n)
    present = np.zeros(n, dtype=bool)

    text = col.text
    if text is not None:
        valid, empty = present_and_empty(text)
        if rule.missing_values == frozenset({""}):
            missing = empty
        else:
            missing = mask(pc.is_in(text, value_set=pa.array(sorted(rule.missing_values),
                                                                  pa.string())))
        rows = valid & ~missing
        present |= rows
        if rows.any():
            mapped = np.zeros(n, dtype=bool)
            if rule.enum_map:
                keys = pa.array(list(rule.enum_map), pa.string())
                index = pc.index_in(text, value_set=keys)
                mapped = mask(pc.is_valid(index)) & rows
                text = pc.if_else(pa.array(mapped), pc.take(pa.array(list(rule.enum_map.values()),
                                                                     pa.string()), index), text)
            claimed, kind = _FAST[rule.type](rule, text, rows, store, hints)
            healing[claimed] = kind[claimed]
            leftover = np.nonzero(rows & ~claimed)[0]
            if len(leftover):
                values = text.take(pa.array(leftover)).to_pylist()
                for i, raw in zip(leftover.tolist(), values):
                    # whitespace around a missing value (non-string types): still missing
                    if rule.type != "string" and vf.trim(raw) in rule.missing_values:
                        present[i] = False
                        continue
                    _judge(rule, i, raw, store, issue, healing)
            healing[mapped & (healing == Healing.NONE) & (issue == Issue.NONE)] = Healing.ENUM_MAP

    if col.native is not None:
        native_rows = mask(pc.is_valid(col.native)) & ~present
        present |= native_rows
        if native_rows.any():
            bad = store.put_native(col.native, native_rows)
            issue[bad] = Issue.TYPE

    for i, raw in col.others.items():
        present[i] = True
        _judge(rule, i, raw, store, issue, healing)

    absent = ~present
    if rule.missing_is_issue:
        issue[absent] = Issue.REQUIRED

    ok = issue == Issue.NONE
    if rule.strict and ok.any():
        coerced = ok & ~np.isin(healing, _STRICT_OK)
        issue[coerced] = Issue.COERCION
        ok &= ~coerced
    values = store.array(ok)
    if rule.enum_values is not None and rule.fmt.enum_case and ok.any():
        values = heal_enum_case(rule, values, ok & ~absent, issue, healing)
        ok = issue == Issue.NONE
    check_constraints(rule, values, ok & ~absent, issue)
    values = keep_only(values, issue == Issue.NONE)
    return FieldColumn(values=values, issue=issue, healing=healing)


_STRICT_OK = np.array([h for h in Healing if h.allowed_in_strict], dtype=np.int8)


def _judge(rule: FieldRule, i: int, raw: Any, store: "Store", issue: np.ndarray,
           healing: np.ndarray) -> None:
    parsed = parse(rule, raw)
    if parsed is None:
        issue[i] = Issue.TYPE
        return
    value, kind = parsed
    store.put(i, value)
    healing[i] = kind


_FAST = {
    "string": fast_string, "integer": fast_integer, "number": fast_number,
    "boolean": fast_boolean, "date": fast_dated, "datetime": fast_dated, "time": fast_time,
    "year": fast_year,
}
