"""One file validated by many workers (ADR 0055): the SplitValidation port over pyarrow.

    for index in split.split(source, schema, plan, parts): ...   # one reader, raw chunks stored
    split.validate_part(parts, schema, plan, index, lookup)       # any worker, any chunk, at once
    decisions = split.key_decisions(parts, schema, plan, workdir)
    if decisions.decide(index, lookup):                          # in chunk order, one process
        split.correct_part(parts, schema, plan, index, lookup)    # any worker
    chunk = decisions.outcome(index, staged_to)                  # in chunk order, one process

The source is read once, by the reader a one-worker run uses, so chunk boundaries and row
numbers are that run's by construction. Each raw chunk is then validated on its own, keys
judged against its own rows and those of the earlier chunks already validated (ADR 0137); the
rows whose keys those did not hold (the candidates) and what it added (the accepted keys) are
stored beside the outputs. Settling walks the chunks in order with the registries of every
earlier chunk: a chunk none of whose candidates an earlier chunk accepted has exactly the
outcome it would have had in one run; in any other chunk the rows of those keys are judged
again against them, which is what one run does (any worker may do that, from the keys stored
with the decision).
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from lading.adapters.arrow_engine import (
    ArrowValidationEngine, indexed_rows, plan_from_sample, sample_chunks, sample_header,
)
from lading.adapters.arrow_types import arrow_type
from lading.adapters.jsonl_error_file import error_line
from lading.adapters.numpy_key_registry import KeyRegistry
from lading.adapters.pyarrow_validator import ChunkResult, ChunkValidator
from lading.adapters.readers import (BadRow, NdjsonSource, RecordsChunk, SourceChunk,
                                     SourceLimits, TableChunk, open_source)
from lading.adapters.readers.msgspec_ndjson import ObjectShape, decode_lines_block, decode_some_lines
from lading.adapters.readers.source_chunk import LinesOrigin
from lading.adapters.row_results_file import row_index_table
from lading.application.chunk_tasks import SettledChunk
from lading.application.job_parts import JobParts, link_or_copy
from lading.application.ports import KeyLookup, SourceFile, ValidatedChunk
from lading.application.storage_full import is_storage_full
from lading.domain.errors import SourceUnreadable
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import TableSchema
from lading.domain.validation_plan import ValidationPlan

_META = b"lading"
_ROW = "\x00row"
_BAD_INPUT = (OSError, UnicodeError, EOFError)


class ArrowSplitValidation:
    def __init__(self, engine: ArrowValidationEngine) -> None:
        self.engine = engine
        self._plans: dict[str, ValidationPlan] = {}  # parts prefix -> the plan its sample gives
        # parts prefix -> the keys this process has seen in the job's NDJSON objects (ADR 0131)
        self._shapes: dict[str, ObjectShape] = {}

    # -- reading: one process -----------------------------------------------------------------

    def split(self, source: SourceFile, schema: TableSchema, plan: ImportPlan,
              parts: JobParts) -> Iterator[tuple[int, SourceChunk]]:
        """Read the source as one run reads it, storing the sample's context and each raw
        chunk; yield each chunk's index (with the chunk, for this process to validate) once
        it is stored. Chunks already stored (a resumed run) are not stored again."""
        engine = self.engine
        try:
            workdir = parts.scratch("reader")
            workdir.mkdir(exist_ok=True)
            reader = open_source(Path(source.path), source.file_name, workdir,
                                 engine.block_size,
                                 repair_encoding=plan.import_mode == "landing_friendly",
                                 parquet_batch=engine.parquet_batch_rows, limits=engine.limits)
        except _BAD_INPUT as exc:
            if is_storage_full(exc):
                raise
            raise SourceUnreadable(f"cannot read the file: {exc}") from None
        try:
            if isinstance(reader, NdjsonSource):
                # Lines are stored as read and decoded by whichever worker validates them
                # (ADR 0130); only the sample is decoded here.
                chunks: Iterator[Any] = reader.line_blocks()
                buffered = sample_chunks(map(reader.decode, chunks))
            else:
                chunks = reader.chunks()
                buffered = sample_chunks(chunks)
            header = sample_header(reader.kind, reader.header, buffered, engine.limits)
            if buffered:
                # A missing column fails the job now; the plan serves this process's chunks.
                self._plans[parts.prefix] = plan_from_sample(schema, plan, header, buffered)
                parts.put_json(JobParts.CONTEXT, {"header": header, "sampleChunks": len(buffered)})
            index = 0
            for chunk in itertools.chain(buffered, chunks):
                if not parts.has(JobParts.raw(index)):
                    parts.put(JobParts.raw(index), _raw_bytes(chunk))
                yield index, chunk
                index += 1
        except _BAD_INPUT as exc:
            if is_storage_full(exc):
                raise
            raise SourceUnreadable(f"cannot read the file: {exc}") from None
        finally:
            reader.close()

    # -- one chunk: any worker ---------------------------------------------------------------

    def validate_part(self, parts: JobParts, schema: TableSchema, plan: ImportPlan, index: int,
                      key_lookup: KeyLookup | None, raw: SourceChunk | None = None,
                      earlier: EarlierKeys | None = None) -> None:
        """Validate raw chunk `index` (`raw` when this process holds it) against its own
        rows' keys and, with `earlier`, the keys of the earlier chunks already validated (ADR
        0137); store its outputs, the keys it asked about and accepted, then its result."""
        vplan = self._plan(parts, schema, plan)
        spill = parts.scratch(f"spill-{index:06d}")
        try:
            before = earlier.below(parts, vplan, index) if earlier is not None else None
            self._validate_part(parts, vplan, index, key_lookup, raw, spill, before)
        finally:
            shutil.rmtree(spill, ignore_errors=True)

    @contextmanager
    def earlier_keys(self, parts: JobParts) -> Iterator[EarlierKeys]:
        """What a helper validating one job's chunks one after another judges them against."""
        keys = EarlierKeys(parts.scratch("earlier-keys"))
        try:
            yield keys
        finally:
            shutil.rmtree(keys.workdir, ignore_errors=True)

    def _validate_part(self, parts: JobParts, vplan: ValidationPlan, index: int,
                       key_lookup: KeyLookup | None, raw: SourceChunk | None, spill: Path,
                       earlier_keys: KeyRegistry | None = None, every_earlier: bool = False) -> None:
        """`earlier_keys`: keys earlier chunks accepted, the chunk's rows of those keys being
        duplicates. With `every_earlier` (a chunk judged in order) they are every earlier
        chunk's, and the registry takes this chunk's: no row of it needs judging again, so no
        candidates are stored. Otherwise the registry is left as it is, and the candidates
        stored are the rows whose keys it does not hold: the only ones settling may find an
        earlier chunk accepted."""
        validator = ChunkValidator(vplan, key_lookup, spill, self.engine.error_value_chars)
        if earlier_keys is None:
            keys = _Recording(validator.keys)
        else:
            keys = _Recording(earlier_keys, keep_added=every_earlier)
        uniques = {name: _Recording(registry) for name, registry in validator.uniques.items()}
        validator.keys = keys  # type: ignore[assignment]
        validator.uniques = uniques  # type: ignore[assignment]
        limits = self.engine.limits
        shape = self._shapes.setdefault(parts.prefix, ObjectShape(limits.max_columns))
        chunk = _load_raw(parts, index, limits, shape=shape) if raw is None else \
            _decoded(raw, limits, shape) if isinstance(raw, LinesOrigin) else raw
        result = validator.validate(chunk, index)
        rows, columns = validator.candidates
        if every_earlier:
            rows = rows[:0]
        elif earlier_keys is not None and len(rows):
            new = ~earlier_keys.contains(columns)
            rows, columns = rows[new], [c.filter(pa.array(new)) for c in columns]
        # Stored, or removed: an attempt cut short may have stored candidates this one has not.
        _store_columns(parts, JobParts.keys(index, "candidates"),
                       [[pa.array(rows, pa.int64()), *columns]] if len(rows) else [])
        _store_columns(parts, JobParts.keys(index, "accepted-keys"), keys.accepted)
        for name, recording in uniques.items():
            for side, columns in (("asked", recording.asked), ("accepted", recording.accepted)):
                _store_columns(parts, JobParts.keys(index, f"{side}-unique-{name}"), columns)
        _store_result(parts, vplan, index, result, row_index=_ipc_bytes(_index_table(result)))

    def correct_part(self, parts: JobParts, schema: TableSchema, plan: ImportPlan, index: int,
                     key_lookup: KeyLookup | None) -> None:
        """Judge again the rows of chunk `index` whose keys its decision found accepted by an
        earlier chunk, storing the chunk's settled outcome. Their keys are all the registry
        is asked about, so a registry of just those keys answers as the whole one would."""
        vplan = self._plan(parts, schema, plan)
        batches = _load_columns(parts, JobParts.keys(index, "hits"))
        if not batches:
            raise RuntimeError(f"{parts.prefix}: chunk {index} has no hits stored")
        hits = pa.Table.from_batches([pa.record_batch(b, names=[f"k{i}" for i in range(len(b))])
                                      for b in batches])
        workdir = parts.scratch(f"correct-{index:06d}")
        try:
            registry = _key_registry(vplan, workdir)
            distinct = hits.group_by(hits.column_names[1:], use_threads=False).aggregate([])
            registry.add([c.combine_chunks() for c in distinct.columns], index)
            rows = np.asarray(hits.column(0).to_numpy(), dtype=np.int64)
            _correct(parts, vplan, index, rows, registry, key_lookup,
                     self.engine.error_value_chars, self.engine.limits, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def decision(self, parts: JobParts, index: int) -> bool | None:
        """Whether chunk `index`'s decision asked for a correction; None: not decided yet."""
        decided = parts.get_json(JobParts.decided(index))
        return None if decided is None else decided["corrections"] > 0

    def _plan(self, parts: JobParts, schema: TableSchema, plan: ImportPlan) -> ValidationPlan:
        # Rebuilt from the stored sample chunks by the same steps as the reading run: the
        # same sample gives the same mapping and formats, so no plan has to be serialised.
        known = self._plans.get(parts.prefix)
        if known is not None:
            return known
        context = parts.get_json(JobParts.CONTEXT)
        if context is None:
            raise RuntimeError(f"{parts.prefix}: no sample context stored")
        sample = [_load_raw(parts, i, self.engine.limits) for i in range(context["sampleChunks"])]
        vplan = plan_from_sample(schema, plan, list(context["header"]), sample)
        self._plans[parts.prefix] = vplan
        return vplan

    def settled_rows(self, parts: JobParts, index: int) -> pa.Table:
        return settled_rows(parts, index)

    def spent_parts(self, parts: JobParts, schema: TableSchema, count: int) -> list[str]:
        """The parts only validating and settling read: the raw chunks (a second copy of the
        source), the keys and decisions, and a corrected chunk's own staged rows, row index and
        error lines (its settled ones replace them)."""
        kinds = ["candidates", "accepted-keys", "hits",
                 *(f"{side}-unique-{field.name}" for field in schema.fields
                   if field.constraints.unique for side in ("asked", "accepted"))]
        names: list[str] = []
        for index in range(count):
            names += [JobParts.raw(index), JobParts.decided(index),
                      *(JobParts.keys(index, kind) for kind in kinds)]
            if parts.has(JobParts.result(index, settled=True)):
                names += [JobParts.staged(index), JobParts.rows(index), JobParts.errors(index)]
        return names

    def results_inputs(self, parts: JobParts, index: int) -> tuple[Path, Path | None]:
        return parts.settled_inputs(index)

    # -- settling: in chunk order, one process ---------------------------------------------

    def key_decisions(self, parts: JobParts, schema: TableSchema, plan: ImportPlan,
                      workdir: Path) -> "ArrowKeyDecisions":
        return ArrowKeyDecisions(self, parts, schema, plan, workdir)


class ArrowKeyDecisions:
    """The keys and unique values earlier chunks accepted, deciding chunks one after another."""

    def __init__(self, split: ArrowSplitValidation, parts: JobParts, schema: TableSchema,
                 plan: ImportPlan, workdir: Path) -> None:
        self.split = split
        self.parts = parts
        self.schema = schema
        self.plan = plan
        self.workdir = workdir
        vplan = split._plan(parts, schema, plan)
        self.vplan = vplan
        self.keys = _key_registry(vplan, workdir)
        by_name = {r.name: r for r in vplan.rules}
        self.uniques = {u: KeyRegistry([arrow_type(by_name[u].field)], workdir, f"unique-{u}")
                        for u in vplan.unique_fields}

    def decide(self, index: int, key_lookup: KeyLookup | None) -> bool:
        """Decide chunk `index` against the chunks decided before it; True when some of its
        rows are to be judged again (`correct_part`, by any worker) before its outcome is
        known. The decision is stored, so that helpers see which chunks wait for that."""
        if self.uniques:
            self._settle_with_uniques(index, key_lookup)
            corrections = 0
        else:
            corrections = self._decide_keys(index)
        self.parts.put_json(JobParts.decided(index), {"corrections": corrections})
        return corrections > 0

    def judge_in_order(self, index: int, key_lookup: KeyLookup | None,
                       raw: SourceChunk | None) -> bool:
        """Validate chunk `index`, every chunk before it decided, against the keys they
        accepted, as one run would, and decide it: its result is then its settled outcome.
        This saves its correction (a second read and two more validations of the rows an
        earlier chunk's keys hit). False, with nothing done, for a schema with `unique` fields
        (those chunks are judged again whole when they clash, see _settle_with_uniques).

        Its accepted keys are stored and no candidates are: a resumed run, deciding from the
        first chunk again, rebuilds the same registry before it and so finds nothing to correct."""
        if not self._judge(index, key_lookup, raw, every_earlier=True):
            return False
        self.parts.put_json(JobParts.decided(index), {"corrections": 0})
        return True

    def judge_ahead(self, index: int, key_lookup: KeyLookup | None,
                    raw: SourceChunk | None) -> bool:
        """Validate chunk `index`, some chunk before it not decided yet, against the keys the
        decided ones accepted: it is decided later, as a chunk validated alone is, with fewer
        of its rows to judge again (ADR 0137). False, with nothing done, for a schema with
        `unique` fields."""
        return self._judge(index, key_lookup, raw, every_earlier=False)

    def _judge(self, index: int, key_lookup: KeyLookup | None, raw: SourceChunk | None,
               every_earlier: bool) -> bool:
        if self.uniques:
            return False
        spill = self.parts.scratch(f"spill-{index:06d}")
        try:
            self.split._validate_part(self.parts, self.vplan, index, key_lookup, raw, spill,
                                      earlier_keys=self.keys, every_earlier=every_earlier)
        finally:
            shutil.rmtree(spill, ignore_errors=True)
        return True

    def outcome(self, index: int, staged_to: Path) -> SettledChunk:
        """Chunk `index`'s outcome in a one-run validation, once decided (and corrected, if
        its decision asked for it); its valid rows are linked or written to `staged_to`."""
        parts = self.parts
        changed = parts.has(JobParts.result(index, settled=True))
        stored = parts.get_json(JobParts.result(index, changed))
        if stored is None:
            raise RuntimeError(f"{parts.prefix}: chunk {index} has no result")
        if stored["validRows"]:
            rows = _settled_staged(index) if changed else JobParts.staged(index)
            if parts.has(rows):
                link_or_copy(parts.path(rows), staged_to)
            else:  # settled before settled staged rows were stored: its own, less the dropped
                _write_table(settled_rows(parts, index), staged_to)
        errors = parts.path(JobParts.errors(index, changed)) if stored["errorBytes"] else None
        return SettledChunk(ValidatedChunk(
            index=index, read_rows=stored["readRows"], valid_rows=stored["validRows"],
            rejected_by_code=stored["rejectedByCode"], rejected_by_field=stored["rejectedByField"],
            error_segment=None, staged_path=str(staged_to) if stored["validRows"] else None,
            healed_by_field=stored["healedByField"], warnings_by_field=stored["warningsByField"],
            header_healing=stored["headerHealing"], column_formats=stored["columnFormats"],
            header_renames=tuple(stored["headerRenames"]),
            # None: validated before row indexes were stored (the job gets no results file).
            row_index=str(parts.path(_row_index(index, changed)))
            if parts.has(_row_index(index, changed)) else None), errors)

    def _decide_keys(self, index: int) -> int:
        # Rows of a key an earlier chunk accepted are duplicates in one run; every other row's
        # outcome depends only on rows of its own key, all in this chunk. So only those rows
        # are judged again, and only the registry's answer for their keys is needed to do it:
        # it is stored with them (the hits), so any worker can judge them (ADR 0127).
        parts = self.parts
        rows, keys = _load_candidates(parts, index)
        hits = self.keys.contains(keys) if len(rows) else np.zeros(0, bool)
        accepted = _load_columns(parts, JobParts.keys(index, "accepted-keys"))
        if hits.any():
            accepted = [[c.filter(pa.array(~self.keys.contains(batch))) for c in batch]
                        for batch in accepted]
            mask = pa.array(hits)
            _store_columns(parts, JobParts.keys(index, "hits"),
                           [[pa.array(rows[hits], pa.int64()), *(c.filter(mask) for c in keys)]])
        for batch in accepted:
            self.keys.add(batch, index)
        return int(hits.sum())

    def _settle_with_uniques(self, index: int, key_lookup: KeyLookup | None) -> None:
        # With `unique` fields a row's fate depends on every row accepted before it in the
        # chunk, so a chunk touching an earlier one's keys or values is judged again whole,
        # here: what it accepts then is what the next chunk is decided against.
        parts = self.parts
        registries = [("keys", self.keys), *((f"unique-{n}", r) for n, r in self.uniques.items())]
        rows, keys = _load_candidates(parts, index)
        clash = bool(len(rows)) and bool(self.keys.contains(keys).any())
        clash = clash or any(registry.contains(columns).any()
                             for kind, registry in registries[1:]
                             for columns in _load_columns(parts, JobParts.keys(index, f"asked-{kind}")))
        if clash:
            validator = ChunkValidator(self.vplan, key_lookup, self.workdir,
                                       self.split.engine.error_value_chars)
            validator.keys = self.keys
            validator.uniques = dict(self.uniques)
            result = validator.validate(_load_raw(parts, index, self.split.engine.limits), index)
            _store_result(parts, self.vplan, index, result, settled=True,
                          row_index=_ipc_bytes(_index_table(result)))
            return
        for kind, registry in registries:
            for columns in _load_columns(parts, JobParts.keys(index, f"accepted-{kind}")):
                registry.add(columns, index)


def _key_registry(vplan: ValidationPlan, workdir: Path) -> KeyRegistry:
    by_name = {r.name: r for r in vplan.rules}
    return KeyRegistry([arrow_type(by_name[k].field) for k in vplan.key_fields], workdir, "keys")


def _correct(parts: JobParts, vplan: ValidationPlan, index: int, rows: np.ndarray,
             registry: KeyRegistry, key_lookup: KeyLookup | None, chars: int,
             limits: SourceLimits, workdir: Path) -> None:
    """Store chunk `index`'s settled outcome: its rows `rows`, whose keys `registry` holds
    (earlier chunks accepted them), judged again: once as the chunk judged them (alone), once
    against the registry, and the difference applied to the chunk's own outcome."""
    again = _load_raw(parts, index, limits, rows)
    alone = ChunkValidator(vplan, key_lookup, workdir / f"alone-{index:06d}",
                           chars).validate(again, index)
    settled_by = ChunkValidator(vplan, key_lookup, workdir, chars)
    settled_by.keys = registry
    settled = settled_by.validate(again, index)
    stored = parts.get_json(JobParts.result(index)) or {}
    if stored["validRows"]:
        table = _read_table(parts.path(JobParts.staged(index)))
        keys = [table.column(k).combine_chunks() for k in vplan.key_fields]
        # Stored whole (not as the rows dropped) so that a worker merging it renders its
        # results part from stored files alone.
        parts.put(_settled_staged(index),
                  _ipc_bytes(table.filter(pa.array(~registry.contains(keys)))))
    lines = []
    if stored["errorBytes"]:
        drop = set(rows.tolist())
        with open(parts.path(JobParts.errors(index)), encoding="utf-8") as fh:
            lines = [(json.loads(line)["rowNumber"], line) for line in fh]
        lines = [(n, line) for n, line in lines if n not in drop]
    lines += [(n, error_line(entry)) for n, entry in settled.errors]
    lines.sort(key=lambda item: item[0])
    corrected = ChunkResult(
        table=None, read_rows=stored["readRows"],
        valid_rows=stored["validRows"] - alone.valid_rows + settled.valid_rows,
        errors=[],
        rejected_by_code=_counts(stored["rejectedByCode"], alone.rejected_by_code,
                                 settled.rejected_by_code),
        rejected_by_field=_nested(stored["rejectedByField"], alone.rejected_by_field,
                                  settled.rejected_by_field),
        healed_by_field=_nested(stored["healedByField"], alone.healed_by_field,
                                settled.healed_by_field),
        warnings_by_field=_counts(stored["warningsByField"], alone.warnings_by_field,
                                  settled.warnings_by_field))
    _store_result(parts, vplan, index, corrected, "".join(line for _, line in lines),
                  settled=True, row_index=_corrected_index(parts, index, rows, settled))


def _counts(total: dict[str, int], minus: dict[str, int], plus: dict[str, int]) -> dict[str, int]:
    out = dict(total)
    for key, n in minus.items():
        out[key] = out.get(key, 0) - n
    for key, n in plus.items():
        out[key] = out.get(key, 0) + n
    return {key: n for key, n in out.items() if n}


def _nested(total: dict[str, dict[str, int]], minus: dict[str, dict[str, int]],
            plus: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    names = [*total, *(k for k in minus if k not in total), *(k for k in plus if k not in total and k not in minus)]
    out = {name: _counts(total.get(name, {}), minus.get(name, {}), plus.get(name, {}))
           for name in names}
    return {name: counts for name, counts in out.items() if counts}


def _read_table(path: Path) -> pa.Table:
    return pa.ipc.open_file(pa.memory_map(str(path))).read_all()


def _subset(chunk: SourceChunk, rows: np.ndarray) -> SourceChunk:
    """The chunk's rows numbered `rows` (well-formed or ragged), in their order."""
    wanted = np.isin(chunk.row_numbers, rows)
    numbers = set(rows.tolist())
    bad = [b for b in chunk.bad_rows if b.row_number in numbers]
    if isinstance(chunk, RecordsChunk):
        positions = np.nonzero(wanted)[0].tolist()
        repaired = set(chunk.repaired_rows)
        return RecordsChunk(row_numbers=chunk.row_numbers[wanted], bad_rows=bad,
                            markers=chunk.markers, nul=chunk.nul,
                            records=[chunk.records[i] for i in positions],
                            repaired_rows=[j for j, i in enumerate(positions) if i in repaired])
    assert isinstance(chunk, TableChunk) and chunk.batch is not None
    return TableChunk(row_numbers=chunk.row_numbers[wanted], bad_rows=bad, markers=chunk.markers,
                      nul=chunk.nul, batch=chunk.batch.filter(pa.array(wanted)))


def settled_rows(parts: JobParts, index: int) -> pa.Table:
    """Chunk `index`'s valid rows once settled: its own, less the rows settling dropped, or
    those of its validation again (a schema with `unique` fields)."""
    table = _read_table(parts.path(JobParts.staged(index))) if parts.has(JobParts.staged(index)) \
        else None
    if parts.has(JobParts.result(index, settled=True)):
        if parts.has(_settled_staged(index)):
            return _read_table(parts.path(_settled_staged(index)))
        if parts.has(JobParts.dropped(index)) and table is not None:
            # Settled before settled staged rows were stored (a job merging across an upgrade).
            dropped = _read_table(parts.path(JobParts.dropped(index))).column("row").to_numpy()
            keep = np.ones(table.num_rows, dtype=bool)
            keep[dropped] = False
            table = table.filter(pa.array(keep))
    if table is None:
        raise RuntimeError(f"{parts.prefix}: chunk {index} has no staged rows")
    return table


def _settled_staged(index: int) -> str:
    return JobParts.staged(index, settled=True)


def _row_index(index: int, settled: bool = False) -> str:
    # Numbered as one run numbers its rows: the split source is a single file, so no offset.
    return JobParts.rows(index, settled)


def _corrected_index(parts: JobParts, index: int, rows: np.ndarray,
                     settled: ChunkResult) -> bytes | None:
    """The chunk's own row index with the rows judged again (`rows`) as `settled` judged them;
    None for a chunk validated before row indexes were stored."""
    if not parts.has(_row_index(index)):
        return None
    own = _read_table(parts.path(_row_index(index)))
    kept = own.filter(pa.array(~np.isin(own.column("row_number").to_numpy(), rows)))
    merged = pa.concat_tables([kept, _index_table(settled)])
    order = np.argsort(merged.column("row_number").to_numpy(), kind="stable")
    return _ipc_bytes(merged.take(pa.array(order)))


def _index_table(result: ChunkResult) -> pa.Table:
    """The row index the one-worker engine writes for `result`, by the same function."""
    return row_index_table(*indexed_rows(result, 0))


def _store_result(parts: JobParts, vplan: ValidationPlan, index: int, result: ChunkResult,
                  error_text: str | None = None, settled: bool = False,
                  row_index: bytes | None = None) -> None:
    if result.table is not None and result.table.num_rows:
        name = _settled_staged(index) if settled else JobParts.staged(index)
        parts.put(name, _ipc_bytes(result.table))
    if error_text is None:
        error_text = "".join(error_line(entry) for _, entry in result.errors)
    errors = error_text.encode("utf-8")
    if errors:
        parts.put(JobParts.errors(index, settled), errors)
    if row_index is not None:
        parts.put(_row_index(index, settled), row_index)
    first = index == 0
    parts.put_json(JobParts.result(index, settled), {
        "readRows": result.read_rows, "validRows": result.valid_rows,
        "rejectedByCode": result.rejected_by_code, "rejectedByField": result.rejected_by_field,
        "healedByField": result.healed_by_field, "warningsByField": result.warnings_by_field,
        "headerHealing": vplan.header_healing if first else {},
        "columnFormats": vplan.column_format_labels if first else {},
        "headerRenames": list(vplan.header_renames) if first else [],
        "errorBytes": len(errors),
    })


class EarlierKeys:
    """The keys accepted by the chunks of one job before a given one, as their validations
    stored them, for a helper to judge its next chunk against (ADR 0137).

    Chunk c's stored accepted keys are the keys it accepted judged against some of the
    chunks before it; over chunks 0..n-1 they add up to exactly the keys a one-run validation
    accepted in those chunks, whichever earlier keys each was judged against. So a row of
    chunk n whose key is among them is a duplicate in one run too, and only its other rows
    can still be found to repeat a key of an earlier chunk when it is settled."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._registry: KeyRegistry | None = None
        self._chunks = 0  # the registry holds chunks 0.._chunks-1

    def below(self, parts: JobParts, vplan: ValidationPlan, index: int) -> KeyRegistry | None:
        """The keys of the validated chunks before `index` in one unbroken run from the first;
        None where they cannot be used: a schema with `unique` fields (a row's fate then
        depends on more than its key) or a chunk before those already taken in."""
        if vplan.unique_fields or index < self._chunks:
            return None
        if self._registry is None:
            self._registry = _key_registry(vplan, self.workdir)
        while self._chunks < index and parts.has(JobParts.result(self._chunks)):
            for batch in _load_columns(parts, JobParts.keys(self._chunks, "accepted-keys")):
                # A key several chunks accepted on their own is held once.
                new = pa.array(~self._registry.contains(batch))
                self._registry.add([c.filter(new) for c in batch], self._chunks)
            self._chunks += 1
        return self._registry


class _Recording:
    """A key registry that remembers what the validator asked it and what it added; with
    `keep_added` False what is added is only remembered, the registry left as it was."""

    def __init__(self, registry: KeyRegistry, keep_added: bool = True) -> None:
        self.registry = registry
        self.keep_added = keep_added
        self.asked: list[list[pa.Array]] = []
        self.accepted: list[list[pa.Array]] = []

    def __len__(self) -> int:
        return len(self.registry)

    def contains(self, columns: list[pa.Array]) -> np.ndarray:
        self.asked.append(columns)
        return self.registry.contains(columns)

    def add(self, columns: list[pa.Array], chunk: int) -> None:
        self.accepted.append(columns)
        if self.keep_added:
            self.registry.add(columns, chunk)


def _store_columns(parts: JobParts, name: str, batches: list[list[pa.Array]]) -> None:
    batches = [b for b in batches if b and len(b[0])]
    if not batches:
        parts.drop([name])  # what an earlier attempt at the same chunk may have stored
        return
    names = [f"k{i}" for i in range(len(batches[0]))]
    parts.put(name, _ipc_bytes(pa.Table.from_batches(
        [pa.record_batch(columns, names=names) for columns in batches])))


def _ipc_bytes(data: pa.Table | pa.RecordBatch) -> bytes:
    """An Arrow IPC file in memory (one chunk's worth). Not compressed: CPU, not bytes, is
    what a worker runs short of (LZ4 cost more than the writes it saved, ADR 0055)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, data.schema) as writer:
        if isinstance(data, pa.Table):
            writer.write_table(data)
        else:
            writer.write_batch(data)
    return sink.getvalue().to_pybytes()


def _write_table(table: pa.Table, path: Path) -> None:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _load_candidates(parts: JobParts, index: int) -> tuple[np.ndarray, list[pa.Array]]:
    """The row numbers and key columns of the rows whose key chunk `index` judged."""
    batches = _load_columns(parts, JobParts.keys(index, "candidates"))
    if not batches:
        return np.zeros(0, np.int64), []
    columns = batches[0]
    return (np.asarray(columns[0].to_numpy(zero_copy_only=False), dtype=np.int64),
            list(columns[1:]))


def _load_columns(parts: JobParts, name: str) -> list[list[pa.Array]]:
    if not parts.has(name):
        return []
    reader = pa.ipc.open_file(pa.memory_map(str(parts.path(name))))
    return [list(reader.get_batch(i).columns) for i in range(reader.num_record_batches)]


# -- raw chunks: a reader's SourceChunk stored as one Arrow IPC batch -------------------------

def _raw_bytes(chunk: SourceChunk | LinesOrigin) -> bytes:
    if isinstance(chunk, RecordsChunk) and chunk.origin is not None:
        chunk = chunk.origin
    if isinstance(chunk, LinesOrigin):
        # NDJSON is stored as its lines, decoded by whoever validates them, and for a
        # correction only the lines it needs (ADR 0130).
        lines = {"lineNo": chunk.line_no, "checkMarkers": chunk.check_markers,
                 "repair": chunk.repair}
        batch = pa.record_batch([pa.array([chunk.body], pa.large_binary())], names=["lines"])
        return _ipc_bytes(batch.replace_schema_metadata({_META: json.dumps({"lines": lines})}))
    meta: dict[str, Any] = {
        "markers": chunk.markers, "nul": chunk.nul,
        "badRows": [[b.row_number, b.kind, b.text, b.message,
                     None if b.cells is None else list(b.cells)] for b in chunk.bad_rows]}
    rows = pa.array(chunk.row_numbers, pa.int64())
    assert isinstance(chunk, TableChunk) and chunk.batch is not None
    batch = pa.record_batch([*chunk.batch.columns, rows],
                            schema=chunk.batch.schema.append(pa.field(_ROW, pa.int64())))
    return _ipc_bytes(batch.replace_schema_metadata({_META: json.dumps(meta)}))


def _decoded(origin: LinesOrigin, limits: SourceLimits, shape: ObjectShape | None = None) -> RecordsChunk:
    return decode_lines_block(origin, msgspec.json.Decoder(), limits, shape=shape)


def _load_raw(parts: JobParts, index: int, limits: SourceLimits, rows: np.ndarray | None = None,
              shape: ObjectShape | None = None) -> SourceChunk:
    """Raw chunk `index` as its reader gave it; with `rows`, only its rows so numbered; NDJSON
    lines decoded into `shape`'s Struct where they can be (ADR 0131)."""
    reader = pa.ipc.open_file(pa.memory_map(str(parts.path(JobParts.raw(index)))))
    batch = reader.get_batch(0)
    meta = json.loads(reader.schema.metadata[_META])
    if "lines" in meta:
        lines = meta["lines"]
        origin = LinesOrigin(batch.column(0)[0].as_py(), lines["lineNo"], lines["checkMarkers"],
                             lines["repair"])
        return _decoded(origin, limits, shape) if rows is None else \
            decode_some_lines(origin, rows, limits)
    bad = [BadRow(row_number=n, kind=k, text=t, message=m, cells=None if c is None else tuple(c))
           for n, k, t, m, c in meta["badRows"]]
    numbers = np.asarray(batch.column(batch.num_columns - 1).to_numpy(zero_copy_only=False),
                         dtype=np.int64)
    if meta.get("records"):  # NDJSON objects, as stored before lines were (ADR 0130)
        decode = msgspec.json.Decoder().decode
        records = [decode(r) for r in batch.column(0).to_pylist()]
        chunk: SourceChunk = RecordsChunk(row_numbers=numbers, bad_rows=bad,
                                          markers=meta["markers"], nul=meta["nul"],
                                          records=records, repaired_rows=meta["repaired"])
    else:
        fields = [batch.schema.field(i) for i in range(batch.num_columns - 1)]
        columns = pa.record_batch(batch.columns[:-1], schema=pa.schema(fields))
        chunk = TableChunk(row_numbers=numbers, bad_rows=bad, markers=meta["markers"],
                           nul=meta["nul"], batch=columns)
    return chunk if rows is None else _subset(chunk, rows)
