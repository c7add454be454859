"""One field's values for a whole chunk, judged with pyarrow.compute and numpy.

Mirrors domain.field_rules.evaluate. Each type has fast paths that *claim* the values they can
parse exactly as the reference does (canonical forms, the column's chosen format); every other
non-missing value is handed to the reference's own `parse`, one by one. Clean data therefore
never leaves the vectorised paths, and odd values get the specification's exact answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lading.adapters.arrow_types import arrow_type
from lading.domain import value_formats as vf
from lading.domain.field_rules import FieldRule, Healing, Issue, parse, pattern_matches

_EPOCH_DATE = date(1970, 1, 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DAY_US = 86_400_000_000
_MONTH_NAMES = pa.array(list(vf.MONTHS))
_MONTH_NUMBERS = pa.array(list(vf.MONTHS.values()), type=pa.int64())
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_NUMPY_TYPES = {
    "integer": np.int64, "year": np.int64, "number": np.float64, "boolean": np.bool_,
    "date": np.int32, "datetime": np.int64, "time": np.int64,
}


def anchored(body: str) -> str:
    return f"^(?:{body})$"


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


def _np_mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if arr.null_count:
        arr = pc.fill_null(arr, False)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=bool)


def _match(text: pa.Array, body: str) -> np.ndarray:
    return _np_mask(pc.match_substring_regex(text, anchored(body)))


def keep_only(arr: pa.Array, keep: np.ndarray) -> pa.Array:
    """`arr` with every row outside `keep` set to null, sharing the value buffers (no copy)."""
    if arr.null_count:
        keep = keep & _np_mask(pc.is_valid(arr))
    if keep.all():
        return arr
    if arr.offset:
        keep = np.concatenate([np.zeros(arr.offset, dtype=bool), keep])
    bitmap = pa.py_buffer(np.packbits(keep, bitorder="little"))
    return pa.Array.from_buffers(arr.type, len(arr), [bitmap] + arr.buffers()[1:], offset=arr.offset)


def _string_bytes(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(start offset of each row, the data bytes) of a string array."""
    buffers = text.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(text) + 1, offset=text.offset * 4)
    data = (np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None
            else np.zeros(0, dtype=np.uint8))
    return offsets[:-1].astype(np.int64), data


def _digits(data: np.ndarray, starts: np.ndarray, first: int, count: int) -> np.ndarray:
    value = np.zeros(len(starts), dtype=np.int64)
    for k in range(first, first + count):
        value = value * 10 + (data[starts + k].astype(np.int64) - 48)
    return value


def evaluate_column(rule: FieldRule, col: ColumnInput, hints: dict | None = None) -> FieldColumn:
    """`hints` (kept per field across chunks) only steer which fast path is tried first."""
    n = col.n
    hints = {} if hints is None else hints
    if rule.constant is not None:  # an approved setValue: the source's values are not read
        col = ColumnInput(n, text=pa.repeat(pa.scalar(rule.constant, pa.string()), n))
    issue = np.zeros(n, dtype=np.int8)
    healing = np.zeros(n, dtype=np.int8)
    store = _Store(rule, n)
    present = np.zeros(n, dtype=bool)

    text = col.text
    if text is not None:
        valid = _np_mask(pc.is_valid(text))
        if rule.missing_values == frozenset({""}):
            missing = _np_mask(pc.equal(pc.binary_length(text), 0))
        else:
            missing = _np_mask(pc.is_in(text, value_set=pa.array(sorted(rule.missing_values),
                                                                  pa.string())))
        rows = valid & ~missing
        present |= rows
        if rows.any():
            mapped = np.zeros(n, dtype=bool)
            if rule.enum_map:
                keys = pa.array(list(rule.enum_map), pa.string())
                index = pc.index_in(text, value_set=keys)
                mapped = _np_mask(pc.is_valid(index)) & rows
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
        native_rows = _np_mask(pc.is_valid(col.native)) & ~present
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
        values = _heal_enum_case(rule, values, ok & ~absent, issue, healing)
        ok = issue == Issue.NONE
    _constraints(rule, values, ok & ~absent, issue)
    values = keep_only(values, issue == Issue.NONE)
    return FieldColumn(values=values, issue=issue, healing=healing)


