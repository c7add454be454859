"""The ImportJob aggregate: every state change of a job is one of its events.

Public methods are commands: each checks the lifecycle table, then triggers a past-tense event
whose handler (the decorated private method) is the only code that changes state. Replaying the
stored events therefore rebuilds exactly the same job. Events carry counts and references only.

Each event is declared as a class with typed fields just above its handler: together they are
the published schema of what is stored (EVENTS below; ADR 0008 says how a shape may change).
"""

from __future__ import annotations

import sys
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from lading.domain.errors import TransitionNotAllowed
from lading.domain.lifecycle import (
    ALLOWED,
    REQUIRED_STAGE,
    TERMINAL_STATES,
    JobState,
    Stage,
)


def _add_counts(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    merged = dict(total)
    for key, n in more.items():
        merged[key] = merged.get(key, 0) + n
    return merged


def _add_nested(total: dict[str, dict[str, int]],
                more: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    merged = {k: dict(v) for k, v in total.items()}
    for outer, inner in more.items():
        merged[outer] = _add_counts(merged.get(outer, {}), inner)
    return merged


class ImportJob(Aggregate):
    # Its blobs were purged (BlobsPurged): no source, error file or valid rows to hand out.
    # A class default, so snapshots taken before the attribute existed still read.
    purged = False

    class Created(Aggregate.Created):
        workspace: str
        object_name: str
        file_name: str | None
        file_size: int | None
        source: str | None = None
        labels: list[str] | None = None
        idempotency_key: str | None = None
        inline_rows: bool = False
        list_id: str | None = None
        list_name: str | None = None
        callback_url: str | None = None
        concurrency_scope: str | None = None
        # A source of several files, uploaded one by one: [{fileName, fileSize}] in reading order.
        expected_files: list[dict[str, Any]] | None = None
        audience_id: str | None = None
        audience_name: str | None = None
        auto_profile: bool = False
        dry_run_of: str | None = None

    @event(Created)
    def __init__(
        self,
        workspace: str,
        object_name: str,
        file_name: str | None,
        file_size: int | None,
        source: str | None = None,
        labels: list[str] | None = None,
        idempotency_key: str | None = None,
        inline_rows: bool = False,
        list_id: str | None = None,
        list_name: str | None = None,
        callback_url: str | None = None,
        concurrency_scope: str | None = None,
        expected_files: list[dict[str, Any]] | None = None,
        audience_id: str | None = None,
        audience_name: str | None = None,
        auto_profile: bool = False,
        dry_run_of: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.object_name = object_name
        self.file_name = file_name
        self.source = source
        self.labels = list(labels or [])
        self.idempotency_key = idempotency_key
        self.inline_rows = inline_rows
        # The list this job's merged keys go to (SPEC: createList / targetListId); a name
        # only when the job creates the list.
        self.list_id = list_id
        self.list_name = list_name
        # The dynamic audience of the records whose last write came from this job (SPEC §4).
        self.audience_id = audience_id
        self.audience_name = audience_name
        # Profile what the job imported once it completes (autoProfileAfterImport).
        self.auto_profile = auto_profile
        # Where the final status is POSTed once the job ends (pending -> delivered | failed).
        self.callback_url = callback_url
        self.callback_state: str | None = "pending" if callback_url else None
        # While this job is not terminal, no other job of the workspace with the same scope
        # may be created (one import at a time per key or per configuration).
        self.concurrency_scope = concurrency_scope
        self.state = JobState.PENDING
        self.stage: Stage | None = None
        self.file: dict[str, Any] | None = None
        self.plan: dict[str, Any] | None = None
        self.plan_version = 0
        self.error_message: str | None = None
        self.error_code: str | None = None
        self.proposal: dict[str, Any] | None = None
        # Several files read in order as one source ({blobKey, size, sha256, fileName} each);
        # None for a single file (self.file alone).
        self.files: list[dict[str, Any]] | None = None
        # Several files announced at creation and uploaded one by one (receive_part): the job
        # holds its source once every one has arrived.
        self.expected_files = [dict(f) for f in expected_files] if expected_files else None
        self.parts: dict[int, dict[str, Any]] = {}
        # A cohort: a job created without data whose status its client declares until data
        # arrives (then Lading's state decides), with the row count the client expects.
        self.declared_status: str | None = None
        self.expected_rows: int | None = None
        # A dry run writes nothing and reports a diff; `dry_run_of` names the dry run a job
        # applies (SPEC §8).
        self.dry_run = False
        self.dry_run_of = dry_run_of
        self.reverted_chunks: list[int] = []
        self._reset_run()

    def _reset_run(self) -> None:
        self.crashes = 0
        self.read_rows = 0
        self.valid_rows = 0
        self.invalid_rows = 0
        self.rejected_by_code: dict[str, int] = {}
        self.rejected_by_field: dict[str, dict[str, int]] = {}
        self.healed_by_field: dict[str, dict[str, int]] = {}
        self.warnings_by_field: dict[str, int] = {}
        self.header_healing: dict[str, str] = {}
        self.header_renames: list[dict[str, Any]] = []
        self.column_formats: dict[str, str] = {}
        self.error_segments: list[list[int]] = []
        self.validated_chunks = 0
        # Every source row has its outcome (valid or in the error file) for this plan version.
        self.source_validated = False
        self.chunks_with_rows: list[int] = []
        self.total_chunks: int | None = None
        self.merged_chunks: list[int] = []
        self.merged_inserts = 0
        self.merged_updates = 0
        self.merged_deletes = 0
        self.merged_unchanged = 0
        self.diff_counts: dict[str, int] = {}
        self.diff_sample_chunks: list[int] = []
        self.diff_samples_taken: dict[str, int] = {}

    # -- guards ---------------------------------------------------------------------------

    def _require(self, command: str, reason_if: str | None = None) -> None:
        if self.state not in ALLOWED[command]:
            raise TransitionNotAllowed(self.state, command, self._missing_for(command))
        stage = REQUIRED_STAGE.get(command)
        if stage is not None and self.stage != stage:
            raise TransitionNotAllowed(self.state, command, f"stage is {self.stage}, not {stage}")
        if reason_if:
            raise TransitionNotAllowed(self.state, command, reason_if)

    def check_allowed(self, command: str) -> None:
        """Raise the lifecycle's refusal unless the job's state allows `command` now."""
        self._require(command)

    def check_takes_file(self) -> None:
        """Raise unless a file may be attached now (pending or ready, and not an inline-rows job)."""
        self._require("receive_file", "it was created with inline rows" if self.inline_rows else None)

    def _missing_for(self, command: str) -> str | None:
        """What a pending job still needs before `start`, said as the next step to take."""
        if command != "start" or self.state != JobState.PENDING:
            return None
        if self.file is None and self.plan is None:
            return "upload the file and set a mapping first"
        return "upload the file first" if self.file is None else "set a mapping first"

    @property
    def rows_validated(self) -> bool:
        """Whether every row of the current plan has its outcome (validation finished)."""
        return self.total_chunks is not None

    @property
    def is_deleted(self) -> bool:
        return self.state == JobState.DELETED

    # -- commands -------------------------------------------------------------------------

    def receive_file(self, blob_key: str, size: int, sha256: str, file_name: str) -> None:
        self._require("receive_file",
                      "it was created with inline rows" if self.inline_rows and self.file else None)
        self._file_received(blob_key=blob_key, size=size, sha256=sha256, file_name=file_name)

    class FileReceived(Aggregate.Event):
        blob_key: str
        size: int
        sha256: str
        file_name: str

    @event(FileReceived)
    def _file_received(self, blob_key: str, size: int, sha256: str, file_name: str) -> None:
        self.file = {"blobKey": blob_key, "size": size, "sha256": sha256}
        self.files = None
        self.purged = False
        self.file_name = file_name
        if self.plan is not None:
            self.state = JobState.READY

    def receive_files(self, files: list[dict[str, Any]]) -> None:
        """Take several files, read in this order as one source (each {blobKey, size, sha256,
        fileName}); like receive_file, it replaces any source received before."""
        self._require("receive_file", "it was created with inline rows" if self.inline_rows else None)
        if not files:
            self._require("receive_file", "a source needs at least one file")
        self._files_received(files=[dict(f) for f in files])

    class FilesReceived(Aggregate.Event):
        files: list[dict[str, Any]]

    @event(FilesReceived)
    def _files_received(self, files: list[dict[str, Any]]) -> None:
        self._hold_files(files)

    def receive_part(self, index: int, blob_key: str, size: int, sha256: str) -> None:
        """One of the announced files arrived (0-based, in reading order); once every one is
        in, the job holds them as its source, exactly as receive_files would."""
        expected = getattr(self, "expected_files", None)
        self._require("receive_file", None if expected else "it was not created for several files")
        if not 0 <= index < len(expected or []):
            self._require("receive_file", f"it has no file number {index + 1}")
        self._part_received(index=index, blob_key=blob_key, size=size, sha256=sha256)

    class FilePartReceived(Aggregate.Event):
        index: int
        blob_key: str
        size: int
        sha256: str

    @event(FilePartReceived)
    def _part_received(self, index: int, blob_key: str, size: int, sha256: str) -> None:
        expected = self.expected_files or []
        self.parts = {**getattr(self, "parts", {}),
                      index: {"blobKey": blob_key, "size": size, "sha256": sha256}}
        if len(self.parts) == len(expected):
            self._hold_files([{**self.parts[i], "fileName": f["fileName"]}
                              for i, f in enumerate(expected)])

    def _hold_files(self, files: list[dict[str, Any]]) -> None:
        first = files[0]
        self.file = {"blobKey": first["blobKey"], "size": sum(f["size"] for f in files),
                     "sha256": first["sha256"]}
        self.files = files
        self.purged = False
        self.file_name = first["fileName"]
        if self.plan is not None:
            self.state = JobState.READY

    def declare_status(self, status: str | None, expected_rows: int | None = None) -> None:
        """The client's word for a cohort that holds no data yet; each change is recorded."""
        self._require("declare_status",
                      "it holds data, so its status is Lading's" if self.file is not None else None)
        self._status_declared(status=status, expected_rows=expected_rows)

    class StatusDeclared(Aggregate.Event):
        status: str | None
        expected_rows: int | None = None

    @event(StatusDeclared)
    def _status_declared(self, status: str | None, expected_rows: int | None = None) -> None:
        if status is not None:
            self.declared_status = status
        if expected_rows is not None:
            self.expected_rows = expected_rows

    def map(self, plan: dict[str, Any]) -> None:
        """Set the plan (an ImportPlan.to_dict(), already checked against the schema)."""
        self._require("map")
        self._mapped(plan=plan)

    class Mapped(Aggregate.Event):
        plan: dict[str, Any]

    @event(Mapped)
    def _mapped(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.plan_version = 1
        if self.file is not None:
            self.state = JobState.READY

    def start(self, dry_run: bool = False) -> None:
        self._require("start")
        self._started(dry_run=dry_run)

    class Started(Aggregate.Event):
        dry_run: bool = False

    @event(Started)
    def _started(self, dry_run: bool = False) -> None:
        self.state = JobState.QUEUED
        self.dry_run = dry_run

    def begin_processing(self) -> None:
        self._require("begin_processing")
        self._processing_started(plan_version=self.plan_version)

    class ProcessingStarted(Aggregate.Event):
        plan_version: int

    @event(ProcessingStarted)
    def _processing_started(self, plan_version: int) -> None:
        self.state = JobState.RUNNING
        self.stage = Stage.VALIDATING
        self._reset_run()

    def record_validated_chunk(
        self,
        chunk: int,
        read_rows: int,
        valid_rows: int,
        rejected_by_code: dict[str, int],
        rejected_by_field: dict[str, dict[str, int]],
        error_segment: list[int] | None,
        healed_by_field: dict[str, dict[str, int]] | None = None,
        warnings_by_field: dict[str, int] | None = None,
        header_healing: dict[str, str] | None = None,
        column_formats: dict[str, str] | None = None,
        header_renames: list[dict[str, Any]] | None = None,
    ) -> None:
        """Record one validated chunk: a ChunkValidated, and a RowsRejected when it rejected rows.

        `header_renames`: every mapped column found under another name (column, mapped, field,
        reason, score), on the first chunk of each file."""
        if chunk != self.validated_chunks:
            self._require("record_validated_chunk", f"expected chunk {self.validated_chunks}, got {chunk}")
        self._require("record_validated_chunk")
        invalid = read_rows - valid_rows
        if invalid < 0 or sum(rejected_by_code.values()) != invalid:
            self._require("record_validated_chunk", "rejected counts do not add up to invalid rows")
        self._chunk_validated(
            plan_version=self.plan_version,
            chunk=chunk,
            read_rows=read_rows,
            valid_rows=valid_rows,
            rejected_by_field=rejected_by_field,
            healed_by_field=healed_by_field or {},
            warnings_by_field=warnings_by_field or {},
            header_healing=header_healing or {},
            column_formats=column_formats or {},
            header_renames=list(header_renames or []),
        )
        if invalid:
            self._rows_rejected(
                plan_version=self.plan_version,
                chunk=chunk,
                counts=rejected_by_code,
                error_segment=list(error_segment) if error_segment else None,
            )

    class ChunkValidated(Aggregate.Event):
        plan_version: int
        chunk: int
        read_rows: int
        valid_rows: int
        rejected_by_field: dict[str, dict[str, int]]
        healed_by_field: dict[str, dict[str, int]]
        warnings_by_field: dict[str, int]
        header_healing: dict[str, str]
        column_formats: dict[str, str]
        header_renames: list[dict[str, Any]] | None = None  # none in events stored before them

    @event(ChunkValidated)
    def _chunk_validated(
        self,
        plan_version: int,
        chunk: int,
        read_rows: int,
        valid_rows: int,
        rejected_by_field: dict[str, dict[str, int]],
        healed_by_field: dict[str, dict[str, int]],
        warnings_by_field: dict[str, int],
        header_healing: dict[str, str],
        column_formats: dict[str, str],
        header_renames: list[dict[str, Any]] | None = None,
    ) -> None:
        self.validated_chunks += 1
        self.read_rows += read_rows
        self.valid_rows += valid_rows
        if valid_rows:
            self.chunks_with_rows = [*self.chunks_with_rows, chunk]
        self.rejected_by_field = _add_nested(self.rejected_by_field, rejected_by_field)
        self.healed_by_field = _add_nested(self.healed_by_field, healed_by_field)
        self.warnings_by_field = _add_counts(self.warnings_by_field, warnings_by_field)
        self.header_healing = {**self.header_healing, **header_healing}
        self.column_formats = {**self.column_formats, **column_formats}
        self.header_renames = [*self.header_renames, *(header_renames or [])]

    class RowsRejected(Aggregate.Event):
        plan_version: int
        chunk: int
        counts: dict[str, int]
        error_segment: list[int] | None

    @event(RowsRejected)
    def _rows_rejected(
        self,
        plan_version: int,
        chunk: int,
        counts: dict[str, int],
        error_segment: list[int] | None,
    ) -> None:
        self.invalid_rows += sum(counts.values())
        self.rejected_by_code = _add_counts(self.rejected_by_code, counts)
        if error_segment:
            self.error_segments = [*self.error_segments, list(error_segment)]

    def finish_validation(self) -> None:
        self._require("finish_validation")
        self._validation_finished(plan_version=self.plan_version, chunks=self.validated_chunks)

    class ValidationFinished(Aggregate.Event):
        plan_version: int
        chunks: int

    @event(ValidationFinished)
    def _validation_finished(self, plan_version: int, chunks: int) -> None:
        self.total_chunks = chunks
        self.stage = Stage.MERGING
        self.source_validated = True

    def pause_for_attention(self, proposal: dict[str, Any], validated: bool = True) -> None:
        """Wait for a person's decision: on the validated rows' proposal, or (`validated`
        False) before the rows could be read, e.g. on which of two columns a field is."""
        self._require("pause_for_attention")
        self._attention_needed(plan_version=self.plan_version, proposal=proposal,
                               validated=validated)

    class AttentionNeeded(Aggregate.Event):
        plan_version: int
        proposal: dict[str, Any]
        validated: bool = True  # every pause stored before this field followed a validation

    @event(AttentionNeeded)
    def _attention_needed(self, plan_version: int, proposal: dict[str, Any],
                          validated: bool = True) -> None:
        self.state = JobState.NEEDS_ATTENTION
        self.stage = None
        self.proposal = proposal
        self.source_validated = validated

    def approve_fix(self, plan: dict[str, Any]) -> None:
        """Accept a (possibly edited) proposal as the new plan; the job re-validates."""
        self._require("approve_fix")
        self._fix_approved(plan=plan, plan_version=self.plan_version + 1)

    class FixApproved(Aggregate.Event):
        plan: dict[str, Any]
        plan_version: int

    @event(FixApproved)
    def _fix_approved(self, plan: dict[str, Any], plan_version: int) -> None:
        self.plan = plan
        self.plan_version = plan_version
        self.proposal = None
        self.state = JobState.QUEUED

    @property
    def merged_rows(self) -> int:
        return self.merged_inserts + self.merged_updates + self.merged_unchanged + self.merged_deletes

    def record_merged_chunk(self, chunk: int, inserts: int, updates: int, deletes: int,
                            unchanged: int = 0) -> None:
        if chunk in self.merged_chunks or chunk not in self.chunks_with_rows:
            self._require("record_merged_chunk", f"chunk {chunk} is not waiting to be merged")
        self._require("record_merged_chunk", "a dry run writes nothing" if self.dry_run else None)
        self._chunk_merged(
            plan_version=self.plan_version, chunk=chunk, inserts=inserts, updates=updates, deletes=deletes,
            unchanged=unchanged,
        )

    class ChunkMerged(Aggregate.Event):
        plan_version: int
        chunk: int
        inserts: int
        updates: int
        deletes: int
        unchanged: int = 0  # events stored before mergedUnchanged existed have none

    @event(ChunkMerged)
    def _chunk_merged(
        self,
        plan_version: int,
        chunk: int,
        inserts: int,
        updates: int,
        deletes: int,
        unchanged: int = 0,
    ) -> None:
        self.merged_chunks = [*self.merged_chunks, chunk]
        self.merged_inserts += inserts
        self.merged_updates += updates
        self.merged_deletes += deletes
        self.merged_unchanged += unchanged

    @property
    def chunks_to_merge(self) -> list[int]:
        return [c for c in self.chunks_with_rows if c not in self.merged_chunks]

    def complete(self) -> None:
        if self.chunks_to_merge:
            self._require("complete", f"chunks {self.chunks_to_merge} are not merged yet")
        self._require("complete")
        self._completed()

    class Completed(Aggregate.Event):
        pass

    @event(Completed)
    def _completed(self) -> None:
        self.state = JobState.COMPLETED
        self.stage = None

    def fail(self, error_message: str, error_code: str = "SOURCE_UNREADABLE") -> None:
        self._require("fail")
        if self.state == JobState.REVERTING:
            # The destination keeps the chunks undone so far: neither the job's result nor what
            # was there before it (ADR 0098).
            error_message = (
                f"the revert stopped after {len(self.reverted_chunks)} of"
                f" {len(self.merged_chunks)} chunks, so the destination is partly reverted:"
                f" {error_message}")
        self._failed(error_message=error_message, error_code=error_code)

    class Failed(Aggregate.Event):
        error_message: str
        error_code: str = "SOURCE_UNREADABLE"

    @event(Failed)
    def _failed(self, error_message: str, error_code: str = "SOURCE_UNREADABLE") -> None:
        self.state = JobState.FAILED
        self.stage = None
        self.error_message = error_message
        self.error_code = error_code

    def record_crash(self, error_message: str, max_attempts: int) -> None:
        """An exception escaped this run's processing: count the attempt; the last one allowed
        fails the job with `INTERNAL` (ADR 0080), so no job can crash a worker for ever."""
        self._require("record_crash")
        attempt = self.crashes + 1
        self._processing_crashed(plan_version=self.plan_version, attempt=attempt,
                                 error_message=error_message)
        if attempt >= max_attempts:
            self.fail(error_message, "INTERNAL")

    class ProcessingCrashed(Aggregate.Event):
        plan_version: int
        attempt: int
        error_message: str

    @event(ProcessingCrashed)
    def _processing_crashed(self, plan_version: int, attempt: int, error_message: str) -> None:
        self.crashes = attempt

    def cancel(self) -> None:
        self._require("cancel")
        self._cancelled()

    class Cancelled(Aggregate.Event):
        pass

    @event(Cancelled)
    def _cancelled(self) -> None:
        self.state = JobState.CANCELLED
        self.stage = None

    def delete(self) -> None:
        self._require("delete")
        self._deleted()

    class Deleted(Aggregate.Event):
        pass

    @event(Deleted)
    def _deleted(self) -> None:
        self.state = JobState.DELETED
        self.stage = None

    def purge_blobs(self) -> None:
        """Its files were removed (retention, or a job abandoned before it started): the
        history stays, and a job never started needs a new file before it can start."""
        self._require("purge_blobs")
        self._blobs_purged()

    class BlobsPurged(Aggregate.Event):
        pass

    @event(BlobsPurged)
    def _blobs_purged(self) -> None:
        self.purged = True
        if self.state in (JobState.PENDING, JobState.READY):
            self.file = None
            self.files = None
            self.state = JobState.PENDING

    @property
    def callback_due(self) -> bool:
        return self.callback_state == "pending" and self.state in TERMINAL_STATES

    def record_callback(self, delivered: bool, attempts: int, detail: str) -> None:
        """The outcome of POSTing the final status to callbackUrl (`detail`: the HTTP status
        or the error); recorded once, after the job ended."""
        self._require("record_callback", None if self.callback_due else "no callback is due")
        if delivered:
            self._callback_delivered(attempts=attempts, detail=detail)
        else:
            self._callback_failed(attempts=attempts, detail=detail)

    class CallbackDelivered(Aggregate.Event):
        attempts: int
        detail: str

    @event(CallbackDelivered)
    def _callback_delivered(self, attempts: int, detail: str) -> None:
        self.callback_state = "delivered"

    class CallbackFailed(Aggregate.Event):
        attempts: int
        detail: str

    @event(CallbackFailed)
    def _callback_failed(self, attempts: int, detail: str) -> None:
        self.callback_state = "failed"

    def edit_metadata(
        self, source: str | None = None, labels: list[str] | None = None, file_name: str | None = None
    ) -> None:
        self._require("edit_metadata")
        self._metadata_edited(source=source, labels=labels, file_name=file_name)

    class MetadataEdited(Aggregate.Event):
        source: str | None
        labels: list[str] | None
        file_name: str | None

    @event(MetadataEdited)
    def _metadata_edited(
        self,
        source: str | None,
        labels: list[str] | None,
        file_name: str | None,
    ) -> None:
        if source is not None:
            self.source = source
        if labels is not None:
            self.labels = list(labels)
        if file_name is not None:
            self.file_name = file_name

    # -- dry run and revert (SPEC §8; ADR 0093, 0094) ---------------------------------------

    def record_diffed_chunk(self, chunk: int, inserts: int, updates: int, deletes: int,
                            unchanged: int, samples: dict[str, int] | None = None) -> None:
        """A dry run's chunk: what merging it would have done, counted against the destination
        and written nothing; `samples` says how many sample rows of each kind its blob holds."""
        if chunk in self.merged_chunks or chunk not in self.chunks_with_rows:
            self._require("record_diffed_chunk", f"chunk {chunk} is not waiting to be merged")
        self._require("record_diffed_chunk", None if self.dry_run else "the job is not a dry run")
        self._chunk_diffed(plan_version=self.plan_version, chunk=chunk, inserts=inserts,
                           updates=updates, deletes=deletes, unchanged=unchanged,
                           samples=dict(samples or {}))

    class ChunkDiffed(Aggregate.Event):
        plan_version: int
        chunk: int
        inserts: int
        updates: int
        deletes: int
        unchanged: int
        samples: dict[str, int]

    @event(ChunkDiffed)
    def _chunk_diffed(self, plan_version: int, chunk: int, inserts: int, updates: int,
                      deletes: int, unchanged: int, samples: dict[str, int]) -> None:
        self.merged_chunks = [*self.merged_chunks, chunk]
        self.diff_counts = _add_counts(self.diff_counts, {
            "inserted": inserts, "updated": updates, "deleted": deletes, "unchanged": unchanged})
        if any(samples.values()):
            self.diff_sample_chunks = [*self.diff_sample_chunks, chunk]
            self.diff_samples_taken = _add_counts(self.diff_samples_taken, samples)

    def start_revert(self, force: bool = False, conflicts: int = 0) -> None:
        """Queue the undoing of this completed job; `conflicts` later changes it overrides."""
        self._require("start_revert", "a dry run changed nothing" if self.dry_run else None)
        if conflicts and not force:
            self._require("start_revert", f"{conflicts} rows were changed by later jobs")
        self._revert_started(plan_version=self.plan_version, force=force, conflicts=conflicts)

    class RevertStarted(Aggregate.Event):
        plan_version: int
        force: bool
        conflicts: int

    @event(RevertStarted)
    def _revert_started(self, plan_version: int, force: bool, conflicts: int) -> None:
        self.state = JobState.REVERTING
        self.reverted_chunks = []
        self.crashes = 0  # the revert's own attempts (ADR 0098), not the import's

    @property
    def chunks_to_revert(self) -> list[int]:
        return [c for c in self.merged_chunks if c not in self.reverted_chunks]

    def record_reverted_chunk(self, chunk: int, removed: int, restored: int) -> None:
        if chunk not in self.chunks_to_revert:
            self._require("record_reverted_chunk", f"chunk {chunk} is not waiting to be reverted")
        self._require("record_reverted_chunk")
        self._chunk_reverted(plan_version=self.plan_version, chunk=chunk, removed=removed,
                             restored=restored)

    class ChunkReverted(Aggregate.Event):
        plan_version: int
        chunk: int
        removed: int  # rows the job inserted, deleted again
        restored: int  # rows the job updated or deleted, put back as they were

    @event(ChunkReverted)
    def _chunk_reverted(self, plan_version: int, chunk: int, removed: int, restored: int) -> None:
        self.reverted_chunks = [*self.reverted_chunks, chunk]

    def finish_revert(self) -> None:
        if self.chunks_to_revert:
            self._require("finish_revert", f"chunks {self.chunks_to_revert} are not reverted yet")
        self._require("finish_revert")
        self._reverted()

    class Reverted(Aggregate.Event):
        pass

    @event(Reverted)
    def _reverted(self) -> None:
        self.state = JobState.REVERTED


# The published event schema (ADR 0008): every event an ImportJob records, by class.
EVENTS: tuple[type[Aggregate.Event], ...] = (
    ImportJob.Created, ImportJob.FileReceived, ImportJob.Mapped, ImportJob.Started,
    ImportJob.ProcessingStarted, ImportJob.ChunkValidated, ImportJob.RowsRejected,
    ImportJob.ValidationFinished, ImportJob.AttentionNeeded, ImportJob.FixApproved,
    ImportJob.ChunkMerged, ImportJob.Completed, ImportJob.Failed, ImportJob.Cancelled,
    ImportJob.Deleted, ImportJob.CallbackDelivered, ImportJob.CallbackFailed,
    ImportJob.MetadataEdited, ImportJob.StatusDeclared, ImportJob.FilesReceived,
    ImportJob.FilePartReceived, ImportJob.ProcessingCrashed, ImportJob.BlobsPurged,
    ImportJob.ChunkDiffed, ImportJob.RevertStarted, ImportJob.ChunkReverted, ImportJob.Reverted,
)

# Events stored before ADR 0005 name their classes under the old top-level `domain` package.
register_topic("domain", sys.modules["lading.domain"])
