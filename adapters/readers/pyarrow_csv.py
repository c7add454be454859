"""CSV read in bounded blocks by pyarrow, every column as text, every record accounted for.

pyarrow skips records whose cell count differs from the header's through `invalid_row_handler`;
with `use_threads=False` the handler learns each skipped record's number, so data rows keep
their true numbers (1-based, header and blank lines excluded) and skipped records come back as
BadRows. A background thread reads the next block while the current one is validated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lading.adapters.readers.csv_header import HEADER_NEVER_ENDS, header_extent
from lading.adapters.readers.limits import SourceLimits
from lading.adapters.readers.prefetch import prefetch
from lading.adapters.readers.source_chunk import BadRow, TableChunk
from lading.adapters.readers.text_stream import Utf8Stream, open_bytes, open_tracked, replace_markers
from lading.domain.errors import SourceUnreadable
from lading.domain.validation_plan import malformed_message

DELIMITERS = (",", ";", "\t", "|")
READ_BLOCK = 1 << 20
_GROWTH = 16
_OPEN_QUOTE = "; a quoted field may never close"
_SNIFF_RECORDS = 50


@dataclass(frozen=True)
class Dialect:
    delimiter: str = ","
    quote: str = '"'


def sniff_dialect(text: str, complete: bool) -> Dialect:
    """Pick the delimiter whose header width (> 1) the most sampled records share.

    Scored per candidate as (share of the next records with the header's cell count, header
    width), among candidates giving the header more than one column; ties go to the order
    `,` `;` tab `|`. A header that no candidate splits is a one-column file: `,`.
    """
    text = text.replace("\0", "")
    if not complete:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        text = text[: cut + 1] if cut > 0 else text
    best, best_score = Dialect(), (0.0, 1)
    for delimiter in DELIMITERS:
        records = []
        try:
            for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"'):
                if record:
                    records.append(len(record))
                if len(records) > _SNIFF_RECORDS:
                    break
        except csv.Error:
            continue
        if not records:
            continue
        width, rest = records[0], records[1:]
        if width < 2:
            continue
        share = sum(1 for r in rest if r == width) / len(rest) if rest else 1.0
        score = (share, width)
        if score > best_score:
            best, best_score = Dialect(delimiter=delimiter), score
    return best


class CsvSource:
    kind = "csv"

    def __init__(self, path: Path, compressed: bool, encoding: str, bom: bool, dialect: Dialect,
                 block_size: int, limits: SourceLimits = SourceLimits(),
                 read_block: int = READ_BLOCK) -> None:
        self.path = path
        self.compressed = compressed
        self.encoding = encoding
        self.bom = bom
        self.dialect = dialect
        # pyarrow's reader holds several blocks' worth of memory, so it reads 1 MiB blocks,
        # which are then joined or sliced into chunks of about `block_size` bytes. A record
        # longer than a read block makes pyarrow fail; the read restarts with bigger blocks,
        # up to blocks of the record cap.
        self.block_size = block_size
        self.limits = limits
        self.read_block = min(read_block, limits.max_record_bytes)
        self._final_newline = False
        self.header: list[str] = []
        self._skipped: list[tuple[int, str]] = []
        self._stream: Utf8Stream | None = None
        self._reader = None
        self._position: Callable[[], int] = lambda: 0
        self._read_to = 0  # the disk position as of the last batch parsed
        self._blocks = 0  # batches parsed from the current stream (one a block)

    def _on_invalid_row(self, row) -> str:
        self._skipped.append((row.number - 1, row.text))
        return "skip"

    def _open_reader(self, final_newline: bool):
        raw, self._position = open_tracked(self.path, self.compressed)
        self._blocks = 0
        stream = Utf8Stream(raw, self.encoding, skip_bom=self.bom)
        source = _WithFinalNewline(stream) if final_newline else stream
        try:
            reader = self._open_csv(source)
        except BaseException:
            stream.close()
            raise
        return stream, reader

    def _open_csv(self, source):
        return pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(use_threads=False, block_size=self.read_block),
            parse_options=pacsv.ParseOptions(
                delimiter=self.dialect.delimiter, quote_char=self.dialect.quote, double_quote=True,
                escape_char=False, newlines_in_values=True, ignore_empty_lines=True,
                invalid_row_handler=self._on_invalid_row),
            convert_options=pacsv.ConvertOptions(
                default_column_type=pa.string(), strings_can_be_null=False,
                quoted_strings_can_be_null=False, check_utf8=False),
        )

    def open(self) -> None:
        with Utf8Stream(open_bytes(self.path, self.compressed), self.encoding, self.bom) as text:
            extent = header_extent(text, self.dialect.delimiter, self.dialect.quote, self.limits)
        while self.read_block <= extent:  # pyarrow infers the columns from the first block
            self._grow("the header")
        while True:
            try:
                self._stream, self._reader = self._open_reader(self._final_newline)
                break
            except pa.ArrowInvalid as exc:
                self._skipped.clear()
                if "straddl" in str(exc):  # a long first record: open again with bigger blocks
                    self._grow("one of the first records")
                    continue
                if "Empty CSV file" not in str(exc):
                    raise SourceUnreadable(f"cannot parse the CSV file: {exc}") from None
                if self._final_newline or not extent:
                    if extent:
                        raise SourceUnreadable(HEADER_NEVER_ENDS) from None
                    self._stream, self._reader = None, None  # an empty file
                    return
                # A header with no line break after it is a valid, empty file.
                self._final_newline = True
        self.header = [replace_markers(n) for n in self._reader.schema.names]
        self.limits.check_columns(len(self.header))

    def close(self) -> None:
        # The reader goes first: destroyed while its read-ahead thread is still alive at
        # interpreter exit, pyarrow aborts the process ("terminate called ...").
        self._reader = None
        if self._stream is not None:
            self._stream.close()

    def _next(self):
        """The next batch with the records skipped while parsing it (runs in the prefetch
        thread, which is also where pyarrow calls the handler)."""
        try:
            batch = self._reader.read_next_batch()
        except StopIteration:
            batch = None
        skipped, self._skipped = self._skipped, []
        return batch, skipped, self._parsed_so_far()

    def _parsed_so_far(self) -> int:
        """Disk bytes behind the batches parsed so far. pyarrow reads several blocks ahead of
        the one it parses, and makes one batch per block: the blocks parsed are the share of
        what the stream delivered, and that share of the disk position (a .gz file's too)."""
        self._blocks += 1
        stream = self._stream
        if stream is None or not stream.delivered:
            return 0
        parsed = min(self._blocks * self.read_block, stream.delivered)
        return self._position() * parsed // stream.delivered

    def chunks(self) -> Iterator[TableChunk]:
        if self._reader is None:
            return
        delivered = [0]  # the highest row number already handed out
        while True:
            try:
                yield from self._read_chunks(delivered)
                return
            except pa.ArrowInvalid as exc:
                if "straddl" not in str(exc):
                    raise SourceUnreadable(f"cannot parse the CSV file: {exc}") from None
                self._grow(f"a record after row {delivered[0]}")
            except (pa.ArrowNotImplementedError, OSError) as exc:
                raise SourceUnreadable(f"cannot parse the CSV file: {exc}") from None
            # Start again with blocks big enough for the long record, skipping what was read.
            self._reader = None
            self._stream.close()
            self._stream, self._reader = self._open_reader(self._final_newline)

    def _grow(self, where: str) -> None:
        """Bigger read blocks for a record that did not fit, or RECORD_TOO_LARGE at the cap."""
        cap = self.limits.max_record_bytes
        if self.read_block >= cap:
            raise self.limits.record_too_large(where, _OPEN_QUOTE)
        self.read_block = min(self.read_block * _GROWTH, cap)

    def _check_record_sizes(self, skipped: list[tuple[int, str]],
                            batch: pa.RecordBatch | None = None,
                            numbers: np.ndarray | None = None) -> None:
        """pyarrow reads a record of up to twice the block size, so once blocks near the cap,
        records are measured (their cells' bytes plus delimiters) to hold the cap exactly."""
        cap = self.limits.max_record_bytes
        if 2 * self.read_block <= cap:
            return
        for number, text in skipped:
            if len(text) * 4 > cap and len(text.encode("utf-8")) > cap:
                raise self.limits.record_too_large(f"row {number}", _OPEN_QUOTE)
        if batch is None or not batch.num_rows or batch.nbytes <= cap:
            return
        sizes = np.full(batch.num_rows, batch.num_columns - 1, dtype=np.int64)
        for column in batch.columns:
            sizes += np.asarray(pc.fill_null(pc.binary_length(column), 0)
                                .to_numpy(zero_copy_only=False), dtype=np.int64)
        over = np.flatnonzero(sizes > cap)
        if len(over):
            raise self.limits.record_too_large(f"row {int(numbers[over[0]])}", _OPEN_QUOTE)

    def _read_chunks(self, delivered: list[int]) -> Iterator[TableChunk]:
        next_row = 1
        pending: list[tuple[int, str]] = []
        bad: list[BadRow] = []
        parts: list[tuple[pa.RecordBatch, np.ndarray]] = []
        size = 0.0
        items = prefetch(self._next)
        try:
            for batch, skipped, self._read_to in items:
                self._check_record_sizes(skipped)
                pending.extend(skipped)
                pending.sort()
                if batch is None:
                    break
                rows = batch.num_rows
                numbers, consumed = _number_rows(next_row, rows, pending)
                self._check_record_sizes([], batch, numbers)
                bad.extend(self._bad_row(n, text) for n, text in pending[:consumed])
                del pending[:consumed]
                if rows:
                    next_row = int(numbers[-1]) + 1
                per_row = batch.nbytes / max(rows, 1)
                start = 0
                while start < rows:
                    # The first chunk is one read block at most, so validation starts as soon
                    # as the first block is parsed rather than after a whole chunk's worth.
                    limit = self.block_size if delivered[0] else min(self.block_size, READ_BLOCK)
                    room = (limit - size) / per_row if per_row else rows
                    take = max(1, min(rows - start, int(room)))
                    parts.append((batch.slice(start, take), numbers[start:start + take]))
                    size += take * per_row
                    start += take
                    if size >= limit:
                        chunk = self._emit(parts, bad, delivered, final=False)
                        if chunk is not None:
                            yield chunk
                        parts, size = [], 0.0
            bad.extend(self._bad_row(n, text) for n, text in pending)
            chunk = self._emit(parts, bad, delivered, final=True)
            if chunk is not None:
                yield chunk
        finally:
            items.close()

    def _emit(self, parts, bad: list[BadRow], delivered: list[int], final: bool) -> TableChunk | None:
        """One chunk of the joined parts and the skipped records that precede its last row."""
        numbers = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
        if final or not len(numbers):
            mine, bad[:] = list(bad), []
        else:
            last = int(numbers[-1])
            mine = [b for b in bad if b.row_number < last]
            bad[:] = [b for b in bad if b.row_number >= last]
        if parts:
            batch = parts[0][0] if len(parts) == 1 else pa.concat_batches([p[0] for p in parts])
        else:
            batch = self._empty_batch()
        fresh = numbers > delivered[0]
        if not fresh.all():
            batch = batch.filter(pa.array(fresh))
            numbers = numbers[fresh]
        mine = [b for b in mine if b.row_number > delivered[0]]
        if not len(numbers) and not mine:
            return None
        delivered[0] = max([delivered[0], *numbers[-1:].tolist(), *(b.row_number for b in mine)])
        return TableChunk(row_numbers=numbers, bad_rows=mine, markers=self._stream.markers > 0,
                          nul=self._stream.nul, batch=batch, bytes_read=self._read_to)

    def _empty_batch(self) -> pa.RecordBatch:
        return pa.RecordBatch.from_arrays([pa.array([], pa.string()) for _ in self.header],
                                          schema=self._reader.schema)

    def _bad_row(self, number: int, text: str) -> BadRow:
        cells = next(csv.reader(io.StringIO(text, newline=""), delimiter=self.dialect.delimiter,
                                quotechar=self.dialect.quote), [])
        return BadRow(row_number=number, kind="ragged", text=replace_markers(text),
                      message=malformed_message(len(cells), len(self.header)), cells=tuple(cells))


def _number_rows(first: int, count: int, skipped: list[tuple[int, str]]) -> tuple[np.ndarray, int]:
    """Row numbers for `count` well-formed rows starting at `first`, stepping over the numbers
    of skipped records; also how many of the (sorted) skipped records lie before the last."""
    numbers = np.empty(count, dtype=np.int64)
    row, i, k = first, 0, 0
    while i < count:
        if k < len(skipped) and skipped[k][0] == row:
            k += 1
            row += 1
            continue
        if k < len(skipped) and skipped[k][0] < row:
            k += 1
            continue
        # Copy a run of consecutive numbers at once up to the next skipped record.
        stop = skipped[k][0] if k < len(skipped) else row + (count - i)
        run = min(stop - row, count - i)
        numbers[i:i + run] = np.arange(row, row + run, dtype=np.int64)
        i += run
        row += run
    while k < len(skipped) and skipped[k][0] < row:
        k += 1
    return numbers, k


class _WithFinalNewline:
    """A stream that ends with a line break, so a lone header line parses as a header."""

    def __init__(self, stream: Utf8Stream) -> None:
        self._stream = stream
        self._last = b""
        self._done = False
        self.closed = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True
        self._stream.close()

    def read(self, n: int = -1) -> bytes:
        # pyarrow takes a short read for the end of the file, so the break joins the last read
        data = self._stream.read(n)
        if data:
            self._last = data[-1:]
        if (n < 0 or len(data) < n) and not self._done:
            self._done = True
            if self._last not in (b"\n", b"\r"):
                data += b"\n"
        return data
