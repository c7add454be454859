"""ArrowValidationEngine: the ValidationEngine port over pyarrow.

    engine = ArrowValidationEngine()
    for chunk in engine.validate(SourceFile(path, name), schema, plan, workdir, error_file, lookup):
        ...
    table = engine.load_chunk(chunk.staged_path)
    engine.write_valid_rows_csv(paths, binary_file)

The source is read in bounded blocks (memory does not grow with the file), the first
SAMPLE_ROWS rows decide header matching and column formats, and each block becomes one
ValidatedChunk: its valid rows staged as an Arrow IPC file, its rejected rows appended to the
error file. Validation is deterministic: the same file and plan give the same chunks and bytes.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import replace
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lading.application.storage_full import is_storage_full
from lading.adapters.arrow_csv_safety import neutralised
from lading.adapters.annotated_csv import write_annotated_csv, write_error_csv
from lading.adapters.jsonl_error_file import JsonlErrorFile
from lading.adapters.phase_timer import phase, timed_call, timed_iter
from lading.adapters.pyarrow_validator import ChunkValidator
from lading.adapters.readers import SourceChunk, SourceLimits, open_source
from lading.adapters.readers.text_stream import has_marker
from lading.adapters.row_results_file import row_index_name, write_part, write_row_index
from lading.adapters.row_results_file import write_csv as write_results_csv
from lading.application.ports import KeyLookup, SourceFile, ValidatedChunk
from lading.domain.column_formats import SAMPLE_ROWS
from lading.domain.error_entries import DEFAULT_VALUE_CHARS
from lading.domain.errors import SourceUnreadable
from lading.domain.plan import ImportPlan
from lading.domain.reference_validator import ndjson_header
from lading.domain.table_schema import TableSchema
from lading.domain.validation_plan import WARN_NO_ROWS, SourceMapping, ValidationPlan, map_source

DEFAULT_BLOCK_SIZE = 4 << 20
# Readers turn their own parse failures into SourceUnreadable; what is left to catch here is
# I/O going wrong underneath them. Anything else is a bug and must not pass for a bad file.
_BAD_INPUT = (OSError, UnicodeError, csv.Error, EOFError)


def staged_name(index: int) -> str:
    return f"chunk-{index:06d}.arrow"


class ArrowValidationEngine:
    def __init__(self, block_size: int = DEFAULT_BLOCK_SIZE, parquet_batch_rows: int = 65536,
                 limits: SourceLimits = SourceLimits(),
                 error_value_chars: int = DEFAULT_VALUE_CHARS) -> None:
        self.block_size = block_size
        self.parquet_batch_rows = parquet_batch_rows
        self.limits = limits
        self.error_value_chars = error_value_chars

    def validate(self, source: SourceFile | Sequence[SourceFile], schema: TableSchema,
                 plan: ImportPlan, workdir: Path, error_file: Path,
                 key_lookup: KeyLookup | None = None) -> Iterator[ValidatedChunk]:
        """Validate one file, or several read in order as one source: each file's header is
        matched on its own, chunk indexes and row numbers continue across files, keys are
        unique across all of them, and each error line names its `file`."""
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        sources = [source] if isinstance(source, SourceFile) else list(source)
        run = _Run(named_files=len(sources) > 1)
        sizes = [_size(Path(each.path)) for each in sources]
        run.bytes_total = sum(sizes)
        for position, each in enumerate(sources):
            run.file_name = each.file_name
            run.bytes_before = sum(sizes[:position])
            try:
                reader = open_source(Path(each.path), each.file_name, workdir, self.block_size,
                                     repair_encoding=plan.import_mode == "landing_friendly",
                                     parquet_batch=self.parquet_batch_rows, limits=self.limits)
            except _BAD_INPUT as exc:
                if is_storage_full(exc):
                    raise  # our disk is full, not the file unreadable (issue 9.5)
                raise SourceUnreadable(run.say(f"cannot read the file: {exc}")) from None
            except SourceUnreadable as exc:
                raise exc.retold(run.say(str(exc))) from None
            try:
                yield from self._chunks(reader, schema, plan, workdir, Path(error_file),
                                        key_lookup, run, last=position == len(sources) - 1)
            except SourceUnreadable as exc:
                raise exc.retold(run.say(str(exc))) from None
            except _BAD_INPUT as exc:
                if is_storage_full(exc):
                    raise
                raise SourceUnreadable(run.say(f"cannot read the file: {exc}")) from None
            finally:
                reader.close()

    def _chunks(self, reader, schema: TableSchema, plan: ImportPlan, workdir: Path,
                error_file: Path, key_lookup: KeyLookup | None, run: _Run,
                last: bool = True) -> Iterator[ValidatedChunk]:
        pending = timed_iter("read", reader.chunks())
        buffered = sample_chunks(pending)
        read = sum(c.read_rows for c in buffered)
        header = sample_header(reader.kind, reader.header, buffered, self.limits)
        if not read and not header:
            if last and run.index == 0:
                yield _empty_chunk(warnings={WARN_NO_ROWS: 1})
            return
        vplan = plan_from_sample(schema, plan, header, buffered)
        lookup = timed_call("key checks", key_lookup) if key_lookup is not None else None
        validator = ChunkValidator(vplan, lookup, workdir / f"keys-{run.files}",
                                   self.error_value_chars)
        if run.validator is not None:
            validator.continue_keys_of(run.validator)  # one source: a key seen before is a duplicate
        run.validator = validator
        run.files += 1
        index = run.index
        first_of_file = index
        # Staging chunk k (disk writes, no GIL) overlaps validating chunk k + 1; chunk k is
        # yielded once its file is complete, so a yielded staged_path is always readable.
        with JsonlErrorFile(error_file) as errors, ThreadPoolExecutor(1) as stager:
            waiting: tuple[ValidatedChunk, Future] | None = None
            for chunk in itertools.chain(buffered, pending):
                with phase("validate"):
                    result = validator.validate(chunk, index)
                    segment = errors.append(run.entry(entry) for _, entry in result.errors)
                path = workdir / staged_name(index)
                first = index == first_of_file
                done = ValidatedChunk(
                    index=index, read_rows=result.read_rows, valid_rows=result.valid_rows,
                    rejected_by_code=result.rejected_by_code,
                    rejected_by_field=result.rejected_by_field, error_segment=segment,
                    staged_path=str(path) if result.valid_rows else None,
                    healed_by_field=result.healed_by_field,
                    warnings_by_field=result.warnings_by_field,
                    header_healing=vplan.header_healing if first else {},
                    column_formats=vplan.column_format_labels if first else {},
                    header_renames=tuple(vplan.header_renames) if first else (),
                    source_bytes_read=min(run.bytes_before + chunk.bytes_read, run.bytes_total),
                    source_bytes=run.bytes_total,
                    healing_samples={f: {kind: _renumbered(samples, run.offset)
                                         for kind, samples in kinds.items()}
                                     for f, kinds in result.healing_samples.items()},
                    warning_samples={f: _renumbered(samples, run.offset)
                                     for f, samples in result.warning_samples.items()},
                )
                rows_path = workdir / row_index_name(index) if result.read_rows else None
                done = replace(done, row_index=str(rows_path) if rows_path else None)
                writing = stager.submit(_stage, result.table, path, rows_path,
                                        indexed_rows(result, run.offset))
                if waiting is not None:
                    waiting[1].result()
                    yield waiting[0]
                waiting = (done, writing)
                index += 1
                run.rows += chunk.read_rows
            if waiting is not None:
                waiting[1].result()
                yield waiting[0]
        run.index = index
        run.offset = run.rows
        if last and index == 0:
            yield _empty_chunk(vplan.header_healing, vplan.column_format_labels, {WARN_NO_ROWS: 1},
                               tuple(vplan.header_renames))

    def write_annotated_csv(self, sources: Sequence[SourceFile], error_file: Path | None,
                            out: IO[bytes], workdir: Path, rejected_only: bool = False) -> int:
        return write_annotated_csv(sources, error_file, out, Path(workdir), self.block_size,
                                   rejected_only)

    def write_error_csv(self, error_file: Path | None, out: IO[bytes]) -> int:
        return write_error_csv(error_file, out)

    def load_chunk(self, staged_path: str) -> pa.Table:
        # Memory-mapped: the table's buffers are the file's pages, read once, never copied.
        return pa.ipc.open_file(pa.memory_map(str(staged_path))).read_all()

    def write_results_part(self, row_index: str | None, staged_path: str | None,
                           key_fields: tuple[str, ...], outcomes: list[str],
                           out: IO[bytes]) -> int:
        staged = self.load_chunk(staged_path) if staged_path is not None else None
        return write_part(Path(row_index) if row_index else None, staged, key_fields, outcomes,
                          out)

    def write_results_csv(self, lines: Iterable[bytes], out: IO[bytes]) -> int:
        return write_results_csv(lines, out)

    def write_valid_rows_csv(self, staged_paths: list[str], out: IO[bytes]) -> int:
        written = 0
        for i, path in enumerate(staged_paths):
            table = self.load_chunk(path)
            canonical = pa.table([neutralised(_canonical_text(c)) for c in table.columns],
                                 names=table.column_names)
            pacsv.write_csv(canonical, out, write_options=pacsv.WriteOptions(include_header=i == 0))
            written += table.num_rows
        return written


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # open_source says why it cannot be read


class _Run:
    """Where reading several files as one source has got to: the next chunk index, the rows
    read so far (the next file's row numbers start after them) and the last file's validator."""

    def __init__(self, named_files: bool) -> None:
        self.named_files = named_files
        self.file_name = ""
        self.index = 0
        self.rows = 0
        self.offset = 0
        self.files = 0
        self.validator: ChunkValidator | None = None
        self.bytes_before = 0  # the sizes of the files already read
        self.bytes_total = 0

    def entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        if not self.named_files:
            return entry
        return {**entry, "rowNumber": entry["rowNumber"] + self.offset, "file": self.file_name}

    def say(self, message: str) -> str:
        return f"{self.file_name}: {message}" if self.named_files else message


def _empty_chunk(header_healing: dict[str, str] | None = None,
                 column_formats: dict[str, str] | None = None,
                 warnings: dict[str, int] | None = None,
                 header_renames: tuple[dict[str, Any], ...] = ()) -> ValidatedChunk:
    """The one chunk of a source without data rows, which warns that there were none."""
    return ValidatedChunk(index=0, read_rows=0, valid_rows=0, rejected_by_code={},
                          rejected_by_field={}, error_segment=None, staged_path=None,
                          header_healing=dict(header_healing or {}),
                          column_formats=dict(column_formats or {}),
                          warnings_by_field=dict(warnings or {}), header_renames=header_renames)


def _stage(table: pa.Table | None, path: Path, rows_path: Path | None,
           rows: tuple[np.ndarray, list[tuple[int, str, Any]]]) -> str | None:
    if rows_path is not None:
        with phase("stage"):
            write_row_index(rows_path, *rows)
    if table is None or table.num_rows == 0:
        return None
    with phase("stage"), pa.OSFile(str(path), "wb") as sink, \
            pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return str(path)


def _renumbered(samples: list[dict[str, Any]], offset: int) -> list[dict[str, Any]]:
    """Sample rows numbered as the error file numbers them (continuing across several files)."""
    return [{**sample, "rowNumber": sample["rowNumber"] + offset} for sample in samples]


def indexed_rows(result: Any, offset: int) -> tuple[np.ndarray, list[tuple[int, str, Any]]]:
    """A chunk's valid row numbers and its rejected rows (number, code, key), numbered as the
    error file numbers them (continuing across several files)."""
    rejected = [(number + offset, entry["code"], result.rejected_keys.get(number))
                for number, entry in result.errors]
    return result.valid_row_numbers + offset, rejected


def sample_chunks(chunks: Iterator[SourceChunk]) -> list[SourceChunk]:
    """The first chunks, up to SAMPLE_ROWS rows, that the mapping and formats are decided from;
    `chunks` goes on after them."""
    buffered: list[SourceChunk] = []
    read = 0
    for chunk in chunks:
        buffered.append(chunk)
        read += chunk.read_rows
        if read >= SAMPLE_ROWS:
            break
    return buffered


def sample_header(kind: str, header: list[str], buffered: Sequence[SourceChunk],
                  limits: SourceLimits) -> list[str]:
    """The source's header: the reader's, or for NDJSON the keys of the sampled objects."""
    if kind != "ndjson":
        return header
    cutoff = _sample_cutoff(buffered)
    header = ndjson_header([r for c in buffered
                            for r, n in zip(c.records, c.row_numbers.tolist()) if n <= cutoff])
    limits.check_columns(len(header))
    # Objects without keys ({}) are NDJSON still: the mapping then names what is missing.
    if sum(c.read_rows for c in buffered) and not header and not any(c.records for c in buffered):
        raise SourceUnreadable(
            f"no line among the first {SAMPLE_ROWS} is a JSON object; is this NDJSON?")
    return header


def plan_from_sample(schema: TableSchema, plan: ImportPlan, header: list[str],
                     buffered: Sequence[SourceChunk]) -> ValidationPlan:
    """The mapping and column formats, decided from the first SAMPLE_ROWS rows read."""
    cutoff = _sample_cutoff(buffered)
    mapping = map_source(schema, plan, header,
                         lambda position: _column_sample(buffered, header, position, cutoff))
    return ValidationPlan.create(schema, plan, mapping, _sample(buffered, mapping, cutoff))


def _sample_cutoff(buffered: Sequence[SourceChunk]) -> int:
    """The row number of the SAMPLE_ROWS-th read row (or of the last one read)."""
    numbers = [c.row_numbers for c in buffered]
    numbers += [np.array([b.row_number for b in c.bad_rows], np.int64) for c in buffered]
    every = np.sort(np.concatenate(numbers)) if numbers else np.zeros(0, np.int64)
    return int(every[min(SAMPLE_ROWS, len(every)) - 1]) if len(every) else 0


def _sample(buffered: Sequence[SourceChunk], mapping: SourceMapping,
            cutoff: int) -> dict[str, list[Any]]:
    """Each validated field's values in the well-formed rows among the first SAMPLE_ROWS read."""
    return {name: _column_sample(buffered, mapping.header, mapping.positions[name], cutoff)
            for name in mapping.fields}


def _column_sample(buffered: Sequence[SourceChunk], header: Sequence[str], position: int,
                   cutoff: int) -> list[Any]:
    """One header column's text values in the well-formed rows among the first SAMPLE_ROWS."""
    values: list[Any] = []
    for chunk in buffered:
        rows = np.nonzero(chunk.row_numbers <= cutoff)[0]
        if not len(rows):
            continue
        column = chunk.column(position, header)
        if isinstance(column, list):
            values.extend(column[i] for i in rows.tolist())
            continue
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue  # typed Parquet values are never text
        taken = column.take(pa.array(rows)).to_pylist()
        if chunk.markers:
            taken = [None if isinstance(v, str) and has_marker(v) else v for v in taken]
        values.extend(taken)
    return values


def _canonical_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Values as the API shows them: ISO 8601 with `T` and `Z`, no empty fractions."""
    t = column.type
    if pa.types.is_timestamp(t):
        text = pc.cast(column, pa.string())  # 2023-05-17 10:00:00.000000Z
        text = pc.replace_substring(text, " ", "T", max_replacements=1)
        return pc.replace_substring_regex(text, r"\.000000Z$", "Z")
    if pa.types.is_time(t):
        return pc.replace_substring_regex(pc.cast(column, pa.string()), r"\.000000$", "")
    return column
