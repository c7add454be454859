"""The column names a source offers, for mapping columns to same-named fields by default."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from lading.adapters.readers import SourceLimits, open_source
from lading.adapters.stored_source_head import from_head, head_can_serve, read_until
from lading.application.ports import BlobStore, SourceFile
from lading.domain.errors import SourceUnreadable
from lading.domain.reference_validator import ndjson_header
from lading.domain.column_formats import SAMPLE_ROWS


def stored_source_columns(blobs: BlobStore, key: str, file_name: str,
                          limits: SourceLimits = SourceLimits()) -> list[str]:
    """source_columns of a stored source, from its first bytes when they hold the answer: a
    CSV's header (no longer than a record may be) or an NDJSON file's sampled objects."""
    return from_head(blobs, key, file_name, limits,
                     lambda source, head_only: _columns(source, limits, head_only))


def source_columns(source: SourceFile, limits: SourceLimits = SourceLimits()) -> list[str]:
    """The header (NDJSON: the keys of the sampled objects); [] when the file cannot be read,
    which the validation run then reports as the job's failure."""
    columns = _columns(source, limits, head_only=False)
    assert columns is not None
    return columns


def _columns(source: SourceFile, limits: SourceLimits, head_only: bool) -> list[str] | None:
    """With `head_only` (the file is the first bytes of a longer one), None when those bytes
    may not give what the whole file gives."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            reader = open_source(Path(source.path), source.file_name, Path(tmp), 1 << 20,
                                 repair_encoding=True, limits=limits)
        except SourceUnreadable:
            return None if head_only else []
        try:
            if head_only and not head_can_serve(reader):
                return None
            if reader.kind != "ndjson":
                return list(reader.header)
            sample: list = []

            def enough(chunk: Any) -> bool:
                sample.extend(chunk.records)
                return len(sample) >= SAMPLE_ROWS

            if not read_until(reader.chunks(), enough, head_only):
                return None
            header = ndjson_header(sample)
            limits.check_columns(len(header))
            return header
        except SourceUnreadable:
            return None if head_only else []
        finally:
            reader.close()