_STRICT_OK = np.array([h for h in Healing if h.allowed_in_strict], dtype=np.int8)


def _judge(rule: FieldRule, i: int, raw: Any, store: "_Store", issue: np.ndarray,
           healing: np.ndarray) -> None:
    parsed = parse(rule, raw)
    if parsed is None:
        issue[i] = Issue.TYPE
        return
    value, kind = parsed
    store.put(i, value)
    healing[i] = kind


class _Store:
    """Typed values being assembled for one field: a numpy buffer (fixed width) or text."""

    def __init__(self, rule: FieldRule, n: int) -> None:
        self.rule = rule
        self.n = n
        self.type = arrow_type(rule.field)
        self.has = np.zeros(n, dtype=bool)
        self.kind = _NUMPY_TYPES.get(rule.type)
        self.buffer = np.zeros(n, dtype=self.kind) if self.kind is not None else None
        self.text: pa.Array | None = None  # string fields: the claimed text values
        self.singles: dict[int, Any] = {}

    def put_many(self, rows: np.ndarray, values: np.ndarray) -> None:
        self.buffer[rows] = values
        self.has[rows] = True

    def put_text(self, text: pa.Array, rows: np.ndarray) -> None:
        self.text = text
        self.has |= rows

    def put(self, i: int, value: Any) -> None:
        self.has[i] = True
        if self.buffer is None:
            self.singles[i] = value
        else:
            self.buffer[i] = _to_number(self.rule.type, value)

    def put_native(self, native: pa.Array, rows: np.ndarray) -> np.ndarray:
        """Take natively typed values; return the rows whose value is out of range."""
        bad = np.zeros(self.n, dtype=bool)
        t = self.rule.type
        if t == "number":
            finite = _np_mask(pc.is_finite(native))
            bad = rows & ~finite
            rows = rows & finite
        elif t == "year":
            inside = _np_mask(pc.and_(pc.greater_equal(native, 0), pc.less_equal(native, 9999)))
            bad = rows & ~inside
            rows = rows & inside
        elif t == "datetime":
            micros = pc.cast(native, pa.int64())
            inside = _np_mask(pc.and_(pc.greater_equal(micros, _MIN_US), pc.less_equal(micros, _MAX_US)))
            bad = rows & ~inside
            rows = rows & inside
        if self.buffer is None:
            self.singles.update({i: v for i, v in zip(np.nonzero(rows)[0].tolist(),
                                                     native.filter(pa.array(rows)).to_pylist())})
            self.has |= rows
            return bad
        raw = native
        if t in ("date",):
            raw = pc.cast(native, pa.int32())
        elif t in ("datetime", "time"):
            raw = pc.cast(native, pa.int64())
        filled = pc.fill_null(raw, False if t == "boolean" else 0).to_numpy(zero_copy_only=False)
        self.buffer[rows] = np.asarray(filled, dtype=self.kind)[rows]
        self.has |= rows
        return bad

    def array(self, ok: np.ndarray) -> pa.Array:
        keep = self.has & ok
        if self.buffer is not None:
            return pa.array(self.buffer, mask=~keep, type=self.type)
        base = self.text if self.text is not None else pa.nulls(self.n, pa.string())
        claimed = keep.copy()
        if self.singles:
            claimed[list(self.singles)] = False
        values = keep_only(base, claimed)
        if self.singles:
            order = sorted(self.singles)
            mask = np.zeros(self.n, dtype=bool)
            mask[order] = True
            values = pc.replace_with_mask(values, pa.array(mask),
                                          pa.array([self.singles[i] for i in order], pa.string()))
            values = keep_only(values, keep)
        return values


def _to_number(t: str, value: Any) -> Any:
    if t == "date":
        return (value - _EPOCH_DATE).days
    if t == "datetime":
        return (value - _EPOCH) // _ONE_US
    if t == "time":
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
    return value


from datetime import timedelta  # noqa: E402

_ONE_US = timedelta(microseconds=1)


# -- fast paths: (claimed rows, healing per row) ---------------------------------------------


def _no_kind(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int8)


