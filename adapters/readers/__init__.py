"""Source readers: CSV, NDJSON and Parquet (each optionally gzip-compressed) as SourceChunks.

`open_source` first refuses files that are certainly no table (content_type: images, programs,
archives, workbooks), then picks the format from the file name's extension and falls back to
the content (Parquet magic bytes, a leading `{` for NDJSON, otherwise CSV); it sniffs the text
encoding and, for CSV, the delimiter.
"""

from __future__ import annotations

from pathlib import Path

from lading.application.storage_full import is_storage_full
from lading.adapters.readers.content_type import check_is_table
from lading.adapters.readers.limits import SourceLimits
from lading.adapters.readers.msgspec_ndjson import NdjsonSource
from lading.adapters.readers.pyarrow_csv import CsvSource, sniff_dialect
from lading.adapters.readers.pyarrow_parquet import ParquetSource
from lading.adapters.readers.source_chunk import BadRow, RecordsChunk, SourceChunk, TableChunk
from lading.adapters.readers.text_stream import decode_head, detect_encoding, read_head
from lading.domain.errors import SourceUnreadable

__all__ = ["open_source", "SourceChunk", "TableChunk", "RecordsChunk", "BadRow", "Source",
           "CsvSource", "NdjsonSource", "ParquetSource", "SourceLimits"]

Source = CsvSource | NdjsonSource | ParquetSource

_FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".tab": "csv", ".txt": "csv", ".psv": "csv",
    ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson", ".ldjson": "ndjson",
    ".parquet": "parquet", ".pq": "parquet",
}
_HEAD = 1 << 16


def detect_format(file_name: str, head: bytes) -> str:
    name = file_name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = Path(name).suffix
    if suffix in _FORMATS:
        return _FORMATS[suffix]
    if head.startswith(b"PAR1"):
        return "parquet"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return "ndjson"
    return "csv"


# NDJSON repeats every key name on every line: the bench file's rows take 2.2 times the bytes of
# the same rows in CSV. Read by the same byte count its chunks held half the rows, and each
# chunk pays the same fixed costs (a merge transaction and its commit, the ledger row, a
# results part, the chunk's events): twice the bytes per block made a 1M-row NDJSON import
# 5-15 % faster for 40 MB more peak RSS (ADR 0129); three times was no faster.
NDJSON_BLOCK_FACTOR = 2


def open_source(path: Path, file_name: str, workdir: Path, block_size: int,
                repair_encoding: bool, parquet_batch: int = 65536,
                limits: SourceLimits = SourceLimits()) -> Source:
    """Open a source for reading; raise SourceUnreadable when it cannot be read at all."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(2)
        compressed = magic == b"\x1f\x8b"
        head = read_head(path, compressed, _HEAD)
        check_is_table(head, path, compressed)
        fmt = detect_format(file_name or path.name, head)
        if fmt == "parquet":
            source: Source = ParquetSource(path, compressed, workdir, block_size, parquet_batch,
                                           limits)
        else:
            encoding, bom = detect_encoding(head)
            if fmt == "ndjson":
                source = NdjsonSource(path, compressed, encoding, bom,
                                      NDJSON_BLOCK_FACTOR * block_size, repair_encoding, limits)
            else:
                complete = len(head) < _HEAD
                dialect = sniff_dialect(decode_head(head, encoding, bom), complete)
                source = CsvSource(path, compressed, encoding, bom, dialect, block_size, limits)
        try:
            source.open()
        except BaseException:
            source.close()
            raise
        return source
    except SourceUnreadable:
        raise
    except (OSError, EOFError, ValueError) as exc:
        if is_storage_full(exc):
            raise  # our disk is full, the file is fine: the runner fails it as STORAGE_FULL
        raise SourceUnreadable(f"cannot read the file: {exc}") from None
