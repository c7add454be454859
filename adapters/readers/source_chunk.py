"""What a reader hands the validator: one chunk of source rows, in source order.

Well-formed rows come as columns (Arrow arrays for CSV and Parquet, Python lists for NDJSON)
with their row numbers; rows that could not be split into the header's columns come separately
as BadRows, also numbered, so no read row is ever lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from lading.adapters.readers.text_stream import replace_markers
from lading.domain.reference_validator import json_ready


@dataclass(frozen=True)
class BadRow:
    row_number: int
    kind: str  # "ragged" (CSV cell count), "malformed" (not a JSON object), "undecodable"
    text: str  # the record or line as read, markers shown as U+FFFD
    message: str = ""
    cells: tuple[str, ...] | None = None  # ragged CSV records, split with the file's dialect


@dataclass
class SourceChunk:
    row_numbers: np.ndarray  # int64, the well-formed rows, ascending
    bad_rows: list[BadRow] = field(default_factory=list)
    markers: bool = False  # text values may hold encoding markers (see text_stream)
    nul: bool = True  # text values may hold U+0000 (readers that can tell say False)
    bytes_read: int = 0  # how far into the file on disk reading had got for this chunk (progress)

    @property
    def num_rows(self) -> int:
        return len(self.row_numbers)

    @property
    def read_rows(self) -> int:
        return self.num_rows + len(self.bad_rows)

    def column(self, position: int, header: Sequence[str]) -> Any:
        raise NotImplementedError

    def source_rows(self, indices: Sequence[int], names: Sequence[str]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def repaired(self) -> np.ndarray | None:
        """Rows whose undecodable bytes were replaced (landing_friendly NDJSON), or None."""
        return None


@dataclass
class TableChunk(SourceChunk):
    """CSV (every column text) and Parquet (typed columns) chunks."""

    batch: pa.RecordBatch | None = None

    def column(self, position: int, header: Sequence[str]) -> pa.Array:
        return self.batch.column(position)

    def source_rows(self, indices: Sequence[int], names: Sequence[str]) -> list[dict[str, Any]]:
        if not len(indices):
            return []
        taken = self.batch.take(pa.array(indices, type=pa.int64()))
        columns = [self._json_values(c) for c in taken.columns]
        return [dict(zip(names, values)) for values in zip(*columns)]

    def _json_values(self, column: pa.Array) -> list[Any]:
        values = column.to_pylist()
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            # text is JSON as it is (CSV's every column): only markers need replacing
            if self.markers:
                return [v if v is None else replace_markers(v) for v in values]
            return values
        return [json_ready(replace_markers(v) if isinstance(v, str) and self.markers else v)
                for v in values]


@dataclass
class RecordsChunk(SourceChunk):
    """NDJSON chunks: one decoded JSON object per well-formed line."""

    records: list[dict[str, Any]] = field(default_factory=list)
    repaired_rows: list[int] = field(default_factory=list)  # indices into records

    def column(self, position: int, header: Sequence[str]) -> list[Any]:
        key = header[position]
        return [r.get(key) for r in self.records]

    def source_rows(self, indices: Sequence[int], names: Sequence[str]) -> list[dict[str, Any]]:
        return [json_ready(self.records[i]) for i in indices]

    def repaired(self) -> np.ndarray | None:
        if not self.repaired_rows:
            return None
        mask = np.zeros(len(self.records), dtype=bool)
        mask[self.repaired_rows] = True
        return mask