def _fast_string(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: _Store, hints: dict):
    body = vf.STRING_FORMAT_BODIES.get(rule.field.format)
    claimed = rows if body is None else rows & _match(text, body)
    store.put_text(text, claimed)
    return claimed, _no_kind(len(rows))


def _digits_only(text: pa.Array, fmt: vf.NumberFormat, integer: bool):
    """(matched rows, sign + plain digits [+ '.' fraction]) for a column number format."""
    parts = pc.extract_regex(text, anchored(fmt.body(integer)))
    matched = _np_mask(pc.is_valid(parts))
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


def _cast_where(text: pa.Array, rows: np.ndarray, placeholder: str, to: pa.DataType) -> np.ndarray:
    """`text` cast to `to` where `rows`, so every other row may hold anything (`placeholder` in
    the result)."""
    cast = pc.cast(keep_only(text, rows), to)
    return np.asarray(pc.fill_null(cast, pa.scalar(0 if placeholder == "0" else placeholder, to))
                      .to_numpy(zero_copy_only=False))


def _optimistic(hints: dict, rows: np.ndarray, cast, store: _Store, claimed: np.ndarray) -> bool:
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
        good = rows & _np_mask(pc.is_finite(values))
    buffer = np.asarray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False))
    store.put_many(good, buffer[good])
    claimed |= good
    return True


def _fast_integer(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: _Store, hints: dict):
    n = len(rows)
    claimed = np.zeros(n, dtype=bool)
    kind = _no_kind(n)
    taken = np.zeros(n, dtype=bool)
    fmt = rule.fmt.number
    if fmt is not None:
        matched, digits, number = _digits_only(text, fmt, integer=True)
        matched &= rows
        taken |= matched
        short = matched & _np_mask(pc.less_equal(pc.utf8_length(digits), 18))
        if short.any():
            store.put_many(short, _cast_where(number, short, "0", pa.int64())[short])
            claimed |= short
            plain = _match(text, vf.INTEGER_BODY)
            kind[short & ~plain] = rule.fmt.number_healing
    elif _optimistic(hints, rows, lambda: pc.cast(keep_only(text, rows), pa.int64()), store, claimed):
        return claimed, kind
    canonical = rows & ~taken & _match(text, "-?[0-9]{1,18}")
    if canonical.any():
        store.put_many(canonical, _cast_where(text, canonical, "0", pa.int64())[canonical])
        claimed |= canonical
    return claimed, kind


def _fast_number(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: _Store, hints: dict):
    n = len(rows)
    claimed = np.zeros(n, dtype=bool)
    kind = _no_kind(n)
    taken = np.zeros(n, dtype=bool)
    fmt = rule.fmt.number
    if fmt is not None:
        matched, digits, number = _digits_only(text, fmt, integer=False)
        matched &= rows
        taken |= matched
        short = matched & _np_mask(pc.less_equal(pc.utf8_length(number), 300))
        if short.any():
            values = _cast_where(number, short, "0", pa.float64())
            store.put_many(short, values[short])
            claimed |= short
            plain = short & _match(text, vf.NUMBER_BODY)
            same = np.zeros(n, dtype=bool)
            if plain.any():
                same = plain & (_cast_where(text, plain, "0", pa.float64()) == values)
            kind[short & ~same] = rule.fmt.number_healing
    elif _optimistic(hints, rows, lambda: pc.cast(keep_only(text, rows), pa.float64()), store, claimed):
        return claimed, kind
    canonical = rows & ~taken & _match(text, "-?[0-9]{1,300}(?:\\.[0-9]{1,300})?")
    if canonical.any():
        store.put_many(canonical, _cast_where(text, canonical, "0", pa.float64())[canonical])
        claimed |= canonical
    return claimed, kind


def _fast_boolean(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: _Store, hints: dict):
    true = _np_mask(pc.equal(text, "true"))
    false = _np_mask(pc.equal(text, "false"))
    claimed = rows & (true | false)
    store.put_many(claimed, true[claimed])
    return claimed, _no_kind(len(rows))


