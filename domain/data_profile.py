"""The data profile of an import (SPEC §4 `autoProfileAfterImport`), built chunk by chunk.

Per mapped column: filled and empty cells, distinct values (exact up to EXACT_DISTINCT, then a
HyperLogLog estimate), min, max and the TOP most frequent values. Memory is bounded per column
whatever the row count: at most EXACT_DISTINCT counted values, then a fixed-size sketch.
Deterministic: values are hashed with BLAKE2b, never Python's per-process `hash`, so the same
rows give the same profile in every process and in any chunking.

    profile = DataProfile(["email", "joined"])
    for chunk in chunks:
        profile.add_rows(chunk_rows)               # dicts, field -> typed value or None
        # or, from a vectorised engine: profile.column("email").add_counts({...}, empty=3)
    profile.to_dict()
"""

from __future__ import annotations

import hashlib
import heapq
import math
from operator import itemgetter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lading.domain.value_formats import display_value

EXACT_DISTINCT = 100_000
TOP = 5
HLL_BITS = 14  # 16,384 registers: about 0.8 % standard error
SKETCH_SIZE = 1000  # heavy hitters kept once counting every value would exceed the bound
PRUNE_AT = 10 * SKETCH_SIZE


class ColumnProfile:
    def __init__(self, name: str) -> None:
        self.name = name
        self.filled = 0
        self.empty = 0
        self.min: Any = None
        self.max: Any = None
        self._counts: dict[Any, int] | None = {}
        self._registers: bytearray | None = None
        self._heavy: dict[Any, int] = {}

    @property
    def approximate(self) -> bool:
        return self._counts is None

    def add(self, values: Iterable[Any]) -> None:
        counts: dict[Any, int] = {}
        empty = 0
        for v in values:
            if v is None:
                empty += 1
            else:
                counts[v] = counts.get(v, 0) + 1
        self.add_counts(counts, empty)

    def add_counts(self, counts: Mapping[Any, int], empty: int = 0) -> None:
        """Add a chunk given as value -> occurrences (None never a key) and its empty cells."""
        self.empty += empty
        counts = {v: n for v, n in counts.items() if n > 0}
        if not counts:
            return
        self.filled += sum(counts.values())
        low, high = min(counts), max(counts)
        self._bounds(low)
        self._bounds(high)
        if self._counts is not None:
            exact = self._counts
            for value, n in counts.items():
                exact[value] = exact.get(value, 0) + n
            if len(exact) > EXACT_DISTINCT:
                self._overflow()
            return
        registers = self._registers
        assert registers is not None
        _hll_add_all(registers, counts)
        heavy = self._heavy
        for value, n in counts.items():
            heavy[value] = heavy.get(value, 0) + n
        self._prune()

    def merge(self, other: "ColumnProfile") -> None:
        """Fold another profile of the same column (e.g. a later chunk range) into this one."""
        self.empty += other.empty
        if other._counts is not None:
            self.add_counts(other._counts)
            return
        self.filled += other.filled
        for bound in (other.min, other.max):
            if bound is not None:
                self._bounds(bound)
        if self._counts is not None:
            self._overflow()
        assert self._registers is not None and other._registers is not None
        for i, r in enumerate(other._registers):
            if r > self._registers[i]:
                self._registers[i] = r
        for value, n in other._heavy.items():
            self._heavy_hit(value, n)

    def _bounds(self, value: Any) -> None:
        # one column holds one type (typed values, or source text), so values compare directly
        if self.min is None or value < self.min:
            self.min = value
        if self.max is None or value > self.max:
            self.max = value

    def _overflow(self) -> None:
        counts, self._counts = self._counts or {}, None
        self._registers = bytearray(1 << HLL_BITS)
        _hll_add_all(self._registers, counts)
        for value, n in heapq.nlargest(SKETCH_SIZE, counts.items(), key=lambda kv: (kv[1], _tie(kv[0]))):
            self._heavy[value] = n

    def _heavy_hit(self, value: Any, n: int) -> None:
        self._heavy[value] = self._heavy.get(value, 0) + n
        self._prune()

    def _prune(self) -> None:
        """Past PRUNE_AT heavy-hitter candidates keep the SKETCH_SIZE most counted (a pruned
        value that comes back starts again from 0, so approximate top counts can only be low,
        never invented). Checked once per chunk, so a chunk's own values are counted exactly."""
        if len(self._heavy) > PRUNE_AT:
            # nlargest keeps the earlier of equal counts: insertion order, so deterministic
            self._heavy = dict(heapq.nlargest(SKETCH_SIZE, self._heavy.items(), key=itemgetter(1)))

    @property
    def distinct(self) -> int:
        if self._counts is not None:
            return len(self._counts)
        assert self._registers is not None
        return _hll_estimate(self._registers)

    def top(self, k: int = TOP) -> list[tuple[Any, int]]:
        counts = self._counts if self._counts is not None else self._heavy
        return heapq.nsmallest(k, counts.items(), key=lambda kv: (-kv[1], _tie(kv[0])))

    def to_dict(self) -> dict[str, Any]:
        return {
            "filled": self.filled,
            "empty": self.empty,
            "distinct": self.distinct,
            "distinctApproximate": self.approximate,
            "min": _wire(self.min),
            "max": _wire(self.max),
            "top": [{"value": _wire(v), "count": n} for v, n in self.top()],
        }


class DataProfile:
    """One ColumnProfile per mapped column, in the given order."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = {name: ColumnProfile(name) for name in columns}

    def column(self, name: str) -> ColumnProfile:
        return self.columns[name]

    def add_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        rows = list(rows)
        for name, profile in self.columns.items():
            profile.add(row.get(name) for row in rows)

    def merge(self, other: "DataProfile") -> None:
        for name, profile in other.columns.items():
            self.columns.setdefault(name, ColumnProfile(name)).merge(profile)

    def to_dict(self) -> dict[str, Any]:
        return {name: p.to_dict() for name, p in self.columns.items()}


def _tie(value: Any) -> str:
    """A deterministic order among values counted equally often."""
    return repr(value)


def _wire(value: Any) -> Any:
    """JSON-ready: numbers, booleans and text as they are, dates and times in ISO 8601."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return display_value(value)


def _hll_add(registers: bytearray, value: Any) -> None:
    _hll_add_all(registers, (value,))


def _hll_add_all(registers: bytearray, values: Iterable[Any]) -> None:
    # One loop with everything local: this is the per-value cost once a column passes the
    # exact bound, so function calls are kept out of it.
    blake2b, from_bytes = hashlib.blake2b, int.from_bytes
    shift, width, mask = 64 - HLL_BITS, 64 - HLL_BITS + 1, (1 << (64 - HLL_BITS)) - 1
    for value in values:
        raw = f"{type(value).__name__}\x00{value!r}".encode("utf-8", "surrogatepass")
        h = from_bytes(blake2b(raw, digest_size=8).digest(), "big")
        rest = h & mask
        rank = width - rest.bit_length()
        index = h >> shift
        if rank > registers[index]:
            registers[index] = rank


def _hll_estimate(registers: bytearray) -> int:
    m = len(registers)
    alpha = 0.7213 / (1 + 1.079 / m)
    estimate = alpha * m * m / sum(2.0 ** -r for r in registers)
    zeros = registers.count(0)
    if estimate <= 2.5 * m and zeros:
        estimate = m * math.log(m / zeros)  # linear counting is better for small cardinalities
    return int(round(estimate))
