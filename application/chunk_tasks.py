"""One job's chunks validated and merged by several workers at once (ADR 0055).

The worker that claimed the job (the coordinator) reads the source into raw chunks, asks the
queue for helpers, and works beside them; each chunk is a unit that one live process at a time
may hold (a claim that ends with its process, so a killed worker's chunk is taken over at once).
The coordinator alone decides the chunks' keys in order (cross-chunk duplicates) as their
validations are stored, while it reads and helpers validate; the rows a decision names are
judged again by whichever worker takes that unit, and the coordinator records the chunks in
order as a one-worker run would. It later merges the same way, the destination's ledger making
each chunk's merge happen once. Only the coordinator writes the job's events.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable
from uuid import UUID, uuid4

from lading.application.import_jobs import ImportJobs
from lading.application.job_parts import JobParts, link_or_copy
from lading.application.ports import (
    DestinationStore, KeyLookup, LedgerEntry, MergeCounts, RowBatch, RowOutcomesSink, SourceFile,
    ValidatedChunk,
)
from lading.application.row_results import RowResults
from lading.domain.import_job import ImportJob
from lading.domain.lifecycle import JobState, Stage
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import TableSchema

log = logging.getLogger(__name__)
WAIT_SECONDS = 0.1  # how often a unit another process holds is looked at again
HELPER_IDLE_SECONDS = 0.05  # a helper waiting for the reader to store more chunks
READ_LAG = 2  # chunks the reader leaves to helpers before validating one itself


class WorkClock:
    """Seconds a worker spent in each kind of step of one job's call (validate, merge, wait
    for a unit held elsewhere, wait for a prepared chunk, idle for the reader), for the logs:
    where a split job's workers wait is what its speed-up depends on."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.units: dict[str, int] = {}
        self._lock = threading.Lock()  # merges running side by side add to it at once

    def add(self, name: str, began: float, units: int = 0) -> None:
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - began
            if units:
                self.units[name] = self.units.get(name, 0) + units

    def fields(self) -> dict[str, Any]:
        return {"secondsBy": {k: round(v, 2) for k, v in self.seconds.items()},
                "unitsBy": dict(self.units)}


@dataclass(frozen=True)
class SettledChunk:
    """A chunk's one-run outcome: `chunk.staged_path` a local file of its rows (or None), and
    its lines of the error file in `error_lines` (its error_segment is not set yet)."""

    chunk: ValidatedChunk
    error_lines: Path | None


class KeyDecisions(Protocol):
    def decide(self, index: int, key_lookup: KeyLookup | None) -> bool:
        """Decide chunk `index` given every earlier chunk decided before it; True when some
        of its rows are to be judged again (`SplitValidation.correct_part`) first."""
        ...

    def judge_in_order(self, index: int, key_lookup: KeyLookup | None, raw: Any) -> bool:
        """Validate chunk `index` (`raw`, this process's) against the keys every chunk before
        it, all decided, accepted, and decide it with nothing to correct; False when it cannot
        be judged so (it is then validated alone and decided later)."""
        ...

    def judge_ahead(self, index: int, key_lookup: KeyLookup | None, raw: Any) -> bool:
        """Validate chunk `index` (`raw`, this process's), some chunk before it undecided,
        against the keys the decided ones accepted; it is decided later. False when it cannot
        be judged so (it is then validated alone)."""
        ...

    def outcome(self, index: int, staged_to: Path) -> SettledChunk:
        """Chunk `index`'s one-run outcome once decided (and corrected); its valid rows are
        put at `staged_to` (a local file)."""
        ...


