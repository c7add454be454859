"""Fast paths for numeric fields: `integer`, `number` and `year`.

Mirrors domain/field_rules.py's `_integer_text`, `_number_text` and `_year`: canonical digits,
and the column's chosen number format (thousands separators, decimal comma, currency) as
domain/value_formats.py's `NumberFormat` describes it. Values off these paths go to `parse`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lading.adapters.pyarrow_fields.arrays import (anchored, cast_where, keep_only, mask, match,
                                                   no_kind)
from lading.adapters.pyarrow_fields.typed_values import Store
from lading.domain import value_formats as vf
from lading.domain.field_rules import FieldRule


def _digits_only(text: pa.Array, fmt: vf.NumberFormat, integer: bool):
    """(matched rows, sign + plain digits [+ '.' fraction]) for a column number format."""
    parts = pc.extract_regex(text, anchored(fmt.body(integer)))
    matched = mask(pc.is_valid(parts))
    digits = pc.struct_field(parts, "int")
    if fmt.group == " ":
        digits = pc.replace_substring_regex(digits, vf.char_class(vf.GROUP_SPACE), "")
    elif fmt.group:
        digits = pc.replace_substring(digits, fmt.group, "")
    sign = pc.if_else(pc.equal(pc.struct_field(parts, "sign"), "-"), "-", "")
    number = pc.binary_join_element_wise(sign, digits, "")
    if not integer:
        frac = pc.struct_field(parts, "frac")
        number = pc.if_else(pc.equal(frac, ""), number,
                            pc.binary_join_element_wise(number, frac, "."))
    return matched, digits, number


def _optimistic(hints: dict, rows: np.ndarray, cast, store: Store, claimed: np.ndarray) -> bool:
    """Cast every candidate at once, which succeeds on clean columns. pyarrow's integer parser
    takes exactly `-?[0-9]+` in range, its float parser the finite forms of NUMBER_BODY (plus
    inf/nan, which are left to the reference here). After a failure the column is assumed
    dirty and later chunks go straight to the exact paths."""
    if hints.get("cast_failed"):
        return False
    try:
        values = cast()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        hints["cast_failed"] = True
        return False
    good = rows
    if pa.types.is_floating(values.type):
        good = rows & mask(pc.is_finite(values))
    buffer = np.asarray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False))
    store.put_many(good, buffer[good])
    claimed |= good
    return True


def fast_integer(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: Store, hints: dict):
    n = len(rows)
    claimed = np.zeros(n, dtype=bool)
    kind = no_kind(n)
    taken = np.zeros(n, dtype=bool)
    fmt = rule.fmt.number
    if fmt is not None:
        matched, digits, number = _digits_only(text, fmt, integer=True)
        matched &= rows
        taken |= matched
        short = matched & mask(pc.less_equal(pc.utf8_length(digits), 18))
        if short.any():
            store.put_many(short, cast_where(number, short, "0", pa.int64())[short])
            claimed |= short
            plain = match(text, vf.INTEGER_BODY)
            kind[short & ~plain] = rule.fmt.number_healing
    elif _optimistic(hints, rows, lambda: pc.cast(keep_only(text, rows), pa.int64()), store, claimed):
        return claimed, kind
    canonical = rows & ~taken & match(text, "-?[0-9]{1,18}")
    if canonical.any():
        store.put_many(canonical, cast_where(text, canonical, "0", pa.int64())[canonical])
        claimed |= canonical
    return claimed, kind


def fast_number(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: Store, hints: dict):
    n = len(rows)
    claimed = np.zeros(n, dtype=bool)
    kind = no_kind(n)
    taken = np.zeros(n, dtype=bool)
    fmt = rule.fmt.number
    if fmt is not None:
        matched, digits, number = _digits_only(text, fmt, integer=False)
        matched &= rows
        taken |= matched
        short = matched & mask(pc.less_equal(pc.utf8_length(number), 300))
        if short.any():
            values = cast_where(number, short, "0", pa.float64())
            store.put_many(short, values[short])
            claimed |= short
            plain = short & match(text, vf.NUMBER_BODY)
            same = np.zeros(n, dtype=bool)
            if plain.any():
                same = plain & (cast_where(text, plain, "0", pa.float64()) == values)
            kind[short & ~same] = rule.fmt.number_healing
    elif _optimistic(hints, rows, lambda: pc.cast(keep_only(text, rows), pa.float64()), store, claimed):
        return claimed, kind
    canonical = rows & ~taken & match(text, "-?[0-9]{1,300}(?:\\.[0-9]{1,300})?")
    if canonical.any():
        store.put_many(canonical, cast_where(text, canonical, "0", pa.float64())[canonical])
        claimed |= canonical
    return claimed, kind


def fast_year(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: Store, hints: dict):
    claimed = rows & match(text, vf.YEAR_BODY)
    if claimed.any():
        store.put_many(claimed, cast_where(text, claimed, "0", pa.int64())[claimed])
    return claimed, no_kind(len(rows))
