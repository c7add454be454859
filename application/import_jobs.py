"""ImportJobs: the eventsourcing Application behind every driving adapter (CLI, HTTP, watcher).

Methods take and return plain values and ids. Each command loads the job, runs one aggregate
command, saves its events, and brings the read models up to date before returning, so the
caller reads its own write.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from lading.application.errors import (
    IdempotencyConflict,
    JobNotFound,
    LimitExceeded,
    ListNotFound,
    ObjectNotFound,
    PayloadTooLarge,
)
from lading.application.ports import (
    BlobStore,
    CallbackSender,
    DestinationStore,
    LedgerEntry,
    ObjectCatalog,
    SourceFile,
    ValidationEngine,
)
from lading.application.projections import JobFilter, ReadModelStore
from lading.application.projector import Projector
from lading.application.status_view import public_status
from lading.domain.errors import DomainError, SourceUnreadable
from lading.domain.header_matching import normalize_header
from lading.domain.import_job import ImportJob
from lading.domain.lifecycle import JobState, Stage
from lading.domain.plan import ImportPlan
from lading.domain.proposals import propose_fixes
from lading.domain.table_schema import TableSchema

MAX_INLINE_ROWS = 10_000
_EVENT_META = {"originator_id", "originator_version", "timestamp", "originator_topic"}

ProgressCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Limits:
    max_active_jobs: int = 10
    max_inline_rows: int = MAX_INLINE_ROWS
    # The `exclusive` policy (SPEC §5): these workspaces run one import at a time; `*` is all.
    exclusive_workspaces: frozenset[str] = frozenset()

    def is_exclusive(self, workspace: str) -> bool:
        return "*" in self.exclusive_workspaces or workspace in self.exclusive_workspaces


class ImportJobs(Application):
    name = "ImportJobs"
    snapshotting_intervals = {ImportJob: 100}
    log_section_size = 1000  # the projector reads the notification log in batches of 500

    def __init__(
        self,
        env: dict[str, str] | None,
        *,
        catalog: ObjectCatalog,
        destination: DestinationStore,
        blobs: BlobStore,
        engine: ValidationEngine,
        queue: Any,
        read_models: ReadModelStore,
        work_root: Path,
        limits: Limits = Limits(),
        source_columns: Callable[[SourceFile], list[str]] | None = None,
        callbacks: CallbackSender | None = None,
    ) -> None:
        super().__init__(env)
        self.callbacks = callbacks
        self.source_columns = source_columns
        self.catalog = catalog
        self.destination = destination
        self.blobs = blobs
        self.engine = engine
        self.queue = queue
        self.read_models = read_models
        self.work_root = Path(work_root)
        self.limits = limits
        self.projector = Projector(self, read_models)

    # -- loading and saving ---------------------------------------------------------------

    def _load(self, job_id: UUID, workspace: str | None = None) -> ImportJob:
        try:
            job = self.repository.get(job_id)
        except AggregateNotFoundError:
            raise JobNotFound(job_id) from None
        if not isinstance(job, ImportJob) or (workspace is not None and job.workspace != workspace):
            raise JobNotFound(job_id)
        return job

    def _command(self, job_id: UUID, workspace: str | None, command: Callable[[ImportJob], Any]) -> Any:
        """Run a command, retrying on a concurrent save (e.g. a worker recording a chunk)."""
        for attempt in range(20):
            job = self._load(job_id, workspace)
            if job.is_deleted:
                raise JobNotFound(job_id)
            result = command(job)
            try:
                self.save(job)
            except IntegrityError:
                if attempt == 19:
                    raise
                continue
            self.projector.catch_up()
            return result
        raise AssertionError("unreachable")

    def _schema(self, workspace: str, object_name: str) -> TableSchema:
        schema = self.catalog.get(workspace, object_name)
        if schema is None:
            raise ObjectNotFound(object_name)
        return schema

    # -- commands -------------------------------------------------------------------------

    def create_job(
        self,
        workspace: str,
        object_name: str,
        file_name: str | None = None,
        file_size: int | None = None,
        *,
        source: str | None = None,
        labels: list[str] | None = None,
        idempotency_key: str | None = None,
        rows: list[dict[str, Any]] | None = None,
        list_name: str | None = None,
        target_list_id: str | None = None,
        callback_url: str | None = None,
    ) -> tuple[UUID, bool]:
        """Create a job; return (job id, created). An idempotent replay returns (id, False).

        `list_name` creates a list that the job's merged keys fill; `target_list_id` adds
        them to an existing list of the workspace (for the same object)."""
        self._schema(workspace, object_name)
        if rows is not None and len(rows) > self.limits.max_inline_rows:
            raise PayloadTooLarge(f"inline rows are limited to {self.limits.max_inline_rows} a job")
        lists = _ListRequest(list_name, target_list_id)
        if callback_url is not None:
            _check_callback_url(callback_url)
        if target_list_id is not None:
            target = self.destination.find_list(workspace, target_list_id)
            if target is None:
                raise ListNotFound(target_list_id)
            if target["objectName"] != object_name:
                raise DomainError(f"list {target_list_id} holds '{target['objectName']}' records,"
                                  f" not '{object_name}'")
        fingerprint_source = {
            "objectName": object_name, "fileName": file_name, "fileSize": file_size,
            "source": source, "labels": labels, "rows": rows, "listName": list_name,
            "targetListId": target_list_id, "callbackUrl": callback_url,
        }
        key = None
        if idempotency_key:
            key = f"{idempotency_key}#{_fingerprint(fingerprint_source)}"
            with self.queue.admission(workspace):
                self.projector.catch_up()
                existing = self.read_models.find_by_idempotency_key(workspace, key)
                if existing is None:
                    prior = self._find_key_with_other_payload(workspace, idempotency_key)
                    if prior:
                        raise IdempotencyConflict(idempotency_key)
                    return self._create(workspace, object_name, file_name, file_size, source,
                                        labels, key, rows, lists, callback_url), True
                return UUID(existing["jobId"]), False
        return self._create(workspace, object_name, file_name, file_size, source, labels, None, rows,
                            lists, callback_url), True

    def _find_key_with_other_payload(self, workspace: str, idempotency_key: str) -> bool:
        prefix = f"{idempotency_key}#"
        docs = self.read_models.list(JobFilter(workspace=workspace, limit=10_000))
        return any((d.get("idempotencyKey") or "").startswith(prefix) for d in docs)

    def _create(self, workspace, object_name, file_name, file_size, source, labels, key, rows,
                lists: _ListRequest, callback_url: str | None) -> UUID:
        inline = rows is not None
        list_id = lists.target_list_id or (str(uuid4()) if lists.list_name else None)
        job = ImportJob(workspace, object_name, file_name or ("inline-rows.ndjson" if inline else None),
                        file_size, source=source, labels=labels, idempotency_key=key, inline_rows=inline,
                        list_id=list_id, list_name=lists.list_name, callback_url=callback_url)
        if inline:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "rows.ndjson"
                with open(path, "w", encoding="utf-8") as fh:
                    for row in rows:
                        fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                info = self.blobs.put_file(self._source_key(job), path)
            job.receive_file(info.key, info.size, info.sha256, "inline-rows.ndjson")
        self.save(job)
        if job.list_name:
            self.destination.ensure_list(workspace, job.list_id, job.list_name, object_name)
        self.projector.catch_up()
        return job.id

    @staticmethod
    def _source_key(job: ImportJob) -> str:
        return f"{job.workspace}/jobs/{job.id}/source"

    def upload_slot(self, workspace: str, job_id: UUID) -> str:
        """The blob key an upload for this job must be written to."""
        job = self._load(job_id, workspace)
        if job.is_deleted:
            raise JobNotFound(job_id)
        return self._source_key(job)

    def attach_file(self, workspace: str, job_id: UUID, path: Path, file_name: str | None = None) -> None:
        """Copy a local file into the blob store as the job's source."""
        job = self._load(job_id, workspace)
        if job.state not in (JobState.PENDING, JobState.READY):
            job.receive_file("", 0, "", "")  # raises the lifecycle's refusal
        info = self.blobs.put_file(self._source_key(job), Path(path))
        name = file_name or Path(path).name
        self._command(job_id, workspace, lambda j: j.receive_file(info.key, info.size, info.sha256, name))

    def file_received(self, workspace: str, job_id: UUID, blob_key: str, size: int, sha256: str,
                      file_name: str | None = None) -> None:
        """Record a source already written to the blob store (e.g. a streamed upload)."""
        self._command(job_id, workspace,
                      lambda j: j.receive_file(blob_key, size, sha256, file_name or j.file_name or "upload"))

    def map(self, workspace: str, job_id: UUID, mapping: dict[str, Any]) -> dict[str, Any]:
        job = self._load(job_id, workspace)
        schema = self._schema(workspace, job.object_name)
        if mapping.get("fieldMap") is None and job.file is not None and self.source_columns:
            mapping = {**mapping, "fieldMap": self._same_named_fields(job, schema) or None}
        plan = ImportPlan.from_dict(mapping, schema)
        self._command(job_id, workspace, lambda j: j.map(plan.to_dict()))
        return plan.to_dict()

    def _same_named_fields(self, job: ImportJob, schema: TableSchema) -> dict[str, str]:
        """Without a fieldMap, each column maps to the field of the same name (as header
        matching compares names), so optional fields the file lacks are simply not mapped."""
        by_name = {normalize_header(f): f for f in schema.field_names}
        source = SourceFile(self.blobs.local_path(job.file["blobKey"]), job.file_name or "source")
        field_map: dict[str, str] = {}
        for column in self.source_columns(source):
            target = by_name.get(normalize_header(column))
            if target is not None and target not in field_map.values():
                field_map[column] = target
        return field_map

    def start(self, workspace: str, job_id: UUID) -> None:
        with self.queue.admission(workspace):
            self.projector.catch_up()
            job = self._load(job_id, workspace)
            if job.state == JobState.READY and (
                self.read_models.count_active(workspace) >= self.limits.max_active_jobs
            ):
                raise LimitExceeded(
                    f"workspace '{workspace}' already has {self.limits.max_active_jobs} jobs queued or running"
                )
            self._command(job_id, workspace, lambda j: j.start())
        self.queue.enqueue(job_id)

    def cancel(self, workspace: str, job_id: UUID) -> None:
        self._command(job_id, workspace, lambda j: j.cancel())

    def approve(self, workspace: str, job_id: UUID, edits: dict[str, Any] | None = None) -> None:
        """Approve the pending proposal (optionally edited): its fixes join the plan."""
        job = self._load(job_id, workspace)
        if job.state != JobState.NEEDS_ATTENTION or job.plan is None:
            job.approve_fix({})  # raises the lifecycle's refusal
        proposal = edits if edits is not None else (job.proposal or {})
        plan = dict(job.plan)
        fixes = dict(plan.get("fixes") or {})
        for change in proposal.get("changes", []):
            field_name = change.get("field")
            fix = {k: v for k, v in change.items() if k in ("dateFormat", "enumMap")}
            if field_name and fix:
                fixes[field_name] = {**fixes.get(field_name, {}), **fix}
            if change.get("sourceColumn") and field_name:
                plan["fieldMap"] = {
                    **{k: v for k, v in plan["fieldMap"].items() if v != field_name},
                    change["sourceColumn"]: field_name,
                }
        plan["fixes"] = fixes
        checked = ImportPlan.from_dict(plan, self._schema(workspace, job.object_name)).to_dict()
        self._command(job_id, workspace, lambda j: j.approve_fix(checked))
        self.queue.enqueue(job_id)

    def edit_metadata(self, workspace: str, job_id: UUID, *, source: str | None = None,
                      labels: list[str] | None = None, file_name: str | None = None) -> None:
        self._command(job_id, workspace, lambda j: j.edit_metadata(source, labels, file_name))

    def delete(self, workspace: str, job_id: UUID) -> None:
        self._command(job_id, workspace, lambda j: j.delete())
        self.blobs.delete_prefix(f"{workspace}/jobs/{job_id}")
        shutil.rmtree(self.work_root / str(job_id), ignore_errors=True)

    # -- processing -----------------------------------------------------------------------

    def runnable_jobs(self) -> list[UUID]:
        self.projector.catch_up()
        return self.queue.runnable()

    def process(self, job_id: UUID, on_progress: ProgressCallback | None = None) -> str | None:
        """Take the job as far as it goes: validate, then merge, then complete.

        Safe to call after a crash at any point: validation re-runs deterministically and
        records only chunks not yet recorded; merging skips chunks the destination's ledger
        already holds. Returns the job's state, or None when another live process holds it
        (or, in an `exclusive` workspace, runs another of its jobs).
        """
        with self.queue.claim(job_id) as claimed:
            if not claimed:
                return None
            workspace = self._load(job_id).workspace
            if not self.limits.is_exclusive(workspace):
                state = self._process_or_stop(job_id, on_progress)
            else:
                # Another of the workspace's jobs is running: this one stays queued until it ends.
                with self.queue.claim_workspace_run(workspace) as running:
                    if not running:
                        return None
                    state = self._process_or_stop(job_id, on_progress)
            self._call_back(job_id)
            return state

    def deliver_callbacks(self) -> int:
        """Call the callbackUrl of every ended job not called yet (a cancelled job, or one whose
        process died before calling); return how many were called."""
        self.projector.catch_up()
        called = 0
        for job_id in self.read_models.callbacks_due():
            with self.queue.claim(UUID(job_id)) as claimed:
                if claimed and self._call_back(UUID(job_id)):
                    called += 1
        return called

    def _call_back(self, job_id: UUID) -> bool:
        """POST the ended job's status to its callbackUrl once, and record the outcome."""
        job = self._load(job_id)
        if not job.callback_due or self.callbacks is None:
            return False
        outcome = self.callbacks.send(job.callback_url, public_status(self.status(job.workspace, job_id)))
        job.record_callback(outcome.delivered, outcome.attempts, outcome.detail)
        try:
            self.save(job)
        except IntegrityError:
            return False  # the job changed meanwhile (deleted); the next look decides again
        self.projector.catch_up()
        return True

    def _process_or_stop(self, job_id: UUID, on_progress: ProgressCallback | None) -> str:
        try:
            return self._process_claimed(job_id, on_progress or (lambda _: None))
        except _Interrupted:
            self.projector.catch_up()
            return str(self._load(job_id).state)

    def _save_or_interrupt(self, job: ImportJob) -> None:
        try:
            self.save(job)
        except IntegrityError:
            # Someone else changed the job (cancel, delete): stop working on it.
            raise _Interrupted() from None

    def _process_claimed(self, job_id: UUID, on_progress: ProgressCallback) -> str:
        job = self._load(job_id)
        if job.state == JobState.QUEUED:
            job.begin_processing()
            self._save_or_interrupt(job)
            self.projector.catch_up()
        if job.state != JobState.RUNNING:
            return str(job.state)
        schema = self._schema(job.workspace, job.object_name)
        plan = ImportPlan.from_stored(job.plan or {})
        try:
            self.destination.ensure_object(job.workspace, job.object_name, schema)
            if job.stage == Stage.VALIDATING:
                self._validate(job, schema, plan, on_progress)
            if job.state == JobState.RUNNING and job.stage == Stage.MERGING:
                self._merge(job, schema, plan, on_progress)
                job.complete()
                self._save_or_interrupt(job)
        except _Interrupted:
            raise
        except SourceUnreadable as exc:
            job = self._load(job_id)
            job.fail(str(exc), exc.failure_code)
            self._save_or_interrupt(job)
        self.projector.catch_up()
        return str(job.state)

    def _workdir(self, job: ImportJob) -> Path:
        return self.work_root / str(job.id) / f"v{job.plan_version}"

    def _error_key(self, job: ImportJob) -> str:
        return f"{job.workspace}/jobs/{job.id}/errors.v{job.plan_version}.jsonl"

    def _validate(self, job: ImportJob, schema: TableSchema, plan: ImportPlan,
                  on_progress: ProgressCallback) -> None:
        workdir = self._workdir(job)
        shutil.rmtree(workdir, ignore_errors=True)  # a crashed run's partial output is redone
        workdir.mkdir(parents=True)
        error_path = workdir / "errors.jsonl"
        key_lookup = None
        if plan.operation != "upsert":
            def key_lookup(keys: list[tuple]) -> set[tuple]:
                return self.destination.existing_keys(job.workspace, job.object_name, schema, keys)
        source = SourceFile(self.blobs.local_path(job.file["blobKey"]), job.file_name or "source")
        already = job.validated_chunks
        for chunk in self.engine.validate(source, schema, plan, workdir, error_path, key_lookup):
            expected = workdir / _staged_name(chunk.index)
            if chunk.staged_path and Path(chunk.staged_path) != expected:
                Path(chunk.staged_path).replace(expected)
            if chunk.index < already:
                continue  # recorded before a crash; re-validated only to rebuild state
            job.record_validated_chunk(
                chunk.index, chunk.read_rows, chunk.valid_rows, chunk.rejected_by_code,
                chunk.rejected_by_field,
                list(chunk.error_segment) if chunk.error_segment else None,
                chunk.healed_by_field, chunk.warnings_by_field, chunk.header_healing,
                chunk.column_formats,
            )
            self._save_or_interrupt(job)
            on_progress({"stage": "validating", "rowsValidated": job.read_rows,
                         "invalidRows": job.invalid_rows})
        if error_path.exists() and error_path.stat().st_size:
            self.blobs.put_file(self._error_key(job), error_path)
        review = plan.review_policy
        # A run re-validated after a decision (plan v2+) never pauses again (SPEC §3 Review).
        if job.plan_version <= 1 and review.should_pause(job.read_rows, job.invalid_rows):
            proposal = propose_fixes(schema, plan, _read_error_rows(error_path), job.invalid_rows)
            job.pause_for_attention(proposal)
        else:
            job.finish_validation()
        self._save_or_interrupt(job)
        self.projector.catch_up()

    def _merge(self, job: ImportJob, schema: TableSchema, plan: ImportPlan,
               on_progress: ProgressCallback) -> None:
        workdir = self._workdir(job)
        if job.list_name:  # made at creation; again here in case that process died just after
            self.destination.ensure_list(job.workspace, job.list_id, job.list_name, job.object_name)
        for chunk in job.chunks_to_merge:
            rows = self.engine.load_chunk(str(workdir / _staged_name(chunk)))
            counts = self.destination.merge_chunk(
                job.workspace, job.object_name, schema, plan.operation, rows,
                LedgerEntry(job.id, job.plan_version, chunk), list_id=job.list_id,
            )
            job.record_merged_chunk(chunk, counts.inserts, counts.updates, counts.deletes)
            self._save_or_interrupt(job)
            on_progress({"stage": "merging", "rowsValidated": job.read_rows,
                         "rowsMerged": job.merged_inserts + job.merged_updates + job.merged_deletes,
                         "validRows": job.valid_rows})

    # -- reads ----------------------------------------------------------------------------

    def status(self, workspace: str, job_id: UUID) -> dict[str, Any]:
        self.projector.catch_up()
        doc = self.read_models.get(str(job_id))
        if doc is None or doc["workspace"] != workspace or doc["state"] == "deleted":
            raise JobNotFound(job_id)
        return doc

    def list_jobs(self, flt: JobFilter) -> list[dict[str, Any]]:
        self.projector.catch_up()
        return self.read_models.list(flt)

    def history(self, workspace: str, job_id: UUID) -> list[dict[str, Any]]:
        """The job's whole history, in order, deleted jobs included (it is the audit trail)."""
        self._load(job_id, workspace)
        out = []
        for event in self.events_of(job_id):
            out.append({
                "type": type(event).__name__,
                "version": event.originator_version,
                "timestamp": event.timestamp.isoformat().replace("+00:00", "Z"),
                "data": event_data(event),
            })
        return out

    def events_of(self, job_id: UUID) -> Iterator[Any]:
        for stored in self.recorder.select_events(job_id):
            yield self.mapper.to_domain_event(stored)

    def error_file(self, workspace: str, job_id: UUID) -> Path | None:
        job = self._load(job_id, workspace)
        if job.is_deleted:
            raise JobNotFound(job_id)
        key = self._error_key(job)
        return self.blobs.local_path(key) if job.invalid_rows and self.blobs.exists(key) else None

    def source_file(self, workspace: str, job_id: UUID) -> SourceFile | None:
        """The job's received file on local disk, or None before one arrives."""
        job = self._load(job_id, workspace)
        if job.is_deleted:
            raise JobNotFound(job_id)
        if job.file is None:
            return None
        return SourceFile(self.blobs.local_path(job.file["blobKey"]), job.file_name or "source")

    def staged_chunks(self, workspace: str, job_id: UUID) -> list[str]:
        job = self._load(job_id, workspace)
        if job.is_deleted:
            raise JobNotFound(job_id)
        if job.total_chunks is None:
            return []
        workdir = self._workdir(job)
        return [str(workdir / _staged_name(c)) for c in job.chunks_with_rows
                if (workdir / _staged_name(c)).exists()]

    def lists(self, workspace: str, after: tuple[str, str] | None = None,
              limit: int = 50) -> list[dict[str, Any]]:
        return self.destination.lists(workspace, after, limit)

    def find_list(self, workspace: str, list_id: str) -> dict[str, Any]:
        found = self.destination.find_list(workspace, list_id)
        if found is None:
            raise ListNotFound(list_id)
        return found

    def list_members(self, workspace: str, list_id: str, after: str | None = None,
                     limit: int = 100) -> list[dict[str, Any]]:
        """The list's members (primary-key objects), those after the member `after`."""
        self.find_list(workspace, list_id)
        return [json.loads(k) for k in self.destination.list_members(workspace, list_id, after, limit)]

    def schema_of(self, workspace: str, object_name: str) -> TableSchema:
        return self._schema(workspace, object_name)


class _Interrupted(Exception):
    """The job changed under the worker (cancelled or deleted)."""


@dataclass(frozen=True)
class _ListRequest:
    list_name: str | None  # create a list of this name
    target_list_id: str | None  # or fill this existing one

    def __post_init__(self) -> None:
        if self.list_name is not None and self.target_list_id is not None:
            raise DomainError("give either a list to create or a target list, not both")


def _check_callback_url(url: str) -> None:
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DomainError("callbackUrl must be an absolute http:// or https:// URL")


def _staged_name(chunk: int) -> str:
    return f"chunk-{chunk:06d}.arrow"


def event_data(event: Any) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in event.__dict__.items() if k not in _EVENT_META}


def _jsonable(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _fingerprint(payload: dict[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


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