class SplitValidation(Protocol):
    def split(self, source: SourceFile, schema: TableSchema, plan: ImportPlan,
              parts: JobParts) -> Iterator[tuple[int, Any]]:
        """Read the source into stored raw chunks, yielding each index once stored, with the
        raw chunk (opaque) for this process to validate."""
        ...

    def validate_part(self, parts: JobParts, schema: TableSchema, plan: ImportPlan, index: int,
                      key_lookup: KeyLookup | None, raw: Any = None, earlier: Any = None) -> None:
        """Validate raw chunk `index` (`raw`, this process's) and store its outputs; `earlier`
        (from `earlier_keys`) judges it against the earlier chunks validated so far too."""
        ...

    def earlier_keys(self, parts: JobParts) -> AbstractContextManager[Any]:
        """The keys the job's earlier chunks accepted, for a worker validating several of its
        chunks in ascending order (opaque; fewer of their rows are judged again later)."""
        ...

    def correct_part(self, parts: JobParts, schema: TableSchema, plan: ImportPlan, index: int,
                     key_lookup: KeyLookup | None) -> None:
        """Judge again the rows chunk `index`'s decision named; any worker, once decided."""
        ...

    def decision(self, parts: JobParts, index: int) -> bool | None:
        """Whether chunk `index` was decided to need a correction (None: not decided yet)."""
        ...

    def spent_parts(self, parts: JobParts, schema: TableSchema, count: int) -> list[str]:
        """The parts of a job's `count` chunks that nothing reads once it is validated."""
        ...

    def settled_rows(self, parts: JobParts, index: int) -> RowBatch:
        """A settled chunk's valid rows, for merging."""
        ...

    def results_inputs(self, parts: JobParts, index: int) -> tuple[Path, Path | None]:
        """Local copies of a settled chunk's row index and its valid rows' file (None: no
        valid rows), what its part of the results file is rendered from."""
        ...

    def key_decisions(self, parts: JobParts, schema: TableSchema, plan: ImportPlan,
                      workdir: Path) -> KeyDecisions: ...


@runtime_checkable
class SharedWorkQueue(Protocol):
    """What a queue offers so that several workers share one job."""

    def claim_unit(self, job_id: UUID, unit: str) -> AbstractContextManager[bool]:
        """Hold one unit of a job's work; False while another live process holds it."""
        ...

    def request_help(self, job_id: UUID, helpers: int) -> None:
        """Ask up to `helpers` idle workers to call `help(job_id)`."""
        ...


