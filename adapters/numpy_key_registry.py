"""The keys (and `unique` values) of rows accepted in earlier chunks: exact, in bounded memory.

Each accepted key is kept as a 64-bit fingerprint in sorted numpy runs, merged like a
log-structured tree so a lookup is a few binary searches. For a single fixed-width key column
(integer, date, timestamp, time, boolean, number) the fingerprint *is* the value: 8 bytes a key,
no false matches. Any other key (strings, composite keys) is hashed; a hash hit is then checked
against the real keys, which each chunk spills to a small Arrow file, so a collision can never
reject a row: 12 bytes a key (hash + chunk number).

Runs that reach FROZEN_RUN keys are written to the spill directory and searched through a
read-only memory map whose pages are given back after every lookup, so the process holds only
the small, recent runs: memory stays bounded by the chunk size, not by the file's key count
(10M keys would otherwise take 80-120 MB). The OS page cache keeps the frozen runs warm.
"""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lading.adapters.phase_timer import phase

_P = np.uint64(0x100000001B3)
_P_INV = np.uint64(pow(0x100000001B3, -1, 2**64))
FROZEN_RUN = 1 << 20  # keys; a run this long stops merging and moves to disk
_FIXED = (pa.types.is_integer, pa.types.is_floating, pa.types.is_date, pa.types.is_timestamp,
          pa.types.is_time, pa.types.is_boolean)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the whole word."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def is_exact(types: list[pa.DataType]) -> bool:
    return len(types) == 1 and any(check(types[0]) for check in _FIXED)


def normalised(column: pa.Array) -> pa.Array:
    """Keys compare as Python values do: -0.0 equals 0.0."""
    if pa.types.is_floating(column.type):
        return pc.add(column, pa.scalar(0.0, column.type))
    return column


def _fixed_bits(column: pa.Array) -> np.ndarray:
    if pa.types.is_boolean(column.type):
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.uint64)
    if pa.types.is_floating(column.type):
        values = np.asarray(normalised(column).to_numpy(zero_copy_only=False), dtype=np.float64)
        return values.view(np.uint64)
    if pa.types.is_date32(column.type):
        column = column.cast(pa.int32())
    elif pa.types.is_date(column.type) or pa.types.is_timestamp(column.type) or pa.types.is_time(column.type):
        column = column.cast(pa.int64())
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.int64).view(np.uint64)


def _string_hash(column: pa.Array) -> np.ndarray:
    """A 64-bit polynomial hash of each string's bytes, vectorised over the Arrow buffers."""
    column = column.cast(pa.large_string()) if not pa.types.is_large_string(column.type) else column
    n = len(column)
    _, offsets_buf, data_buf = column.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[column.offset: column.offset + n + 1]
    start, end = int(offsets[0]), int(offsets[-1])
    data = (np.frombuffer(data_buf, dtype=np.uint8)[start:end].astype(np.uint64)
            if data_buf is not None and end > start else np.zeros(0, dtype=np.uint64))
    rel = offsets - start
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(len(data), _P, dtype=np.uint64)) if len(data) else data
        inverse = np.cumprod(np.full(len(data) + 1, _P_INV, dtype=np.uint64))
        inverse = np.concatenate([np.ones(1, dtype=np.uint64), inverse[:-1]])
        prefix = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(data * powers)])
        h = (prefix[rel[1:]] - prefix[rel[:-1]]) * inverse[rel[:-1]]
        lengths = (rel[1:] - rel[:-1]).astype(np.uint64)
        return _mix(h ^ _mix(lengths))


def fingerprints(columns: list[pa.Array]) -> np.ndarray:
    """One uint64 per row; equal keys always give equal fingerprints."""
    if is_exact([c.type for c in columns]):
        return _fixed_bits(columns[0])
    out = np.zeros(len(columns[0]), dtype=np.uint64)
    for column in columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            part = _string_hash(column)
        else:
            part = _fixed_bits(column)
        with np.errstate(over="ignore"):
            out = _mix(out * np.uint64(31) ^ part)
    return out


