"""Constraints over a field's typed values: enum (with the column's case healing), pattern,
lengths, minimum and maximum, each row marked with the first it breaks.

Mirrors domain/field_rules.py's `constraint_issue` and the enum-case branch of `evaluate`;
patterns RE2 reads differently from Python's `re` are matched with the reference's
`pattern_matches`, one value at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lading.adapters.pyarrow_fields.arrays import anchored, mask
from lading.domain.field_rules import FieldRule, Healing, Issue, pattern_matches


def heal_enum_case(rule: FieldRule, values: pa.Array, rows: np.ndarray, issue: np.ndarray,
                    healing: np.ndarray) -> pa.Array:
    allowed = pa.array(list(rule.enum_values), pa.string())
    outside = rows & ~mask(pc.is_in(values, value_set=allowed))
    if not outside.any():
        return values
    lower = pa.array(list(rule.enum_lower), pa.string())
    index = pc.index_in(pc.ascii_lower(values), value_set=lower)
    hit = outside & mask(pc.is_valid(index))
    if not hit.any():
        return values
    healed = pc.take(pa.array(list(rule.enum_lower.values()), pa.string()), index)
    if rule.strict:
        issue[hit] = Issue.COERCION
    healing[hit] = Healing.ENUM_CASE
    return pc.if_else(pa.array(hit), healed, values)


def check_constraints(rule: FieldRule, values: pa.Array, rows: np.ndarray, issue: np.ndarray) -> bool:
    """Mark the first constraint each row breaks; True when any row broke one."""
    if not rows.any():
        return False
    c = rule.field.constraints
    pending = rows.copy()

    def fail(mask: np.ndarray, what: Issue) -> None:
        hit = pending & mask
        issue[hit] = what
        pending[hit] = False

    if rule.enum_values is not None:
        allowed = pa.array(list(rule.enum_values), values.type)
        fail(~mask(pc.is_in(values, value_set=allowed)), Issue.ENUM)
    if rule.type == "string":
        if c.pattern is not None and pending.any():
            fail(~_pattern_mask(c.pattern, values, pending), Issue.PATTERN)
        if c.min_length is not None or c.max_length is not None:
            length = pc.utf8_length(values)
            if c.min_length is not None:
                fail(mask(pc.less(length, c.min_length)), Issue.MIN_LENGTH)
            if c.max_length is not None:
                fail(mask(pc.greater(length, c.max_length)), Issue.MAX_LENGTH)
    else:
        if rule.minimum is not None:
            fail(mask(pc.less(values, _scalar(rule.minimum, values.type))), Issue.MINIMUM)
        if rule.maximum is not None:
            fail(mask(pc.greater(values, _scalar(rule.maximum, values.type))), Issue.MAXIMUM)
    return bool((rows & ~pending).any())


def _scalar(value: Any, typ: pa.DataType) -> pa.Scalar:
    return pa.scalar(value, type=typ)


def re2_compatible(pattern: str) -> bool:
    """Whether RE2 reads the pattern exactly as Python's `re` (ASCII classes) does.

    RE2's \\s lacks \\v and its case folding is Unicode-wide; look-around and back-references
    do not exist there. Such patterns are matched in Python instead.
    """
    if "\\s" in pattern or "\\S" in pattern or "(?" in pattern.replace("(?:", "").replace("(?P<", ""):
        return False
    if "\\Z" in pattern or "\\A" in pattern:
        return False
    try:
        pc.match_substring_regex(pa.array([""], pa.string()), anchored(pattern))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


_RE2_OK: dict[str, bool] = {}


def _pattern_mask(pattern: str, values: pa.Array, rows: np.ndarray) -> np.ndarray:
    ok = _RE2_OK.get(pattern)
    if ok is None:
        ok = _RE2_OK[pattern] = re2_compatible(pattern)
    if ok:
        return mask(pc.match_substring_regex(values, anchored(pattern)))
    out = np.ones(len(rows), dtype=bool)
    idx = np.nonzero(rows)[0]
    for i, v in zip(idx.tolist(), values.take(pa.array(idx)).to_pylist()):
        out[i] = v is not None and pattern_matches(pattern, v)
    return out
