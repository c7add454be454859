"""Running a job: validate the whole source, pause or merge, complete; then call back.

The commands and reads of a job live in ImportJobs; this is the work a worker does with a job
it claimed. Safe to repeat after a crash at any point: validation re-runs deterministically and
records only chunks not yet recorded; merging skips chunks the destination's ledger holds.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from lading.application.chunk_tasks import ChunkTasks
from lading.application.dry_runs import diff_chunk
from lading.application.import_jobs import ImportJobs
from lading.application.prefetch import ahead_of, side_by_side
from lading.application.reverts import revert_chunks
from lading.application.ports import (
    BlobStore,
    CallbackSender,
    DestinationStore,
    KeyLookup,
    LedgerEntry,
    MergeCounts,
    ValidatedChunk,
    ValidationEngine,
)
from lading.application.row_results import RowResults
from lading.application.staged_copies import StagedCopies, chunk_inputs
from lading.application.job_reports import store_rejection_summary
from lading.application.skipped_rows import summarise_rejections
from lading.application.status_view import public_status
from lading.application.storage_full import STORAGE_FULL, is_storage_full
from lading.application.value_samples import ValueSamples
from lading.domain.errors import ColumnsMissing, SourceUnreadable
from lading.domain.import_job import ImportJob
from lading.domain.lifecycle import JobState, Stage
from lading.domain.plan import ImportPlan
from lading.application.proposal_inputs import staged_key_lookup
from lading.domain.proposals import propose_fixes, propose_remaps
from lading.domain.table_schema import TableSchema

ProgressCallback = Callable[[dict[str, Any]], None]
log = logging.getLogger(__name__)
# A job whose processing raised this many times fails with INTERNAL (ADR 0080).
MAX_ATTEMPTS = 3


class JobRunner:
    def __init__(self, jobs: ImportJobs, *, engine: ValidationEngine, destination: DestinationStore,
                 blobs: BlobStore, callbacks: CallbackSender | None = None,
                 max_attempts: int = MAX_ATTEMPTS,
                 profile_job: Callable[[str, UUID], Any] | None = None,
                 chunk_tasks: ChunkTasks | None = None) -> None:
        self.jobs = jobs
        # autoProfileAfterImport: profiles a completed job (JobProfiles.profile). A failure
        # there leaves the job completed; the report profiles it on first request instead.
        self.profile_job = profile_job
        # Several workers on one job's chunks (ADR 0055); None: each job is one worker's.
        self.chunk_tasks = chunk_tasks
        self.max_attempts = max_attempts
        self._callback_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lading-callbacks")
        self._callbacks_lock = threading.Lock()
        self._pending_callbacks: list[Future[Any]] = []
        self.engine = engine
        self.destination = destination
        self.blobs = blobs
        self.callbacks = callbacks
        self.results = RowResults(jobs, engine, blobs)

    def runnable_jobs(self) -> list[UUID]:
        self.jobs.projector.catch_up()
        return self.jobs.queue.runnable()

    def wait_for_work(self, timeout: float) -> None:
        """Sleep until a job may be runnable (woken early where the queue can tell)."""
        self.jobs.queue.wait(timeout)

    def work(self, *, once: bool = False, poll_seconds: float = 1.0, concurrency: int = 1,
             on_done: Callable[[UUID, str], None] = lambda job_id, state: None) -> None:
        """Be a worker: run jobs as they come (with `once`, every runnable job, then return).

        A queue that drives workers itself (procrastinate, ADR 0054) runs this runner's
        `process` per task; `once` keeps the plain pass, which also takes over jobs a dead
        worker left running without waiting for its heartbeat to expire.
        """
        run_worker = getattr(self.jobs.queue, "run_worker", None)
        if not once and run_worker is not None:
            run_worker(self, concurrency=concurrency, poll_seconds=poll_seconds)
            return
        while True:
            for job_id, state in self.run_pending():
                on_done(job_id, state)
            if once:
                return
            self.wait_for_work(poll_seconds)

    def run_pending(self) -> list[tuple[UUID, str]]:
        """Take every runnable job as far as it goes, then deliver due callbacks (one worker pass)."""
        done = []
        for job_id in self.runnable_jobs():
            try:
                state = self.process(job_id)
            except Exception:  # not even its crash could be recorded (the store is down): next pass
                log.exception("job %s could not be processed or failed", job_id)
                continue
            if state is not None:
                done.append((job_id, state))
        if self.callbacks is not None:  # cancelled jobs, and calls a dead process never made
            self._hand_off(self.deliver_callbacks)
        return done

    def process(self, job_id: UUID, on_progress: ProgressCallback | None = None) -> str | None:
        """Take the job as far as it goes: validate, then merge, then complete.

        Returns the job's state, or None when another live process holds it (or, in an
        `exclusive` workspace, runs another of its jobs).
        """
        queue = self.jobs.queue
        with queue.claim(job_id) as claimed:
            if not claimed:
                return None
            workspace = self.jobs.load(job_id).workspace
            if not self.jobs.limits.is_exclusive(workspace):
                state = self._process_or_stop(job_id, on_progress)
            else:
                # Another of the workspace's jobs is running: this one stays queued until it ends.
                with queue.claim_workspace_run(workspace) as running:
                    if not running:
                        return None
                    state = self._process_or_stop(job_id, on_progress)
        self._call_back_later(job_id)
        return state

    def help(self, job_id: UUID) -> None:
        """Work on chunks of a job another worker runs (ADR 0055); never raises."""
        if self.chunk_tasks is None:
            return
        try:
            self.chunk_tasks.help(job_id)
        except SourceUnreadable as exc:  # the file's fault: the job's own worker fails the job
            log.info("helping with job %s stopped: %s", job_id, exc)
        except Exception:  # the unit stays free: the job's own worker does it
            log.exception("helping with job %s failed", job_id)

    def deliver_callbacks(self) -> int:
        """Call the callbackUrl of every ended job not called yet (a cancelled job, or one whose
        process died before calling); return how many were called."""
        self.jobs.projector.catch_up()
        called = 0
        for job_id in self.jobs.read_models.callbacks_due():
            with self.jobs.queue.claim(UUID(job_id)) as claimed:
                if claimed and self._call_back(UUID(job_id)):
                    called += 1
        return called

    def _call_back_later(self, job_id: UUID) -> None:
        """Call back on the runner's own thread, off the job's path (ADR 0081): a receiver that
        never answers delays other callbacks, never the next job."""
        if self.callbacks is not None:
            self._hand_off(self._call_back_claimed, job_id)

    def _hand_off(self, call: Callable[..., Any], *args: Any) -> None:
        with self._callbacks_lock:
            self._pending_callbacks = [f for f in self._pending_callbacks if not f.done()]
            self._pending_callbacks.append(self._callback_thread.submit(call, *args))

    def _call_back_claimed(self, job_id: UUID) -> None:
        try:
            # Claimed only when a call is due (decided again under the claim): a claim taken
            # for nothing made the job's next run, after an approval say, find the job held.
            if not self.jobs.load(job_id).callback_due:
                return
            with self.jobs.queue.claim(job_id) as claimed:
                if claimed:
                    self._call_back(job_id)
        except Exception:  # the call stays due; the next worker pass makes it
            log.exception("calling back job %s failed", job_id)

    def wait_for_callbacks(self) -> None:
        """Return when every callback handed off so far was made (tests, and closing)."""
        with self._callbacks_lock:
            pending = list(self._pending_callbacks)
        for future in pending:
            future.result()

    def close(self) -> None:
        self._callback_thread.shutdown(wait=True)

    def _call_back(self, job_id: UUID) -> bool:
        """POST the ended job's status to its callbackUrl once, and record the outcome."""
        job = self.jobs.load(job_id)
        if not job.callback_due or self.callbacks is None or job.callback_url is None:
            return False
        outcome = self.callbacks.send(job.callback_url,
                                      public_status(self.jobs.status(job.workspace, job_id)))
        job.record_callback(outcome.delivered, outcome.attempts, outcome.detail)
        try:
            self.jobs.save(job)
        except IntegrityError:
            return False  # the job changed meanwhile (deleted); the next look decides again
        self.jobs.projector.catch_up()
        return True

    def _process_or_stop(self, job_id: UUID, on_progress: ProgressCallback | None) -> str:
        try:
            return self._process_claimed(job_id, on_progress or (lambda _: None))
        except _Interrupted:
            self.jobs.projector.catch_up()
            return str(self.jobs.load(job_id).state)
        except Exception as exc:  # containment (ADR 0080): no job can take the worker down
            return self._contain(job_id, exc)

    def _contain(self, job_id: UUID, exc: Exception) -> str:
        """Record the attempt that raised; the last one allowed fails the job with INTERNAL."""
        log.exception("processing job %s raised", job_id)
        message = f"{type(exc).__name__}: {exc}"[:500]
        # The traceback's frames hold the failed run's open files and its work claim until a
        # garbage collection; drop them now, so the next pass can claim the job again.
        exc.__traceback__ = None
        job = self.jobs.load(job_id)
        if job.state in (JobState.QUEUED, JobState.RUNNING, JobState.REVERTING):
            if is_storage_full(exc):  # a clean, coded failure at once: retrying fills it again
                job.fail(f"out of storage space: {exc}"[:500], STORAGE_FULL)
            else:
                job.record_crash(message, self.max_attempts)
            try:
                self.jobs.save(job)
            except IntegrityError:
                job = self.jobs.load(job_id)  # cancelled or deleted meanwhile
        self.jobs.projector.catch_up()
        return str(job.state)

    def _save_or_interrupt(self, job: ImportJob) -> None:
        try:
            self.jobs.save(job)
        except IntegrityError:
            # Someone else changed the job (cancel, delete): stop working on it.
            raise _Interrupted() from None

    def _process_claimed(self, job_id: UUID, on_progress: ProgressCallback) -> str:
        job = self.jobs.load(job_id)
        if job.state == JobState.REVERTING:
            revert_chunks(self.destination, self.jobs.schema_of(job.workspace, job.object_name),
                          job, self._save_or_interrupt, on_progress)
            self.jobs.projector.catch_up()
            return str(job.state)
        if job.state == JobState.QUEUED:
            job.begin_processing()
            self._save_or_interrupt(job)
            self.jobs.projector.catch_up()
        if job.state != JobState.RUNNING:
            return str(job.state)
        schema = self.jobs.schema_of(job.workspace, job.object_name)
        plan = ImportPlan.from_stored(job.plan or {})
        try:
            self.destination.ensure_object(job.workspace, job.object_name, schema)
            if job.stage == Stage.VALIDATING:
                self._validate(job, schema, plan, on_progress)
            if job.state == JobState.RUNNING and job.stage == Stage.MERGING:
                self._merge(job, schema, plan, on_progress)
                job.complete()
                self._save_or_interrupt(job)
                if job.auto_profile and self.profile_job is not None:
                    self.profile_job(job.workspace, job.id)
        except _Interrupted:
            raise
        except SourceUnreadable as exc:
            job = self.jobs.load(job_id)
            if job.state != JobState.RUNNING:
                raise _Interrupted() from None  # cancelled while its source was being opened
            if isinstance(exc, ColumnsMissing) and _can_ask_which_column(exc, job, plan):
                job.pause_for_attention(propose_remaps(exc, plan), validated=False)
            else:
                job.fail(str(exc), exc.failure_code)
            self._save_or_interrupt(job)
        self.jobs.projector.catch_up()
        return str(job.state)

    def _validate(self, job: ImportJob, schema: TableSchema, plan: ImportPlan,
                  on_progress: ProgressCallback) -> None:
        files = self.jobs.files(job)
        shutil.rmtree(files.work_dir, ignore_errors=True)  # a crashed run's partial output is redone
        files.work_dir.mkdir(parents=True)
        key_lookup: KeyLookup | None = None
        if plan.operation != "upsert":
            def key_lookup(keys: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
                return self.destination.existing_keys(job.workspace, job.object_name, schema, keys)
        already = job.validated_chunks
        samples = ValueSamples()
        split = False
        if self.chunk_tasks is not None and not job.dry_run and self.chunk_tasks.applies(job):
            # Staged rows are copied where a one-worker run puts them, for exports and proposals.
            split = self.chunk_tasks.validate(
                job, schema, plan, files.error_work_file, files.staged_chunk,
                lambda chunk: self._record_validated(job, chunk, already, on_progress, samples))
            self.chunk_tasks.forget_scratch(job)
        if not split:
            sources = self.jobs.sources(job)
            source = sources[0] if len(sources) == 1 else sources
            # Every chunk is in the shared store (if any) before the job may merge: a merge
            # resumed on another machine reads the stored copies (ADR 0122).
            with StagedCopies(self.blobs, files) as copies:
                for chunk in self.engine.validate(source, schema, plan, files.work_dir,
                                                  files.error_work_file, key_lookup):
                    expected = files.staged_chunk(chunk.index)
                    if chunk.staged_path and Path(chunk.staged_path) != expected:
                        Path(chunk.staged_path).replace(expected)
                    if chunk.row_index and Path(chunk.row_index) != files.row_index(chunk.index):
                        Path(chunk.row_index).replace(files.row_index(chunk.index))
                    copies.keep(chunk.index)
                    self._record_validated(job, chunk, already, on_progress, samples)
                copies.wait()
        error_path = files.error_work_file
        # A run re-validated after a decision (plan v2+) never pauses again (SPEC §3 Review).
        if job.plan_version <= 1 and plan.review_policy.should_pause(job.read_rows, job.invalid_rows):
            staged = [files.staged_chunk(i) for i in range(job.validated_chunks)]
            proposal = propose_fixes(
                schema, plan, _read_error_rows(error_path), job.invalid_rows, job.column_formats,
                job.valid_rows, staged_key_lookup(self.engine, staged, schema.primary_key))
            job.pause_for_attention(proposal)
        else:
            job.finish_validation()
        # The error file can be as large as the source: it is moved into the blob store, not
        # copied, so it is kept once (issue 9.12). A crash before the save re-validates anyway.
        if error_path.exists() and error_path.stat().st_size:
            store_rejection_summary(self.blobs, files.rejection_summary,
                                    summarise_rejections(error_path))
            self.blobs.move_file(files.error_file, error_path)
        with self.blobs.writer(files.value_samples) as out:
            out.write(samples.to_json().encode("utf-8"))
        self._save_or_interrupt(job)
        if split:
            assert self.chunk_tasks is not None
            self.chunk_tasks.drop_spent_parts(job, schema)
        self.jobs.projector.catch_up()

    def _record_validated(self, job: ImportJob, chunk: ValidatedChunk, already: int,
                          on_progress: ProgressCallback, samples: ValueSamples) -> None:
        samples.add(chunk)  # before the skip: a resumed run re-reads every chunk from the first
        if chunk.index < already:
            return  # recorded before a crash; re-validated only to rebuild state
        max_rows = self.jobs.limits_of(job.workspace).max_rows
        if job.read_rows + chunk.read_rows > max_rows:
            raise SourceUnreadable(f"the source has more than {max_rows:,} rows, the most a job"
                                   f" may read in workspace '{job.workspace}'", "LIMIT_ROWS")
        job.record_validated_chunk(
            chunk.index, chunk.read_rows, chunk.valid_rows, chunk.rejected_by_code,
            chunk.rejected_by_field,
            list(chunk.error_segment) if chunk.error_segment else None,
            chunk.healed_by_field, chunk.warnings_by_field, chunk.header_healing,
            chunk.column_formats, list(chunk.header_renames),
        )
        self._save_or_interrupt(job)
        on_progress({"stage": "validating", "rowsValidated": job.read_rows,
                     "invalidRows": job.invalid_rows, "bytesRead": chunk.source_bytes_read,
                     "bytesTotal": chunk.source_bytes})

    def _record_merged(self, job: ImportJob, chunk: int, counts: MergeCounts,
                       on_progress: ProgressCallback) -> None:
        job.record_merged_chunk(chunk, counts.inserts, counts.updates, counts.deletes,
                                counts.unchanged)
        self._save_or_interrupt(job)
        on_progress({"stage": "merging", "rowsValidated": job.read_rows,
                     "rowsMerged": job.merged_rows, "validRows": job.valid_rows})

    def _merge(self, job: ImportJob, schema: TableSchema, plan: ImportPlan,
               on_progress: ProgressCallback) -> None:
        files = self.jobs.files(job)
        self.jobs.ensure_collections(job)
        if (self.chunk_tasks is not None and not job.dry_run
                and self.chunk_tasks.was_split(job)):
            # Merged by several workers, each writing its chunks' results parts (ADR 0055).
            self.chunk_tasks.merge(job, schema, plan, lambda chunk, counts: self._record_merged(
                job, chunk, counts, on_progress))
            return
        def prepare(chunk: int) -> Any:
            _, staged = chunk_inputs(self.blobs, files, chunk)  # this machine's, else stored
            if staged is None:
                raise RuntimeError(f"chunk {chunk} of job {job.id} has no staged rows here")
            rows = self.engine.load_chunk(str(staged))
            return self.destination.prepare_chunk(schema, plan.operation, rows)

        self.results.write_unmerged_parts(job, schema)
        if job.dry_run:
            with ahead_of(prepare, job.chunks_to_merge, self.destination.release) as prepared:
                for chunk, rows in prepared:
                    diff_chunk(self.destination, self.blobs, files, job, schema, plan.operation,
                               chunk, rows)
                    self._save_or_interrupt(job)
            return

        def merge(chunk: int, rows: Any) -> MergeCounts:
            return self.destination.merge_chunk(
                job.workspace, job.object_name, schema, plan.operation, rows,
                LedgerEntry(job.id, job.plan_version, chunk), list_id=job.list_id,
                on_outcomes=self.results.part_writer(job, schema, chunk))

        # Chunk N+1 is prepared (converted, staged) on a second thread while chunk N merges;
        # a destination that can merges chunks side by side (ADR 0134). Each chunk's merge is
        # its own transaction with its ledger row, recorded here in the chunks' order.
        with ahead_of(prepare, job.chunks_to_merge, self.destination.release) as prepared, \
                side_by_side(merge, prepared, self.destination.merges_at_once) as merged:
            for chunk, counts in merged:
                self._record_merged(job, chunk, counts, on_progress)


def _can_ask_which_column(exc: ColumnsMissing, job: ImportJob, plan: ImportPlan) -> bool:
    """A mapped column missing, with candidates (a tie, or "did you mean"), under a review
    policy and before any decision: a person picks the column instead of the job failing."""
    return (any(exc.candidates.values()) and plan.review_policy.asks_a_person
            and job.plan_version <= 1)


class _Interrupted(Exception):
    """The job changed under the worker (cancelled or deleted)."""


def _read_error_rows(path: Path, limit: int = 5000) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if not path.exists():
        return rows
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if len(rows) >= limit:
                break
    return rows
