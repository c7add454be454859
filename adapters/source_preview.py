"""The first rows of a source as Lading's readers parse them, for a preview before mapping."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from lading.adapters.readers import SourceLimits, open_source
from lading.adapters.stored_source_head import from_head, head_can_serve, read_until
from lading.application.previews import SourceSample
from lading.application.ports import BlobStore, SourceFile
from lading.domain.errors import SourceUnreadable
from lading.domain.reference_validator import Malformed, Undecodable, ndjson_header

# One read block is enough for a preview: it never reads the whole file.
_BLOCK = 1 << 20


def stored_sample(blobs: BlobStore, key: str, file_name: str, limit: int,
                  limits: SourceLimits = SourceLimits()) -> SourceSample:
    """sample_source of a stored source, from its first bytes when they hold the rows."""
    return from_head(blobs, key, file_name, limits,
                     lambda source, head_only: _sample(source, limit, head_only))


def sample_source(source: SourceFile, limit: int) -> SourceSample:
    """Up to `limit` rows from the start of the file, numbered as the validator numbers them;
    raise SourceUnreadable when the file cannot be read at all."""
    sample = _sample(source, limit, head_only=False)
    assert sample is not None
    return sample


def _sample(source: SourceFile, limit: int, head_only: bool) -> SourceSample | None:
    """With `head_only` (the file is the first bytes of a longer one), None when those bytes
    may not give what the whole file gives."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            reader = open_source(Path(source.path), source.file_name, Path(tmp), _BLOCK,
                                 repair_encoding=True)
        except SourceUnreadable:
            if head_only:
                return None
            raise
        try:
            if head_only and not head_can_serve(reader):
                return None
            rows: list[tuple[int, Any]] = []
            records = reader.kind == "ndjson"
            header = [] if records else list(reader.header)

            def enough(chunk: Any) -> bool:
                parsed = chunk.source_rows(range(chunk.num_rows), header)
                numbered = [(int(n), row if records else [row.get(h) for h in header])
                            for n, row in zip(chunk.row_numbers, parsed)]
                numbered += [(bad.row_number, _bad_cells(bad)) for bad in chunk.bad_rows]
                rows.extend(sorted(numbered, key=lambda r: r[0]))
                return len(rows) >= limit

            if not read_until(reader.chunks(), enough, head_only):
                return None
            rows = rows[:limit]
            if records:
                header = ndjson_header([cells for _, cells in rows if isinstance(cells, dict)])
            return SourceSample(
                kind=reader.kind, header=header, rows=rows,
                encoding=getattr(reader, "encoding", None),
                delimiter=getattr(getattr(reader, "dialect", None), "delimiter", None),
            )
        except SourceUnreadable:
            if head_only:
                return None
            raise
        finally:
            reader.close()


def _bad_cells(bad: Any) -> Any:
    """A row the reader could not split as the header says, in the validator's terms."""
    if bad.cells is not None:
        return list(bad.cells)  # a ragged CSV record: the validator counts its cells
    if bad.kind == "undecodable":
        return Undecodable(bad.text)
    return Malformed(bad.text, bad.message or Malformed.message)


__all__ = ["sample_source", "stored_sample", "SourceUnreadable"]
