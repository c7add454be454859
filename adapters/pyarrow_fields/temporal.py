"""Fast paths for temporal fields: `date`, `datetime` and `time`.

Mirrors domain/field_rules.py's `_dated` and `_time` with domain/value_formats.py's
`date_from_match`, `datetime_from_match` and `time_from_match`: ISO 8601 by fixed byte
layouts, the column's chosen or approved date format by its regular expression, components
checked for calendar validity in numpy. Values off these paths go to `parse`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lading.adapters.pyarrow_fields.arrays import anchored, mask, match_on, no_kind, string_bytes
from lading.adapters.pyarrow_fields.calendar_days import (DAY_US, DAYS_IN_MONTH, LEAP, MAX_US,
                                                          MIN_US, MONTH_START, YEAR_START)
from lading.adapters.pyarrow_fields.typed_values import Store
from lading.domain import value_formats as vf
from lading.domain.field_rules import FieldRule, Healing


_MONTH_NAMES = pa.array(list(vf.MONTHS))


_MONTH_NUMBERS = pa.array(list(vf.MONTHS.values()), type=pa.int64())


_ISO_DATE = {"Y": (0, 4), "m": (5, 2), "d": (8, 2)}


_ISO_DATETIME = {**_ISO_DATE, "H": (11, 2), "M": (14, 2), "S": (17, 2)}


class _Parts:
    """Named date/time components of some rows (`rows`), as int64 numpy arrays."""

    def __init__(self, rows: np.ndarray, names: set[str], ints, texts) -> None:
        self.rows = rows
        self.names = names
        self._ints = ints
        self._texts = texts

    def has(self, name: str) -> bool:
        return name in self.names

    def int(self, name: str) -> np.ndarray:
        if name not in self.names:
            return np.zeros(len(self.rows), dtype=np.int64)
        return self._ints(name)

    def text(self, name: str) -> pa.Array | None:
        return self._texts(name) if name in self.names else None


def _struct_parts(text: pa.Array, body: str, rows: np.ndarray) -> _Parts:
    idx = np.nonzero(rows)[0]
    parts = pc.extract_regex(text.take(pa.array(idx)), anchored(body))
    names = {parts.type.field(i).name for i in range(parts.type.num_fields)}

    def texts(name: str) -> pa.Array:
        return pc.struct_field(parts, name)

    def ints(name: str) -> np.ndarray:
        values = pc.if_else(pc.equal(texts(name), ""), "0", texts(name))
        return np.asarray(pc.cast(values, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)

    return _Parts(idx, names, ints, texts)


def _layout_parts(text: pa.Array, rows: np.ndarray, layouts: tuple[str, ...],
                  spans: dict[str, tuple[int, int]]) -> tuple[np.ndarray, _Parts]:
    """Rows whose bytes follow one of `layouts` ('D' = an ASCII digit, anything else itself),
    and their components at fixed positions (`spans`: name -> (first byte, digit count)).

    Rows of one byte length, taken together, are a (rows x length) byte matrix, so each check
    and each digit is a column of it: no per-row work at all.
    """
    n = len(rows)
    matched = np.zeros(n, dtype=bool)
    lengths = np.asarray(pc.binary_length(text).to_numpy(zero_copy_only=False))
    groups = []
    for layout in layouts:
        width = len(layout)
        idx = np.nonzero(rows & (lengths == width))[0]
        if not len(idx):
            continue
        sub = text.take(pa.array(idx))
        starts, data = string_bytes(sub)
        first = int(starts[0])
        block = data[first: first + len(idx) * width].reshape(len(idx), width)
        ok = np.ones(len(idx), dtype=bool)
        for pos, char in enumerate(layout):
            if char == "D":
                ok &= (block[:, pos] - np.uint8(48)) < 10
            else:
                ok &= block[:, pos] == ord(char)
        # The block stays whole (copying a byte matrix's rows is slow); components are
        # computed for all its rows and only then cut to the ones that follow the layout.
        keep = None if ok.all() else ok
        if keep is not None:
            idx = idx[keep]
        if len(idx):
            groups.append((idx, block, keep))
            matched[idx] = True
    order = np.concatenate([g[0] for g in groups]) if groups else np.zeros(0, dtype=np.int64)

    def ints(name: str) -> np.ndarray:
        first, count = spans[name]
        out = []
        for _, block, keep in groups:
            value = block[:, first].astype(np.int64) - 48
            for k in range(first + 1, first + count):
                value = value * 10 + (block[:, k].astype(np.int64) - 48)
            out.append(value if keep is None else value[keep])
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    return matched, _Parts(order, set(spans), ints, lambda name: None)


def _date_parts(p: _Parts) -> tuple[np.ndarray, np.ndarray]:
    """(valid, days since 1970-01-01) from Y|y, m|b, d; calendar-valid dates only."""
    if p.has("Y"):
        year = p.int("Y")
    else:
        short = p.int("y")
        year = np.where(short >= 69, 1900 + short, 2000 + short)
    name = p.text("b")
    if name is not None:
        month = np.asarray(pc.fill_null(pc.take(_MONTH_NUMBERS, pc.index_in(
            pc.ascii_lower(name), value_set=_MONTH_NAMES)), 0).to_numpy(zero_copy_only=False),
            dtype=np.int64)
    else:
        month = p.int("m")
    day = p.int("d")
    valid = (year >= vf.MIN_YEAR) & (year <= vf.MAX_YEAR) & (month >= 1) & (month <= 12)
    clean = bool(valid.all())  # the usual case: no placeholders needed for the table lookups
    y = year if clean else np.where(valid, year, 2000)
    m = month if clean else np.where(valid, month, 1)
    leap = LEAP[y]
    valid &= (day >= 1) & (day <= DAYS_IN_MONTH[m] + ((m == 2) & leap))
    days = YEAR_START[y] + MONTH_START[m] + ((m > 2) & leap) + day - 1
    return valid, days


def _clock_parts(p: _Parts) -> tuple[np.ndarray, np.ndarray]:
    """(valid, microseconds of the day) from H, M, S, f."""
    hour, minute, second = p.int("H"), p.int("M"), p.int("S")
    fraction = p.text("f")
    if fraction is None:
        micro = np.zeros(len(p.rows), dtype=np.int64)
    else:
        padded = pc.utf8_rpad(pc.if_else(pc.equal(fraction, ""), "0", fraction), width=6, padding="0")
        micro = np.asarray(pc.cast(padded, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    valid = (hour <= 23) & (minute <= 59) & (second <= 59)
    return valid, ((hour * 60 + minute) * 60 + second) * 1_000_000 + micro


def _zone_parts(p: _Parts) -> tuple[np.ndarray, np.ndarray]:
    """(valid, minutes east of UTC) from z: '', 'Z', '+HH:MM', '+HHMM'."""
    zone = p.text("z")
    n = len(p.rows)
    if zone is None:
        return np.ones(n, dtype=bool), np.zeros(n, dtype=np.int64)
    digits = pc.replace_substring(zone, ":", "")
    has = mask(pc.greater(pc.utf8_length(digits), 1))
    safe = pc.if_else(pa.array(has), digits, "+0000")
    hours = np.asarray(pc.cast(pc.utf8_slice_codeunits(safe, 1, 3), pa.int64()).to_numpy(
        zero_copy_only=False), dtype=np.int64)
    minutes = np.asarray(pc.cast(pc.utf8_slice_codeunits(safe, 3, 5), pa.int64()).to_numpy(
        zero_copy_only=False), dtype=np.int64)
    sign = np.where(mask(pc.starts_with(safe, "-")), -1, 1)
    valid = (hours <= 23) & (minutes <= 59)
    return valid, sign * (hours * 60 + minutes)


def _put_dates(p: _Parts, store: Store, claimed: np.ndarray) -> None:
    valid, days = _date_parts(p)
    _put_valid(p.rows, valid, days.astype(np.int32), store, claimed)


def _put_valid(rows: np.ndarray, valid: np.ndarray, values: np.ndarray, store: Store,
               claimed: np.ndarray) -> None:
    if not valid.all():
        rows, values = rows[valid], values[valid]
    store.put_many(rows, values)
    claimed[rows] = True


def _put_datetimes(p: _Parts, store: Store, claimed: np.ndarray) -> None:
    date_ok, days = _date_parts(p)
    clock_ok, micros = _clock_parts(p)
    zone_ok, offset = _zone_parts(p)
    total = days * DAY_US + micros - offset * 60_000_000
    valid = date_ok & clock_ok & zone_ok & (total >= MIN_US) & (total <= MAX_US)
    _put_valid(p.rows, valid, total, store, claimed)


def fast_dated(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: Store, hints: dict):
    n = len(rows)
    claimed = np.zeros(n, dtype=bool)
    kind = no_kind(n)
    taken = np.zeros(n, dtype=bool)
    with_time = rule.type == "datetime"
    put = _put_datetimes if with_time else _put_dates
    fmt = rule.fmt.date
    if fmt is not None:
        matched = match_on(text, fmt.body, rows)
        taken |= matched
        if matched.any():
            before = claimed.copy()
            put(_struct_parts(text, fmt.body, matched), store, claimed)
            kind[claimed & ~before] = (Healing.APPROVED_FORMAT if rule.fmt.date_approved
                                       else Healing.DATE_FORMAT)
    if with_time:
        common, parts = _layout_parts(text, rows & ~taken, ("DDDD-DD-DDTDD:DD:DD",
                                                            "DDDD-DD-DDTDD:DD:DDZ"), _ISO_DATETIME)
        if common.any():
            put(parts, store, claimed)
        rest = match_on(text, vf.DATETIME_BODY, rows & ~taken & ~common)
        if rest.any():
            put(_struct_parts(text, vf.DATETIME_BODY, rest), store, claimed)
    else:
        iso, parts = _layout_parts(text, rows & ~taken, ("DDDD-DD-DD",), _ISO_DATE)
        if iso.any():
            put(parts, store, claimed)
    return claimed, kind


def fast_time(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: Store, hints: dict):
    claimed = np.zeros(len(rows), dtype=bool)
    matched = match_on(text, vf.TIME_BODY, rows)
    if matched.any():
        p = _struct_parts(text, vf.TIME_BODY, matched)
        valid, micros = _clock_parts(p)
        store.put_many(p.rows[valid], micros[valid])
        claimed[p.rows[valid]] = True
    return claimed, no_kind(len(rows))
