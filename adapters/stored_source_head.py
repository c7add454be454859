"""A stored source read from its first bytes where those give what the whole file gives, so a
node answers about a large object in the bucket without downloading it (ADR 0128).

    answer = from_head(blobs, key, file_name, limits, read)   # read(source, head_only) -> T | None

`read` is given the head first (`head_only` True) and returns None when those bytes may not
give the whole file's answer; it is then given the whole blob.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from lading.adapters.readers import SourceLimits
from lading.application.ports import BlobStore, SourceFile

HEAD_MARGIN = 1 << 20  # beyond the longest record a row may be: the format sniffing's head
T = TypeVar("T")


def from_head(blobs: BlobStore, key: str, file_name: str, limits: SourceLimits,
              read: Callable[[SourceFile, bool], T | None]) -> T:
    path, whole = blobs.local_head(key, limits.max_record_bytes + HEAD_MARGIN)
    if not whole:
        answer = read(SourceFile(path, file_name), True)
        if answer is not None:
            return answer
        path = blobs.local_path(key)
    answer = read(SourceFile(path, file_name), False)
    assert answer is not None, "read answers for a whole file"
    return answer


def read_until(chunks: Iterator[Any], enough: Callable[[Any], bool], head_only: bool) -> bool:
    """Hand `enough` the chunks until it says it has enough; with `head_only`, False when that
    took the head's last chunk or more: only the chunks before it are the whole file's, block
    for block (the last is cut short)."""
    for chunk in chunks:
        if enough(chunk):
            return not head_only or next(chunks, None) is not None
    return not head_only


def head_can_serve(reader: Any) -> bool:
    """Whether a head of the file can give what the whole file gives through this reader: not a
    Parquet file (its schema is in its footer), not a compressed one."""
    return reader.kind != "parquet" and not getattr(reader, "compressed", True)
