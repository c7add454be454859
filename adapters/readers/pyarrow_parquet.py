"""Parquet read batch by batch; columns keep their Parquet types (the validator decides).

A batch holds about the chunk bytes of column data, as a text format's chunk holds about the
chunk bytes of the file: memory is bounded by the setting whatever the width of the rows."""

from __future__ import annotations

import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from lading.adapters.readers.limits import SourceLimits
from lading.adapters.readers.prefetch import prefetch
from lading.adapters.readers.source_chunk import TableChunk
from lading.adapters.readers.text_stream import open_bytes
from lading.domain.errors import SourceUnreadable

if TYPE_CHECKING:
    import pyarrow.parquet as pq


class ParquetSource:
    kind = "parquet"
    encoding = "parquet"

    def __init__(self, path: Path, compressed: bool, workdir: Path, block_size: int,
                 most_rows: int, limits: SourceLimits = SourceLimits()) -> None:
        original = path
        if compressed:
            # Parquet needs random access: inflate a .parquet.gz to disk, never to memory.
            plain = workdir / "source.parquet"
            with open_bytes(path, True) as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            path = plain
        self._size = original.stat().st_size
        self.path = path
        self.block_size = block_size
        self.most_rows = most_rows
        self.batch_size = most_rows
        self.limits = limits
        self.header: list[str] = []
        self._file: pq.ParquetFile | None = None
        self._ahead: Generator | None = None

    def open(self) -> None:
        # Imported here: pyarrow.parquet brings pyarrow's filesystems, and every process that
        # never reads a Parquet file (each CLI command) paid a tenth of a second for them.
        import pyarrow.parquet as pq

        try:
            # pyarrow pre-buffers by default, and the buffers it fetched ahead stayed allocated
            # to the end: the whole bench file's 51 MB, 40-50 MB more peak RSS, for a read
            # no faster from a local file (the only kind read here).
            self._file = pq.ParquetFile(self.path, pre_buffer=False)
        except (pa.ArrowException, OSError) as exc:
            raise SourceUnreadable(f"cannot read the Parquet file: {exc}") from None
        self.limits.check_columns(self._file.metadata.num_columns)
        self.batch_size = batch_rows(self._file.metadata, self.block_size, self.most_rows)
        self.header = list(self._file.schema_arrow.names)

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.close()  # the read-ahead thread stops before its file closes
        if self._file is not None:
            self._file.close()

    def chunks(self) -> Iterator[TableChunk]:
        first = 1
        total = max(self._file.metadata.num_rows, 1)
        batches = self._file.iter_batches(batch_size=self.batch_size)
        # The next batch is decoded (and scanned for NULs) while this one is validated.
        self._ahead = prefetch(lambda: _scanned(next(batches, None)), depth=1)
        try:
            for batch, nul in self._ahead:
                if batch is None:
                    break
                numbers = np.arange(first, first + batch.num_rows, dtype=np.int64)
                first += batch.num_rows
                # Parquet is read by row group, not front to back: the share of rows, in bytes.
                yield TableChunk(row_numbers=numbers, batch=batch, nul=nul,
                                 bytes_read=self._size * (first - 1) // total)
        except (pa.ArrowException, OSError) as exc:
            raise SourceUnreadable(f"cannot read the Parquet file: {exc}") from None
        finally:
            self._ahead.close()


def batch_rows(metadata: pq.FileMetaData, block_size: int, most_rows: int) -> int:
    """Rows per batch: about `block_size` bytes of column data, by the row groups' uncompressed
    size per row (dictionary-encoded columns decode larger, so it may be more), and at most
    `most_rows`, the fixed batch it replaced (ADR 0133)."""
    groups = [metadata.row_group(i) for i in range(metadata.num_row_groups)]
    size = sum(group.total_byte_size for group in groups)
    if size <= 0 or metadata.num_rows <= 0:
        return most_rows
    return max(1, min(most_rows, block_size * metadata.num_rows // size))


def _scanned(batch: pa.RecordBatch | None) -> tuple[pa.RecordBatch | None, bool]:
    return batch, batch is not None and _may_hold_nul(batch)


def _may_hold_nul(batch: pa.RecordBatch) -> bool:
    """Whether a text column of the batch holds a U+0000 (the validator then looks for it
    cell by cell, column by column): one scan of each column's bytes."""
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            _, offsets, data = column.buffers()
            if data is None or not len(column):
                continue
            width = np.int64 if pa.types.is_large_string(column.type) else np.int32
            ends = np.frombuffer(offsets, dtype=width)[column.offset:column.offset + len(column) + 1]
            text = np.frombuffer(data, dtype=np.uint8)[int(ends[0]):int(ends[-1])]
            if len(text) and not text.all():
                return True
    return False