class KeyRegistry:
    """Membership of earlier chunks' accepted keys; `name` keeps spill files apart."""

    def __init__(self, types: list[pa.DataType], spill_dir: Path, name: str) -> None:
        self.exact = is_exact(types)
        self.spill_dir = spill_dir
        self.name = name
        self.runs: list[tuple[np.ndarray, np.ndarray | None]] = []
        self._maps: list[mmap.mmap] = []  # the frozen runs' memory maps

    def __len__(self) -> int:
        return sum(len(r[0]) for r in self.runs)

    def contains(self, columns: list[pa.Array]) -> np.ndarray:
        """For each row, whether an earlier chunk accepted exactly this key."""
        with phase("key checks"):
            return self._contains(columns)

    def _contains(self, columns: list[pa.Array]) -> np.ndarray:
        n = len(columns[0]) if columns else 0
        found = np.zeros(n, dtype=bool)
        if not self.runs or n == 0:
            return found
        fps = fingerprints(columns)
        candidates: dict[int, list[int]] = {}  # chunk -> rows whose hash it holds
        for run, chunks in self.runs:
            pos = np.searchsorted(run, fps)
            inside = pos < len(run)
            hit = np.zeros(n, dtype=bool)
            hit[inside] = run[pos[inside]] == fps[inside]
            if self.exact:
                found |= hit
                continue
            for row in np.nonzero(hit & ~found)[0].tolist():
                j = int(pos[row])
                while j < len(run) and run[j] == fps[row]:
                    candidates.setdefault(int(chunks[j]), []).append(row)
                    j += 1
        for chunk, rows in sorted(candidates.items()):
            rows = [r for r in rows if not found[r]]
            if rows:
                self._verify(chunk, columns, fps, rows, found)
        for frozen in self._maps:
            frozen.madvise(mmap.MADV_DONTNEED)  # clean file pages: dropped now, re-read later
        return found

    def _verify(self, chunk: int, columns: list[pa.Array], fps: np.ndarray, rows: list[int],
                found: np.ndarray) -> None:
        spilled = pa.ipc.open_file(pa.memory_map(str(self._spill_path(chunk)))).read_all()
        spilled_columns = [c.combine_chunks() for c in spilled.columns[:-1]]
        spilled_fps = np.asarray(spilled.column("__fp").to_numpy(), dtype=np.uint64)
        wanted = np.isin(spilled_fps, fps[rows])
        keep = pa.array(wanted)
        known = set(zip(*(c.filter(keep).to_pylist() for c in spilled_columns)))
        index = pa.array(rows, type=pa.int64())
        mine = list(zip(*(normalised(c).take(index).to_pylist() for c in columns)))
        for row, key in zip(rows, mine):
            if key in known:
                found[row] = True

    def add(self, columns: list[pa.Array], chunk: int) -> None:
        """Remember the keys accepted in `chunk` (distinct among themselves)."""
        with phase("key checks"):
            self._add(columns, chunk)

    def _add(self, columns: list[pa.Array], chunk: int) -> None:
        if not columns or len(columns[0]) == 0:
            return
        fps = fingerprints(columns)
        order = np.argsort(fps, kind="stable")
        chunk_ids = None
        if not self.exact:
            chunk_ids = np.full(len(fps), chunk, dtype=np.uint32)
            names = [f"k{i}" for i in range(len(columns))] + ["__fp"]
            table = pa.table([normalised(c) for c in columns] + [pa.array(fps)], names=names)
            self.spill_dir.mkdir(parents=True, exist_ok=True)
            with pa.OSFile(str(self._spill_path(chunk)), "wb") as sink:
                with pa.ipc.new_file(sink, table.schema) as writer:
                    writer.write_table(table)
        self.runs.append((fps[order], None if chunk_ids is None else chunk_ids[order]))
        self._compact()

    def _compact(self) -> None:
        while len(self.runs) >= 2:
            (a, ca), (b, cb) = self.runs[-2], self.runs[-1]
            if len(a) >= FROZEN_RUN or len(a) > 2 * len(b):
                break
            if a[-1] <= b[0]:  # keys in export order: b goes after a, nothing to interleave
                chunks = None if ca is None else np.concatenate([ca, cb])
                self.runs[-2:] = [(np.concatenate([a, b]), chunks)]
                continue
            # Both runs are sorted: inserting b's values at their places in a is linear.
            places = np.searchsorted(a, b, side="right")
            chunks = None if ca is None else np.insert(ca, places, cb)
            self.runs[-2:] = [(np.insert(a, places, b), chunks)]
        fps, chunks = self.runs[-1]
        if len(fps) >= FROZEN_RUN:
            self.runs[-1] = (self._frozen(fps), None if chunks is None else self._frozen(chunks))

    def _frozen(self, values: np.ndarray) -> np.ndarray:
        """`values` as a read-only view of a file in the spill directory."""
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        path = self.spill_dir / f"{self.name}-run-{len(self._maps):04d}.{values.dtype.name}"
        with open(path, "w+b") as fh:
            values.tofile(fh)
            fh.flush()
            frozen = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self._maps.append(frozen)
        return np.frombuffer(frozen, dtype=values.dtype)

    def _spill_path(self, chunk: int) -> Path:
        return self.spill_dir / f"{self.name}-{chunk:06d}.arrow"
