"""The typed values of one field being assembled for a chunk: a numpy buffer for fixed-width
types, Arrow text for strings, and the odd value parsed in Python. The Arrow types are those
of adapters/arrow_types.py; values arriving already typed (Parquet, NDJSON) are range-checked
as domain/field_rules.py's `parse_typed` checks them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lading.adapters.arrow_types import arrow_type
from lading.adapters.pyarrow_fields.arrays import keep_only, mask
from lading.adapters.pyarrow_fields.calendar_days import MAX_US, MIN_US
from lading.domain.field_rules import FieldRule


_EPOCH_DATE = date(1970, 1, 1)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


_ONE_US = timedelta(microseconds=1)


NUMPY_TYPES = {
    "integer": np.int64, "year": np.int64, "number": np.float64, "boolean": np.bool_,
    "date": np.int32, "datetime": np.int64, "time": np.int64,
}


class Store:
    """Typed values being assembled for one field: a numpy buffer (fixed width) or text."""

    def __init__(self, rule: FieldRule, n: int) -> None:
        self.rule = rule
        self.n = n
        self.type = arrow_type(rule.field)
        self.has = np.zeros(n, dtype=bool)
        self.kind = NUMPY_TYPES.get(rule.type)
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
            self.buffer[i] = to_number(self.rule.type, value)

    def put_native(self, native: pa.Array, rows: np.ndarray) -> np.ndarray:
        """Take natively typed values; return the rows whose value is out of range."""
        bad = np.zeros(self.n, dtype=bool)
        t = self.rule.type
        if t == "number":
            finite = mask(pc.is_finite(native))
            bad = rows & ~finite
            rows = rows & finite
        elif t == "year":
            inside = mask(pc.and_(pc.greater_equal(native, 0), pc.less_equal(native, 9999)))
            bad = rows & ~inside
            rows = rows & inside
        elif t == "datetime":
            micros = pc.cast(native, pa.int64())
            inside = mask(pc.and_(pc.greater_equal(micros, MIN_US), pc.less_equal(micros, MAX_US)))
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


def to_number(t: str, value: Any) -> Any:
    if t == "date":
        return (value - _EPOCH_DATE).days
    if t == "datetime":
        return (value - _EPOCH) // _ONE_US
    if t == "time":
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
    return value