def _fast_year(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: _Store, hints: dict):
    claimed = rows & _match(text, vf.YEAR_BODY)
    if claimed.any():
        store.put_many(claimed, _cast_where(text, claimed, "0", pa.int64())[claimed])
    return claimed, _no_kind(len(rows))


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
        starts, data = _string_bytes(sub)
        first = int(starts[0])
        block = data[first: first + len(idx) * width].reshape(len(idx), width)
        ok = np.ones(len(idx), dtype=bool)
        for pos, char in enumerate(layout):
            if char == "D":
                ok &= (block[:, pos] - np.uint8(48)) < 10
            else:
                ok &= block[:, pos] == ord(char)
        if ok.any():
            groups.append((idx[ok], block[ok]))
            matched[idx[ok]] = True
    order = np.concatenate([g[0] for g in groups]) if groups else np.zeros(0, dtype=np.int64)

    def ints(name: str) -> np.ndarray:
        first, count = spans[name]
        out = []
        for _, block in groups:
            value = block[:, first].astype(np.int64) - 48
            for k in range(first + 1, first + count):
                value = value * 10 + (block[:, k].astype(np.int64) - 48)
            out.append(value)
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    return matched, _Parts(order, set(spans), ints, lambda name: None)


_ISO_DATE = {"Y": (0, 4), "m": (5, 2), "d": (8, 2)}
_ISO_DATETIME = {**_ISO_DATE, "H": (11, 2), "M": (14, 2), "S": (17, 2)}


def _match_on(text: pa.Array, body: str, rows: np.ndarray) -> np.ndarray:
    """Where `body` matches, evaluated only on `rows` (False elsewhere)."""
    count = int(rows.sum())
    if count == len(rows):
        return _match(text, body)
    out = np.zeros(len(rows), dtype=bool)
    if count:
        idx = np.nonzero(rows)[0]
        out[idx] = _match(text.take(pa.array(idx)), body)
    return out


def _calendar_tables() -> tuple[np.ndarray, np.ndarray]:
    years = np.arange(vf.MAX_YEAR + 2, dtype=np.int64)
    leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
    before = (years - 1) * 365 + (years - 1) // 4 - (years - 1) // 100 + (years - 1) // 400
    start = before - before[1970]
    return start, leap


