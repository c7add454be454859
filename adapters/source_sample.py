"""The header and first rows of a source, as text cells (what inference and suggestions read)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from lading.adapters.readers import open_source
from lading.adapters.readers.text_stream import replace_markers
from lading.domain.column_formats import SAMPLE_ROWS
from lading.domain.reference_validator import ndjson_header

SAMPLE_BLOCK = 1 << 20


@dataclass(frozen=True)
class SourceSample:
    header: list[str]
    rows: list[list[Any]]  # well-formed rows, one cell per header column


def read_sample(path: Path, file_name: str, limit: int = SAMPLE_ROWS) -> SourceSample:
    """The first `limit` well-formed rows; SourceUnreadable when the file is not a table."""
    with tempfile.TemporaryDirectory() as tmp:
        reader = open_source(Path(path), file_name, Path(tmp), SAMPLE_BLOCK, repair_encoding=True)
        try:
            chunks = []
            read = 0
            for chunk in reader.chunks():
                chunks.append(chunk)
                read += chunk.num_rows
                if read >= limit:
                    break
            if reader.kind == "ndjson":
                header = ndjson_header([r for c in chunks for r in c.records][:limit])
            else:
                header = list(reader.header)
            rows: list[list[Any]] = []
            for chunk in chunks:
                columns = [_cells(chunk, i, header) for i in range(len(header))]
                rows.extend([list(r) for r in zip(*columns)] if columns else
                            [[] for _ in range(chunk.num_rows)])
            return SourceSample(header=header, rows=rows[:limit])
        finally:
            reader.close()


def sample_from_bytes(data: bytes, file_name: str = "sample.csv",
                      limit: int = SAMPLE_ROWS) -> SourceSample:
    """The sample of a file given as bytes (the start of a file is enough)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(file_name).name or "sample.csv")
        path.write_bytes(data)
        return read_sample(path, file_name, limit)


def _cells(chunk, position: int, header: list[str]) -> list[Any]:
    column = chunk.column(position, header)
    if isinstance(column, list):
        return column
    values = column.to_pylist()
    if chunk.markers and pa.types.is_string(column.type):
        values = [replace_markers(v) if isinstance(v, str) else v for v in values]
    return values
