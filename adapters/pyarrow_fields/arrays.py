"""Array helpers every field module uses: regex masks, nulling rows without copying, raw
string bytes, and casting only the rows that are known to parse."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def anchored(body: str) -> str:
    return f"^(?:{body})$"


def mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if arr.null_count:
        arr = pc.fill_null(arr, False)
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=bool)


def present_and_empty(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(rows holding a value, rows holding the empty string) of a string array, read from its
    validity bitmap and offsets rather than through two Arrow kernels and their masks."""
    n = len(text)
    valid = mask(pc.is_valid(text)) if text.null_count else np.ones(n, dtype=bool)
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=width, count=n + 1,
                            offset=text.offset * np.dtype(width).itemsize)
    return valid, valid & (offsets[1:] == offsets[:-1])


def match(text: pa.Array, body: str) -> np.ndarray:
    return mask(pc.match_substring_regex(text, anchored(body)))


def keep_only(arr: pa.Array, keep: np.ndarray) -> pa.Array:
    """`arr` with every row outside `keep` set to null, sharing the value buffers (no copy)."""
    if arr.null_count:
        keep = keep & mask(pc.is_valid(arr))
    if keep.all():
        return arr
    if arr.offset:
        keep = np.concatenate([np.zeros(arr.offset, dtype=bool), keep])
    bitmap = pa.py_buffer(np.packbits(keep, bitorder="little"))
    return pa.Array.from_buffers(arr.type, len(arr), [bitmap] + arr.buffers()[1:], offset=arr.offset)


def string_bytes(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(start offset of each row, the data bytes) of a string array."""
    buffers = text.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(text) + 1, offset=text.offset * 4)
    data = (np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None
            else np.zeros(0, dtype=np.uint8))
    return offsets[:-1].astype(np.int64), data


def match_on(text: pa.Array, body: str, rows: np.ndarray) -> np.ndarray:
    """Where `body` matches, evaluated only on `rows` (False elsewhere)."""
    count = int(rows.sum())
    if count == len(rows):
        return match(text, body)
    out = np.zeros(len(rows), dtype=bool)
    if count:
        idx = np.nonzero(rows)[0]
        out[idx] = match(text.take(pa.array(idx)), body)
    return out


def cast_where(text: pa.Array, rows: np.ndarray, placeholder: str, to: pa.DataType) -> np.ndarray:
    """`text` cast to `to` where `rows`, so every other row may hold anything (`placeholder` in
    the result)."""
    cast = pc.cast(keep_only(text, rows), to)
    return np.asarray(pc.fill_null(cast, pa.scalar(0 if placeholder == "0" else placeholder, to))
                      .to_numpy(zero_copy_only=False))


def no_kind(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int8)