_YEAR_START, _LEAP = _calendar_tables()
_MONTH_START = np.array([0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334], dtype=np.int64)


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid proleptic Gregorian dates (year >= 1)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = np.where(m > 2, m - 3, m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


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
    year_ok = (year >= vf.MIN_YEAR) & (year <= vf.MAX_YEAR)
    month_ok = (month >= 1) & (month <= 12)
    y = np.where(year_ok, year, 2000)
    m = np.where(month_ok, month, 1)
    leap = _LEAP[y]
    feb29 = (m == 2) & leap
    valid = year_ok & month_ok & (day >= 1) & (day <= _DAYS_IN_MONTH[m] + feb29)
    days = _YEAR_START[y] + _MONTH_START[m] + ((m > 2) & leap) + day - 1
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
    has = _np_mask(pc.greater(pc.utf8_length(digits), 1))
    safe = pc.if_else(pa.array(has), digits, "+0000")
    hours = np.asarray(pc.cast(pc.utf8_slice_codeunits(safe, 1, 3), pa.int64()).to_numpy(
        zero_copy_only=False), dtype=np.int64)
    minutes = np.asarray(pc.cast(pc.utf8_slice_codeunits(safe, 3, 5), pa.int64()).to_numpy(
        zero_copy_only=False), dtype=np.int64)
    sign = np.where(_np_mask(pc.starts_with(safe, "-")), -1, 1)
    valid = (hours <= 23) & (minutes <= 59)
    return valid, sign * (hours * 60 + minutes)


_MIN_US = int(days_from_civil(np.array([1]), np.array([1]), np.array([1]))[0]) * _DAY_US
_MAX_US = (int(days_from_civil(np.array([9999]), np.array([12]), np.array([31]))[0]) + 1) * _DAY_US - 1


def _put_dates(p: _Parts, store: _Store, claimed: np.ndarray) -> None:
    valid, days = _date_parts(p)
    rows = p.rows[valid]
    store.put_many(rows, days[valid].astype(np.int32))
    claimed[rows] = True


def _put_datetimes(p: _Parts, store: _Store, claimed: np.ndarray) -> None:
    date_ok, days = _date_parts(p)
    clock_ok, micros = _clock_parts(p)
    zone_ok, offset = _zone_parts(p)
    total = days * _DAY_US + micros - offset * 60_000_000
    valid = date_ok & clock_ok & zone_ok & (total >= _MIN_US) & (total <= _MAX_US)
    rows = p.rows[valid]
    store.put_many(rows, total[valid])
    claimed[rows] = True


def _fast_dated(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: _Store, hints: dict):
    n = len(rows)
    claimed = np.zeros(n, dtype=bool)
    kind = _no_kind(n)
    taken = np.zeros(n, dtype=bool)
    with_time = rule.type == "datetime"
    put = _put_datetimes if with_time else _put_dates
    fmt = rule.fmt.date
    if fmt is not None:
        matched = _match_on(text, fmt.body, rows)
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
        rest = _match_on(text, vf.DATETIME_BODY, rows & ~taken & ~common)
        if rest.any():
            put(_struct_parts(text, vf.DATETIME_BODY, rest), store, claimed)
    else:
        iso, parts = _layout_parts(text, rows & ~taken, ("DDDD-DD-DD",), _ISO_DATE)
        if iso.any():
            put(parts, store, claimed)
    return claimed, kind


def _fast_time(rule: FieldRule, text: pa.Array, rows: np.ndarray, store: _Store, hints: dict):
    claimed = np.zeros(len(rows), dtype=bool)
    matched = _match_on(text, vf.TIME_BODY, rows)
    if matched.any():
        p = _struct_parts(text, vf.TIME_BODY, matched)
        valid, micros = _clock_parts(p)
        store.put_many(p.rows[valid], micros[valid])
        claimed[p.rows[valid]] = True
    return claimed, _no_kind(len(rows))


_FAST = {
    "string": _fast_string, "integer": _fast_integer, "number": _fast_number,
    "boolean": _fast_boolean, "date": _fast_dated, "datetime": _fast_dated, "time": _fast_time,
    "year": _fast_year,
}


# -- healing and constraints over typed values ----------------------------------------------


def _heal_enum_case(rule: FieldRule, values: pa.Array, rows: np.ndarray, issue: np.ndarray,
                    healing: np.ndarray) -> pa.Array:
    allowed = pa.array(list(rule.enum_values), pa.string())
    outside = rows & ~_np_mask(pc.is_in(values, value_set=allowed))
    if not outside.any():
        return values
    lower = pa.array(list(rule.enum_lower), pa.string())
    index = pc.index_in(pc.ascii_lower(values), value_set=lower)
    hit = outside & _np_mask(pc.is_valid(index))
    if not hit.any():
        return values
    healed = pc.take(pa.array(list(rule.enum_lower.values()), pa.string()), index)
    if rule.strict:
        issue[hit] = Issue.COERCION
    healing[hit] = Healing.ENUM_CASE
    return pc.if_else(pa.array(hit), healed, values)


def _constraints(rule: FieldRule, values: pa.Array, rows: np.ndarray, issue: np.ndarray) -> bool:
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
        fail(~_np_mask(pc.is_in(values, value_set=allowed)), Issue.ENUM)
    if rule.type == "string":
        if c.pattern is not None and pending.any():
            fail(~_pattern_mask(c.pattern, values, pending), Issue.PATTERN)
        if c.min_length is not None or c.max_length is not None:
            length = pc.utf8_length(values)
            if c.min_length is not None:
                fail(_np_mask(pc.less(length, c.min_length)), Issue.MIN_LENGTH)
            if c.max_length is not None:
                fail(_np_mask(pc.greater(length, c.max_length)), Issue.MAX_LENGTH)
    else:
        if rule.minimum is not None:
            fail(_np_mask(pc.less(values, _scalar(rule.minimum, values.type))), Issue.MINIMUM)
        if rule.maximum is not None:
            fail(_np_mask(pc.greater(values, _scalar(rule.maximum, values.type))), Issue.MAXIMUM)
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
        return _np_mask(pc.match_substring_regex(values, anchored(pattern)))
    out = np.ones(len(rows), dtype=bool)
    idx = np.nonzero(rows)[0]
    for i, v in zip(idx.tolist(), values.take(pa.array(idx)).to_pylist()):
        out[i] = v is not None and pattern_matches(pattern, v)
    return out