class _Settler:
    """Settles a split job's chunks in source order as their validations are stored: decides
    each chunk's keys against the earlier chunks' (in order, here), has the rows that decision
    names judged again (a unit any worker may take), and records each chunk, with its segment
    of the error file, in order (ADR 0127). A run (resumed or not) settles from the first
    chunk again: the registry and the error file are rebuilt, and chunks recorded before a
    crash are skipped by `record`."""

    def __init__(self, tasks: "ChunkTasks", job: ImportJob, parts: JobParts, schema: TableSchema,
                 plan: ImportPlan, lookup: KeyLookup | None, error_file: Path,
                 staged_to: Callable[[int], Path], record: Callable[[ValidatedChunk], None],
                 clock: WorkClock) -> None:
        self._tasks, self._job, self._parts = tasks, job, parts
        self._schema, self._plan, self._lookup = schema, plan, lookup
        self._error_file, self._staged_to, self._record = error_file, staged_to, record
        self._clock = clock
        # Both made when the first chunk is settled: the decisions need the sample context the
        # reader stores, and a file without data rows leaves the error file to a one-worker run.
        self._decisions: KeyDecisions | None = None
        self._errors: BinaryIO | None = None
        self._workdir = parts.scratch_dir / "settled"
        self._to_correct: set[int] = set()
        self.decided = 0  # the first chunk not decided yet
        self.next = 0  # the first chunk not recorded yet

    def __enter__(self) -> "_Settler":
        shutil.rmtree(self._workdir, ignore_errors=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._errors is not None:
            self._errors.close()

    def judged_here(self, index: int, raw: Any) -> bool:
        """Validate chunk `index` here, against the keys of the chunks decided so far. The
        next to decide (a reader alone, or ahead of its helpers) is decided at once, a
        correction saved; a later one is decided in its turn, with fewer of its rows to judge
        again (ADR 0137). False when it cannot be (then it is validated alone, as a helper
        would)."""
        if index < self.decided:
            return False
        if self._decisions is None:
            self._decisions = self._tasks.split.key_decisions(self._parts, self._schema,
                                                              self._plan, self._workdir)
        if index > self.decided:
            return self._decisions.judge_ahead(index, self._lookup, raw)
        if not self._decisions.judge_in_order(index, self._lookup, raw):
            return False
        self.decided += 1
        return True

    def ready(self, below: int, leave: int = 0, wait: bool = False) -> None:
        """Decide, in order, every chunk before `below` whose validation is stored, then
        record each decided chunk in order whose correction (if it needs one) is done:
        corrections nobody holds are done here, except those of the newest `leave` decided
        chunks (left to helpers); with `wait`, those held elsewhere are waited for."""
        parts = self._parts
        while self.decided < below and parts.has(JobParts.result(self.decided)):
            if self._decisions is None:
                self._decisions = self._tasks.split.key_decisions(parts, self._schema,
                                                                  self._plan, self._workdir)
            began = time.monotonic()
            if self._decisions.decide(self.decided, self._lookup):
                self._to_correct.add(self.decided)
            self._clock.add("decide", began, 1)
            self.decided += 1
        while self.next < self.decided:
            index = self.next
            if index in self._to_correct:
                if index >= self.decided - leave and not wait:
                    return
                self._tasks.correct(self._job, parts, self._schema, self._plan, index,
                                    self._lookup, wait, self._clock)
                if not parts.has(JobParts.result(index, settled=True)):
                    return  # held elsewhere
                self._to_correct.discard(index)
            self._settle(index)
            self.next += 1

    def _settle(self, index: int) -> None:
        assert self._decisions is not None
        if self._errors is None:
            self._error_file.unlink(missing_ok=True)
            self._errors = open(self._error_file, "ab")
        began = time.monotonic()
        settled = self._decisions.outcome(index, self._staged_to(index))
        self._clock.add("settle", began, 1)
        segment = None
        if settled.error_lines is not None:
            offset = self._errors.tell()
            with open(settled.error_lines, "rb") as own:
                shutil.copyfileobj(own, self._errors)
            segment = (offset, self._errors.tell() - offset)
        chunk = settled.chunk
        files = self._tasks.jobs.files(self._job)
        if chunk.row_index is not None:  # where a one-worker run leaves it
            link_or_copy(Path(chunk.row_index), files.row_index(index))
            chunk = replace(chunk, row_index=str(files.row_index(index)))
        recording = time.monotonic()
        self._record(replace(chunk, error_segment=segment))
        self._clock.add("record", recording, 1)


class ChunkTasks:
    def __init__(self, jobs: ImportJobs, split: SplitValidation, destination: DestinationStore,
                 queue: SharedWorkQueue, results: RowResults, *, min_bytes: int,
                 helpers: int) -> None:
        self.jobs = jobs
        self.results = results
        self.split = split
        self.destination = destination
        self.queue = queue
        self.min_bytes = min_bytes
        self.helpers = helpers
        self._process = uuid4().hex[:12]  # this process's scratch directories

    def applies(self, job: ImportJob) -> bool:
        """Split a single file from this size on; a job already split stays split."""
        if job.files is not None or job.file is None:
            return False
        return job.file["size"] >= self.min_bytes or self.was_split(job)

    def was_split(self, job: ImportJob) -> bool:
        """Whether the job's chunks were read into shared parts (so any worker can merge them)."""
        read = self._parts(job).get_json(JobParts.READ_DONE)
        return read is not None and int(read["chunks"]) > 0

    def _parts(self, job: ImportJob) -> JobParts:
        files = self.jobs.files(job)
        return JobParts(self.jobs.blobs, files.parts, files.job_work_dir / f"parts-{self._process}")

    def _unit(self, job: ImportJob, name: str) -> str:
        return f"v{job.plan_version}:{name}"

    def _key_lookup(self, job: ImportJob, schema: TableSchema,
                    plan: ImportPlan) -> KeyLookup | None:
        if plan.operation == "upsert":
            return None

        def lookup(keys: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
            return self.destination.existing_keys(job.workspace, job.object_name, schema, keys)

        return lookup

    # -- validation -------------------------------------------------------------------------

    def validate(self, job: ImportJob, schema: TableSchema, plan: ImportPlan, error_file: Path,
                 staged_to: Callable[[int], Path], record: Callable[[ValidatedChunk], None]) -> bool:
        """Validate the job's file on as many workers as come; hand each chunk, settled, in
        order, with its rows in `staged_to(index)` and its segment of `error_file`, to
        `record`. False when the file has no data rows (a one-worker run then reports it)."""
        parts = self._parts(job)
        lookup = self._key_lookup(job, schema, plan)
        began = time.monotonic()
        clock = WorkClock()
        mine = 0
        with _Settler(self, job, parts, schema, plan, lookup, error_file, staged_to, record,
                      clock) as settler:
            read = parts.get_json(JobParts.READ_DONE)
            if read is None:
                self.queue.request_help(job.id, self.helpers)
                count = 0
                held: dict[int, Any] = {}
                for index, raw in self.split.split(self.jobs.sources(job)[0], schema, plan, parts):
                    count += 1
                    held[index] = raw
                    # The reader validates a chunk READ_LAG behind the newest one, leaving that
                    # window to helpers; alone, it validates every chunk while the next is
                    # parsed. It settles, in order, each chunk validated here or elsewhere, so
                    # settling goes on while helpers validate (ADR 0126).
                    behind = index - READ_LAG
                    if behind >= 0:
                        mine += self._validate_held(job, parts, schema, plan, behind,
                                                    held.pop(behind), lookup, settler, clock)
                    settler.ready(index, leave=READ_LAG)
                for index, raw in held.items():
                    settler.ready(index)
                    mine += self._validate_held(job, parts, schema, plan, index, raw, lookup,
                                                settler, clock)
                held.clear()
                parts.put_json(JobParts.READ_DONE, {"chunks": count})
            else:
                count = int(read["chunks"])
            if not count:
                return False
            read_at = time.monotonic()
            for wait in (False, True):  # first every chunk nobody holds, then the others' in turn
                for index in range(count):
                    mine += self._do(job, f"validate-{index}", wait,
                                     lambda: parts.has(JobParts.result(index)),
                                     lambda: self.split.validate_part(parts, schema, plan, index,
                                                                      lookup),
                                     clock)
                    settler.ready(count)
            validated_at = time.monotonic()
            settler.ready(count, wait=True)
            assert settler.next == count, "every chunk is validated, so every one is settled"
        log.info("split job validated", extra={
            "jobId": str(job.id), "chunks": count, "chunksValidatedHere": mine,
            "readSeconds": round(read_at - began, 2),
            "validateSeconds": round(validated_at - read_at, 2),
            "settleSeconds": round(time.monotonic() - validated_at, 2), **clock.fields()})
        return True

    def correct(self, job: ImportJob, parts: JobParts, schema: TableSchema, plan: ImportPlan,
                index: int, lookup: KeyLookup | None, wait: bool, clock: WorkClock) -> bool:
        """Do chunk `index`'s correction unless it is done (or, without `wait`, held elsewhere)."""
        return self._do(job, f"correct-{index}", wait,
                        lambda: parts.has(JobParts.result(index, settled=True)),
                        lambda: self.split.correct_part(parts, schema, plan, index, lookup), clock)

    def _validate_held(self, job: ImportJob, parts: JobParts, schema: TableSchema,
                       plan: ImportPlan, index: int, raw: Any, lookup: KeyLookup | None,
                       settler: _Settler, clock: WorkClock) -> bool:
        def validate() -> None:
            if not settler.judged_here(index, raw):
                self.split.validate_part(parts, schema, plan, index, lookup, raw)

        return self._do(job, f"validate-{index}", False, lambda: parts.has(JobParts.result(index)),
                        validate, clock)

    # -- merging ----------------------------------------------------------------------------

    def merge(self, job: ImportJob, schema: TableSchema, plan: ImportPlan,
              record: Callable[[int, MergeCounts], None]) -> None:
        """Merge every chunk waiting, beside any helpers; `record` each chunk's counts in order."""
        parts = self._parts(job)
        self.results.write_unmerged_parts(
            job, schema, lambda chunk: self.split.results_inputs(parts, chunk)[0])
        waiting = list(job.chunks_to_merge)
        if not waiting:
            return
        self.queue.request_help(job.id, self.helpers)
        done: dict[int, MergeCounts] = {}

        def merged(chunk: int) -> bool:
            if chunk not in done:
                done.update(self.destination.merged_chunks(job.id, job.plan_version))
            return chunk in done

        began = time.monotonic()
        clock = WorkClock()
        mine = self._merge_free(job, schema, plan, waiting, merged, clock)
        recorded = 0
        for chunk in waiting:  # then the others' in turn (or ours, if their holder died)
            if self._do(job, f"merge-{chunk}", True, lambda: merged(chunk),
                        lambda: self._merge_one(job, schema, plan, chunk), clock):
                mine += 1
                merged(chunk)  # its ledger entry, to record
            while recorded < len(waiting) and waiting[recorded] in done:
                record(waiting[recorded], done[waiting[recorded]])
                recorded += 1
        log.info("split job merged", extra={
            "jobId": str(job.id), "chunks": len(waiting), "chunksMergedHere": mine,
            "mergeSeconds": round(time.monotonic() - began, 2), **clock.fields()})

    def _merge_free(self, job: ImportJob, schema: TableSchema, plan: ImportPlan,
                    chunks: list[int], merged: Callable[[int], bool], clock: WorkClock) -> int:
        """Merge every chunk of `chunks` nobody holds or merged, the next one prepared (read,
        converted, staged) on a second thread while one merges, as a one-worker run does;
        return how many were merged here. While no other worker is seen on the job (a unit
        held or merged elsewhere), as many merge at once as the destination can take (ADR
        0134); from then on one at a time, since the others merge beside this one."""
        parts = self._parts(job)
        remaining = iter(chunks)
        alone = True

        def prepare(chunk: int) -> Any:
            rows = self.split.settled_rows(parts, chunk)
            return self.destination.prepare_chunk(schema, plan.operation, rows)

        def next_claimed(pool: ThreadPoolExecutor) -> tuple[int, ExitStack, Future[Any]] | None:
            nonlocal alone
            for chunk in remaining:
                claim = ExitStack()
                unit = self.queue.claim_unit(job.id, self._unit(job, f"merge-{chunk}"))
                if not merged(chunk) and claim.enter_context(unit) and not merged(chunk):
                    return chunk, claim, pool.submit(prepare, chunk)
                claim.close()
                alone = False
            return None

        def merge(chunk: int, prepared: Any) -> None:
            merging = time.monotonic()
            self.destination.merge_chunk(
                job.workspace, job.object_name, schema, plan.operation, prepared,
                LedgerEntry(job.id, job.plan_version, chunk), list_id=job.list_id,
                on_outcomes=self._part_writer(job, schema, parts, chunk, clock))
            clock.add("merge", merging, 1)

        count = 0
        running: deque[tuple[ExitStack, Future[None]]] = deque()
        at_most = max(1, self.destination.merges_at_once)
        with ThreadPoolExecutor(1, thread_name_prefix="lading-prepare") as preparing, \
                ThreadPoolExecutor(at_most, thread_name_prefix="lading-merge") as merges:
            current = next_claimed(preparing)
            try:
                while current is not None:
                    chunk, claim, future = current
                    current = None
                    try:
                        waited = time.monotonic()
                        prepared = future.result()
                        clock.add("wait-prepare", waited)
                    except BaseException:
                        claim.close()
                        raise
                    running.append((claim, merges.submit(merge, chunk, prepared)))
                    current = next_claimed(preparing)
                    at_once = at_most if alone else 1
                    while running and (current is None or len(running) >= at_once):
                        held, done = running.popleft()
                        with held:  # the unit is given back once its merge has ended
                            done.result()
                        count += 1
            finally:
                for held, done in running:  # a merge failed: the others end, then give back
                    with held:
                        wait([done])
                if current is not None:  # prepared ahead, never merged: give it back
                    _, claim, future = current
                    with claim:
                        if future.exception() is None:
                            self.destination.release(future.result())
        return count

    def _merge_one(self, job: ImportJob, schema: TableSchema, plan: ImportPlan,
                   chunk: int) -> None:
        parts = self._parts(job)
        rows = self.split.settled_rows(parts, chunk)
        prepared = self.destination.prepare_chunk(schema, plan.operation, rows)
        self.destination.merge_chunk(job.workspace, job.object_name, schema, plan.operation,
                                     prepared, LedgerEntry(job.id, job.plan_version, chunk),
                                     list_id=job.list_id,
                                     on_outcomes=self._part_writer(job, schema, parts, chunk))

    def _part_writer(self, job: ImportJob, schema: TableSchema, parts: JobParts,
                     chunk: int, clock: WorkClock | None = None) -> RowOutcomesSink:
        # From the stored parts, not the coordinator's files: any worker merges any chunk.
        row_index, staged = self.split.results_inputs(parts, chunk)
        write = self.results.part_writer(job, schema, chunk, row_index, staged)
        if clock is None:
            return write

        def timed(outcomes: list[str]) -> None:  # inside the merge's transaction
            began = time.monotonic()
            write(outcomes)
            clock.add("results-part", began)
        return timed

    # -- units ------------------------------------------------------------------------------

    def _do(self, job: ImportJob, name: str, wait: bool, done: Callable[[], bool],
            work: Callable[[], None], clock: WorkClock) -> bool:
        """Do the unit unless it is done; held elsewhere, wait for it to be done (or with
        `wait` False, leave it). True when this process did it."""
        kind = name.split("-", 1)[0]
        while not done():
            with self.queue.claim_unit(job.id, self._unit(job, name)) as mine:
                if mine:
                    if done():
                        return False
                    began = time.monotonic()
                    work()
                    clock.add(kind, began, 1)
                    return True
            if not wait:
                return False
            began = time.monotonic()
            time.sleep(WAIT_SECONDS)  # its holder finishes it, or dies and leaves it to us
            clock.add(f"wait-{kind}", began)
        return False

    def help(self, job_id: UUID) -> None:
        """A helper's turn: do the job's chunks nobody holds, in the stage it is in."""
        job = self.jobs.load(job_id)
        if job.state != JobState.RUNNING or not self.applies(job):
            return
        began, clock, stage = time.monotonic(), WorkClock(), job.stage
        try:
            self._help(job, clock)
        finally:
            log.info("split job helped", extra={
                "jobId": str(job_id), "stage": str(stage),
                "seconds": round(time.monotonic() - began, 2), **clock.fields()})

    def _help(self, job: ImportJob, clock: WorkClock) -> None:
        schema = self.jobs.schema_of(job.workspace, job.object_name)
        plan = ImportPlan.from_stored(job.plan or {})
        if job.stage == Stage.MERGING:
            if self.was_split(job):
                self._merge_free(job, schema, plan, job.chunks_to_merge, lambda chunk: chunk in
                                 self.destination.merged_chunks(job.id, job.plan_version), clock)
            return
        parts = self._parts(job)
        with self.split.earlier_keys(parts) as earlier:
            self._help_validate(job, parts, schema, plan, earlier, clock)

    def _help_validate(self, job: ImportJob, parts: JobParts, schema: TableSchema,
                       plan: ImportPlan, earlier: Any, clock: WorkClock) -> None:
        job_id = job.id
        lookup = self._key_lookup(job, schema, plan)
        index = 0  # the next chunk to validate
        fix = 0  # the next chunk whose decision may ask for a correction
        while job.stage == Stage.VALIDATING:
            read = parts.get_json(JobParts.READ_DONE)
            if read is not None and index >= int(read["chunks"]) and fix >= int(read["chunks"]):
                return
            if parts.has(JobParts.raw(index)):
                self._do(job, f"validate-{index}", False,
                         lambda: parts.has(JobParts.result(index)),
                         lambda: self.split.validate_part(parts, schema, plan, index, lookup,
                                                          earlier=earlier),
                         clock)
                index += 1
                continue
            decided = self.split.decision(parts, fix) if fix < index else None
            if decided is not None:
                if decided:
                    self.correct(job, parts, schema, plan, fix, lookup, False, clock)
                fix += 1
                continue
            job = self.jobs.load(job_id)
            if job.state != JobState.RUNNING or self._reader_gone(job_id):
                # Cancelled, failed, or its reader died: a helper waiting here would hold a
                # worker the job's retried task needs, so it leaves (the reader asks again).
                return
            idle = time.monotonic()
            time.sleep(HELPER_IDLE_SECONDS)
            clock.add("idle", idle)

    def _reader_gone(self, job_id: UUID) -> bool:
        """Whether no live process holds the job (so nobody is reading its source)."""
        with self.jobs.queue.claim(job_id) as free:
            return free

    def drop_spent_parts(self, job: ImportJob, schema: TableSchema) -> None:
        """Once the job's validation is saved, remove what only validating it read: the raw
        chunks alone are as large as the source."""
        parts = self._parts(job)
        read = parts.get_json(JobParts.READ_DONE)
        if read is not None:
            parts.drop(self.split.spent_parts(parts, schema, int(read["chunks"])))

    def forget_scratch(self, job: ImportJob) -> None:
        """Drop this process's local copies of the job's parts (the store keeps them)."""
        shutil.rmtree(self._parts(job).scratch_dir, ignore_errors=True)
