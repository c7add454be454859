"""ImportJobs: the eventsourcing Application behind every driving adapter (CLI, HTTP, watcher).

One method per use case; methods take and return plain values and ids. Each command loads the
job, runs one aggregate command, saves its events, and brings the read models up to date before
returning, so the caller reads its own write. Running a job is JobRunner's (job_runner.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from lading.application.errors import (
    FilesPurged,
    AudienceNotFound,
    IdempotencyConflict,
    JobNotFound,
    LimitExceeded,
    ListNotFound,
    NotFound,
    ObjectNotFound,
    PayloadTooLarge,
    ScopeBusy,
)
from lading.application.dry_runs import with_diff_samples
from lading.application.job_files import JobFiles
from lading.application.staged_copies import chunk_inputs
from lading.domain.callback_targets import check_callback_host
from lading.application.ports import (
    BlobInfo,
    BlobStore,
    BlobTooLarge,
    DestinationStore,
    ObjectCatalog,
    ObjectUnreadable,
    SourceFile,
    WorkQueue,
)
from lading.application.projections import JobFilter, ReadModelStore, event_fields
from lading.application.sources import SourceRefused, check_object_url
from lading.application.projector import Projector
from lading.domain.errors import DomainError
from lading.domain.header_matching import normalize_header
from lading.domain.import_job import ImportJob
from lading.domain.lifecycle import FILE_ACCEPTED_STATES, TERMINAL_STATES, JobState
from lading.domain.limits import DEFAULT_MAX_FILE_SIZE, MAX_INLINE_ROWS, MAX_ROWS_PER_JOB
from lading.domain.plan import ImportPlan
from lading.domain.proposal_changes import apply_proposal
from lading.domain.table_schema import TableSchema
from lading.domain.timestamps import iso_utc
from lading.domain.workspace_limits import WorkspaceLimits

OBJECT_SUFFIX = ".object"  # the upload slot's suffix for a source copied from an object


@dataclass(frozen=True)
class Limits:
    max_active_jobs: int = 10
    max_inline_rows: int = MAX_INLINE_ROWS
    # The `exclusive` policy (SPEC §5): these workspaces run one import at a time; `*` is all.
    exclusive_workspaces: frozenset[str] = frozenset()
    max_file_size: int | None = None  # LADING_MAX_FILE_SIZE, applied while a file is copied in
    callback_allow_private: bool = False  # LADING_CALLBACK_ALLOW_PRIVATE (ADR 0081)

    def is_exclusive(self, workspace: str) -> bool:
        return "*" in self.exclusive_workspaces or workspace in self.exclusive_workspaces


class ImportJobs(Application[UUID]):
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
        queue: WorkQueue,
        read_models: ReadModelStore,
        work_root: Path,
        limits: Limits = Limits(),
        source_columns: Callable[[str, str], list[str]] | None = None,
        limits_of: Callable[[str], WorkspaceLimits] | None = None,
    ) -> None:
        super().__init__(env)
        self.source_columns = source_columns
        self.catalog = catalog
        self.destination = destination
        self.blobs = blobs
        self.queue = queue
        self.read_models = read_models
        self.work_root = Path(work_root)
        self.limits = limits
        # Each workspace's limits (application/workspaces.py); `limits` are every workspace's
        # when none is given (an embedded ImportJobs).
        self.limits_of = limits_of or (lambda _workspace: WorkspaceLimits(
            max_active_jobs=limits.max_active_jobs,
            max_file_size=limits.max_file_size or DEFAULT_MAX_FILE_SIZE,
            max_rows=MAX_ROWS_PER_JOB, rate_limit=0))
        self.projector = Projector(self, read_models)

    # -- loading and saving ---------------------------------------------------------------

    def load(self, job_id: UUID, workspace: str | None = None) -> ImportJob:
        try:
            job: ImportJob = self.repository.get(job_id)
        except AggregateNotFoundError:
            raise JobNotFound(job_id) from None
        if not isinstance(job, ImportJob) or (workspace is not None and job.workspace != workspace):
            raise JobNotFound(job_id)
        return job

    def _command(self, job_id: UUID, workspace: str | None, command: Callable[[ImportJob], Any]) -> Any:
        """Run a command, retrying on a concurrent save (e.g. a worker recording a chunk)."""
        for attempt in range(20):
            job = self.load(job_id, workspace)
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

    def files(self, job: ImportJob) -> JobFiles:
        return JobFiles(job.workspace, job.id, job.plan_version, self.work_root)

    def sources(self, job: ImportJob) -> list[SourceFile]:
        """The job's source as local files, in the order they are read (one, or several)."""
        if job.files:
            return [SourceFile(self.blobs.local_path(f["blobKey"]), f["fileName"]) for f in job.files]
        assert job.file is not None  # only asked of a job holding its source
        return [SourceFile(self.blobs.local_path(job.file["blobKey"]), job.file_name or "source")]

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
        concurrency_scope: str | None = None,
        parts: list[str] | None = None,
        expected_files: list[tuple[str, int]] | None = None,
        audience_name: str | None = None,
        auto_profile: bool = False,
    ) -> tuple[UUID, bool]:
        """Create a job; return (job id, created). An idempotent replay returns (id, False).

        `parts` names the files a several-file source will be made of (for idempotency only).
        `expected_files` (name, size) announces a source of several files that arrive one by
        one (receive_part); `file_name` and `file_size` are then the first name and the sum.

        `list_name` creates a list that the job's merged keys fill; `target_list_id` adds
        them to an existing list of the workspace (for the same object). A `concurrency_scope`
        (e.g. one per key or per configuration) is refused with ScopeBusy while another job
        of the workspace with that scope is not terminal. `audience_name` makes a dynamic
        audience of the records whose last write comes from this job; `auto_profile` profiles
        what the job imported once it completes."""
        self._schema(workspace, object_name)
        most = self.limits_of(workspace).max_file_size
        if file_size is not None and file_size > most:
            raise PayloadTooLarge(f"fileSize is over the limit of {most} bytes")
        if rows is not None and len(rows) > self.limits.max_inline_rows:
            raise PayloadTooLarge(f"inline rows are limited to {self.limits.max_inline_rows} a job")
        lists = _Collections(list_name, target_list_id, audience_name)
        if callback_url is not None:
            _check_callback_url(callback_url, self.limits.callback_allow_private)
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
        # Only when asked, so the fingerprints of keys stored before these options stay valid.
        if audience_name is not None:
            fingerprint_source["audienceName"] = audience_name
        if auto_profile:
            fingerprint_source["autoProfileAfterImport"] = True
        if parts is not None:
            fingerprint_source["parts"] = parts
        announced = ([{"fileName": name, "fileSize": size} for name, size in expected_files]
                     if expected_files else None)
        if announced is not None:
            fingerprint_source["files"] = announced
        key = f"{idempotency_key}#{_fingerprint(fingerprint_source)}" if idempotency_key else None
        if key is None and concurrency_scope is None:
            return self._create(workspace, object_name, file_name, file_size, source, labels, None,
                                rows, lists, callback_url, None, auto_profile, announced), True
        # Both checks and the creation happen under the workspace's admission lock, so two
        # concurrent requests can neither both create nor both pass the scope check.
        with self.queue.admission(workspace):
            self.projector.catch_up()
            if idempotency_key and key is not None:
                existing = self.read_models.find_by_idempotency_key(workspace, key)
                if existing is not None:
                    return UUID(existing["jobId"]), False
                if self.read_models.idempotency_key_used(workspace, idempotency_key):
                    raise IdempotencyConflict(idempotency_key)
            if concurrency_scope is not None:
                self._check_scope_free(workspace, concurrency_scope)
            return self._create(workspace, object_name, file_name, file_size, source, labels, key,
                                rows, lists, callback_url, concurrency_scope, auto_profile, announced), True

    def _check_scope_free(self, workspace: str, scope: str) -> None:
        open_states = tuple(s.value for s in JobState if s not in TERMINAL_STATES
                            and s is not JobState.DELETED)
        docs = self.read_models.list(JobFilter(workspace=workspace, states=open_states, limit=100_000))
        for doc in docs:
            if doc.get("concurrencyScope") == scope:
                raise ScopeBusy(scope, doc["jobId"])

    def _create(self, workspace: str, object_name: str, file_name: str | None, file_size: int | None,
                source: str | None, labels: list[str] | None, key: str | None,
                rows: list[dict[str, Any]] | None, lists: _Collections, callback_url: str | None,
                concurrency_scope: str | None, auto_profile: bool,
                expected_files: list[dict[str, Any]] | None = None) -> UUID:
        inline = rows is not None
        list_id = lists.target_list_id or (str(uuid4()) if lists.list_name else None)
        audience_id = str(uuid4()) if lists.audience_name else None
        job = ImportJob(workspace, object_name, file_name or ("inline-rows.ndjson" if inline else None),
                        file_size, source=source, labels=labels, idempotency_key=key, inline_rows=inline,
                        list_id=list_id, list_name=lists.list_name, callback_url=callback_url,
                        concurrency_scope=concurrency_scope, expected_files=expected_files,
                        audience_id=audience_id, audience_name=lists.audience_name,
                        auto_profile=auto_profile)
        if inline:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "rows.ndjson"
                with open(path, "w", encoding="utf-8") as fh:
                    for row in rows or ():
                        fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                info = self.blobs.put_file(self.files(job).new_upload(), path)
            job.receive_file(info.key, info.size, info.sha256, "inline-rows.ndjson")
        self.save(job)
        self.ensure_collections(job)
        self.projector.catch_up()
        return job.id

    def ensure_collections(self, job: ImportJob) -> None:
        """Create the job's new list and audience (empty) unless they exist: at creation, and
        again when merging starts, in case the creating process died in between."""
        if job.list_name and job.list_id:
            self.destination.ensure_list(job.workspace, job.list_id, job.list_name, job.object_name)
        if job.audience_name and job.audience_id:
            self.destination.ensure_audience(job.workspace, job.audience_id, job.audience_name,
                                             job.object_name, job.id)

    def upload_key(self, workspace: str, job_id: UUID) -> str:
        """A fresh blob key for an upload to this job; refused when the job takes no file."""
        job = self.load(job_id, workspace)
        if job.is_deleted:
            raise JobNotFound(job_id)
        job.check_takes_file()
        return self.files(job).new_upload()

    def expected_files(self, workspace: str, job_id: UUID) -> list[dict[str, Any]]:
        """The files a several-file job was announced with ({fileName, fileSize}, in order);
        empty for a job that takes one file."""
        job = self.load(job_id, workspace)
        return [dict(f) for f in getattr(job, "expected_files", None) or []]

    def part_received(self, workspace: str, job_id: UUID, index: int, blob_key: str, size: int,
                      sha256: str) -> None:
        """One announced file is stored under `blob_key`; the job holds its source once all are."""
        self._command(job_id, workspace, lambda j: j.receive_part(index, blob_key, size, sha256))

    def upload_slot(self, workspace: str, job_id: UUID) -> str:
        """The landing path an upload for this job is written under (shown to clients)."""
        job = self.load(job_id, workspace)
        if job.is_deleted:
            raise JobNotFound(job_id)
        return self.files(job).source

    def attach_file(self, workspace: str, job_id: UUID, path: Path, file_name: str | None = None) -> None:
        """Copy a local file into the blob store as the job's source."""
        key = self.upload_key(workspace, job_id)
        info = self.blobs.put_file(key, Path(path))
        name = file_name or Path(path).name
        try:
            self._replace_source(workspace, job_id, {key},
                                 lambda j: j.receive_file(info.key, info.size, info.sha256, name))
        except BaseException:
            self.blobs.delete_prefix(key)
            raise

    def _replace_source(self, workspace: str, job_id: UUID, new_keys: set[str],
                        receive: Callable[[ImportJob], None]) -> None:
        """Run a receive command, then delete the blobs of the source it replaced: every PUT to
        a slot writes a new key (JobFiles.new_upload), so nothing else would ever remove them."""
        replaced: list[str] = []

        def command(job: ImportJob) -> None:
            replaced[:] = [k for k in _source_keys(job) if k not in new_keys]
            receive(job)

        self._command(job_id, workspace, command)
        for key in replaced:
            self.blobs.delete_prefix(key)

    def submit_file(self, workspace: str, object_name: str, file: IO[bytes], file_name: str,
                    mapping: dict[str, Any], *, source: str | None = None,
                    labels: list[str] | None = None, idempotency_key: str | None = None,
                    start: bool = True, concurrency_scope: str | None = None,
                    audience_name: str | None = None,
                    auto_profile: bool = False, dry_run: bool = False) -> tuple[UUID, bool]:
        """Import a whole file in one call: created, holding the file, mapped and (by default) queued.

        Every argument and the mapping are checked before anything is stored, so a refusal
        leaves no job and no blob behind. Returns (job id, created); an idempotent replay
        returns the existing job untouched.
        """
        ImportPlan.from_dict(mapping, self._schema(workspace, object_name))
        size = _remaining(file)
        job_id, created = self.create_job(workspace, object_name, file_name, size, source=source,
                                          labels=labels, idempotency_key=idempotency_key,
                                          concurrency_scope=concurrency_scope,
                                          audience_name=audience_name, auto_profile=auto_profile)
        if not created:
            return job_id, False

        def attach() -> None:
            info = self._store(workspace, self.upload_key(workspace, job_id), file)
            self._command(job_id, workspace,
                          lambda j: j.receive_file(info.key, info.size, info.sha256, file_name))

        self._complete_submission(workspace, job_id, attach, mapping, start, dry_run)
        return job_id, True

    def submit_files(self, workspace: str, object_name: str, files: list[tuple[str, Path]],
                     mapping: dict[str, Any], *, source: str | None = None,
                     labels: list[str] | None = None, idempotency_key: str | None = None,
                     start: bool = True, concurrency_scope: str | None = None,
                     audience_name: str | None = None,
                     auto_profile: bool = False, dry_run: bool = False) -> tuple[UUID, bool]:
        """submit_file for several local files (name, path) read in order as one source.

        Each file is copied under the job, so the job owns its bytes like an upload's."""
        ImportPlan.from_dict(mapping, self._schema(workspace, object_name))
        if not files:
            raise DomainError("a source needs at least one file")
        missing = [name for name, path in files if not Path(path).is_file()]
        if missing:
            raise DomainError(f"no such file: {', '.join(missing)}")
        job_id, created = self.create_job(workspace, object_name, files[0][0],
                                          sum(Path(p).stat().st_size for _, p in files),
                                          source=source, labels=labels,
                                          idempotency_key=idempotency_key,
                                          concurrency_scope=concurrency_scope,
                                          parts=[f"{name}@{path}" for name, path in files],
                                          audience_name=audience_name, auto_profile=auto_profile)
        if not created:
            return job_id, False

        def attach() -> None:
            received = []
            for name, path in files:
                info = self.blobs.put_file(self.upload_key(workspace, job_id), Path(path))
                received.append({"blobKey": info.key, "size": info.size, "sha256": info.sha256,
                                 "fileName": name})
            self._command(job_id, workspace, lambda j: j.receive_files(received))

        self._complete_submission(workspace, job_id, attach, mapping, start, dry_run)
        return job_id, True

    def submit_streams(self, workspace: str, object_name: str, files: list[tuple[str, IO[bytes]]],
                       mapping: dict[str, Any], *, source: str | None = None,
                       labels: list[str] | None = None, idempotency_key: str | None = None,
                       start: bool = True) -> tuple[UUID, bool]:
        """submit_files for files given as streams (the parts of one multipart upload), each
        stored under the job as it is read. The same names and sizes with the same key are an
        idempotent replay."""
        ImportPlan.from_dict(mapping, self._schema(workspace, object_name))
        if not files:
            raise DomainError("a source needs at least one file")
        sizes = [_remaining(file) for _, file in files]
        total = None if None in sizes else sum(s for s in sizes if s is not None)
        job_id, created = self.create_job(workspace, object_name, files[0][0], total, source=source,
                                          labels=labels, idempotency_key=idempotency_key,
                                          parts=[f"{name}:{size}" for (name, _), size in zip(files, sizes)])
        if not created:
            return job_id, False

        def attach() -> None:
            received = []
            for name, file in files:
                info = self._store(workspace, self.upload_key(workspace, job_id), file)
                received.append({"blobKey": info.key, "size": info.size, "sha256": info.sha256,
                                 "fileName": name})
            self._command(job_id, workspace, lambda j: j.receive_files(received))

        self._complete_submission(workspace, job_id, attach, mapping, start)
        return job_id, True

    def declare_status(self, workspace: str, job_id: UUID, status: str | None,
                       expected_rows: int | None = None) -> None:
        """A cohort's client-declared status and expected rows, while it holds no data."""
        self._command(job_id, workspace, lambda j: j.declare_status(status, expected_rows))

    def _store(self, workspace: str, key: str, file: IO[bytes]) -> BlobInfo:
        digest = hashlib.sha256()
        written = 0
        limit = self.limits_of(workspace).max_file_size
        with self.blobs.writer(key) as out:
            while block := file.read(1 << 20):
                digest.update(block)
                written += len(block)
                if written > limit:
                    raise PayloadTooLarge(  # checked while copying: the file may still be growing
                        f"the file is over the limit of {limit} bytes (workspace '{workspace}')")
                out.write(block)
        return BlobInfo(key, written, digest.hexdigest())

    def submit_path(self, workspace: str, object_name: str, path: Path, mapping: dict[str, Any],
                    **options: Any) -> tuple[UUID, bool]:
        """submit_file for a local file (CLI, watcher)."""
        path = Path(path)
        if not path.is_file():
            raise DomainError(f"not a regular file: {path}")
        with open(path, "rb") as fh:
            return self.submit_file(workspace, object_name, fh, path.name, mapping, **options)

    def submit_object(self, workspace: str, object_name: str, url: str,
                      mapping: dict[str, Any], *, source: str | None = None,
                      labels: list[str] | None = None, start: bool = True) -> UUID:
        """submit_file for an object already in storage (s3://bucket/key), copied into the job
        inside the store (ADR 0056): no node carries its bytes."""
        check_object_url(url)
        ImportPlan.from_dict(mapping, self._schema(workspace, object_name))
        job_id, _ = self.create_job(workspace, object_name, source=source, labels=labels)

        def attach() -> None:
            self.copy_object_in(workspace, job_id, url)

        self._complete_submission(workspace, job_id, attach, mapping, start)
        return job_id

    def copy_object_in(self, workspace: str, job_id: UUID, url: str) -> int:
        """Record the object at `url`, copied inside the store under the job, as the job's
        file; return its size. Refused: not an object, unreadable, too large, or a store that
        cannot copy objects (a directory)."""
        check_object_url(url)
        max_file_size = self.limits_of(workspace).max_file_size
        key = self.upload_slot(workspace, job_id) + OBJECT_SUFFIX
        try:
            size = self.blobs.copy_in(url, key, max_file_size)
        except ObjectUnreadable as exc:
            raise SourceRefused(str(exc)) from None
        except BlobTooLarge:
            raise PayloadTooLarge(f"the object is over the limit of {max_file_size} bytes") from None
        if size is None:
            raise SourceRefused("an s3:// sourceUrl needs S3 configured (LADING_BLOBS=s3://…)")
        self.file_received(workspace, job_id, key, size, None,  # type: ignore[arg-type]
                           urlparse(url).path.rsplit("/", 1)[-1] or None)
        return size

    def submit_rows(self, workspace: str, object_name: str, rows: list[dict[str, Any]],
                    mapping: dict[str, Any], *, source: str | None = None,
                    labels: list[str] | None = None, idempotency_key: str | None = None,
                    start: bool = True, concurrency_scope: str | None = None,
                    dry_run: bool = False) -> tuple[UUID, bool]:
        """Import inline rows in one call (the records write, compat bulk uploads)."""
        ImportPlan.from_dict(mapping, self._schema(workspace, object_name))
        job_id, created = self.create_job(workspace, object_name, source=source, labels=labels,
                                          idempotency_key=idempotency_key, rows=rows,
                                          concurrency_scope=concurrency_scope)
        if not created:
            return job_id, False
        self._complete_submission(workspace, job_id, lambda: None, mapping, start, dry_run)
        return job_id, True

    def _complete_submission(self, workspace: str, job_id: UUID, attach: Callable[[], None],
                             mapping: dict[str, Any], start: bool, dry_run: bool = False) -> None:
        """Give a just-created job its data, map it and (optionally) start it; any failure,
        a refused start included, discards the job with its blobs, so nothing is left behind."""
        try:
            attach()
            self.map(workspace, job_id, mapping)
            if start:
                self.start(workspace, job_id, dry_run=dry_run)
        except BaseException:
            self._discard(workspace, job_id)
            raise

    def _discard(self, workspace: str, job_id: UUID) -> None:
        """Undo a submission that failed half-way: its blobs go, its history says Deleted."""
        self._command(job_id, workspace, lambda j: j.delete())
        self.blobs.delete_prefix(f"{workspace}/jobs/{job_id}")

    def file_received(self, workspace: str, job_id: UUID, blob_key: str, size: int, sha256: str,
                      file_name: str | None = None) -> None:
        """Record a source already written to the blob store (e.g. a streamed upload)."""
        self._replace_source(
            workspace, job_id, {blob_key},
            lambda j: j.receive_file(blob_key, size, sha256, file_name or j.file_name or "upload"))

    def map(self, workspace: str, job_id: UUID, mapping: dict[str, Any]) -> dict[str, Any]:
        job = self.load(job_id, workspace)
        schema = self._schema(workspace, job.object_name)
        if mapping.get("fieldMap") is None and job.file is not None and self.source_columns:
            mapping = {**mapping, "fieldMap": self._same_named_fields(job, schema) or None}
        plan = ImportPlan.from_dict(mapping, schema)
        self._command(job_id, workspace, lambda j: j.map(plan.to_dict()))
        return plan.to_dict()

    def _same_named_fields(self, job: ImportJob, schema: TableSchema) -> dict[str, str]:
        """Without a fieldMap, each field a column is named as (the way header matching
        compares names) maps from its own name, so optional fields the file lacks are simply
        not mapped, and header matching finds `E-Mail` for `email` and records it as healing."""
        if job.file is None or self.source_columns is None:
            return {}
        by_name = {normalize_header(f): f for f in schema.field_names}
        columns = self.source_columns(job.file["blobKey"], job.file_name or "source")
        named = {by_name[n] for n in map(normalize_header, columns) if n in by_name}
        return {f: f for f in schema.field_names if f in named}

    def start(self, workspace: str, job_id: UUID, *, dry_run: bool = False) -> None:
        """Queue the job; a dry run (SPEC §8) runs whole, writes nothing and reports a diff."""
        with self.queue.admission(workspace):
            job = self.load(job_id, workspace)
            job.check_allowed("start")
            self._check_active_limit(workspace)
            self._command(job_id, workspace, lambda j: j.start(dry_run))
        self.queue.enqueue(job_id)

    def _check_active_limit(self, workspace: str) -> None:
        """Called under the workspace's admission lock, so concurrent starts count exactly."""
        self.projector.catch_up()
        most = self.limits_of(workspace).max_active_jobs
        if self.read_models.count_active(workspace) >= most:
            raise LimitExceeded(f"workspace '{workspace}' already has {most} jobs queued or running")

    def cancel(self, workspace: str, job_id: UUID) -> None:
        self._command(job_id, workspace, lambda j: j.cancel())

    def approve(self, workspace: str, job_id: UUID, edits: dict[str, Any] | None = None) -> None:
        """Approve the pending proposal (optionally edited): its fixes join the plan."""
        job = self.load(job_id, workspace)
        job.check_allowed("approve_fix")
        assert job.plan is not None  # a job at needs_attention was mapped
        proposal = edits if edits is not None else (job.proposal or {})
        plan = apply_proposal(job.plan, proposal)
        checked = ImportPlan.from_dict(plan, self._schema(workspace, job.object_name)).to_dict()
        # An approved job queues again: it counts against the same limit as a start.
        with self.queue.admission(workspace):
            self._check_active_limit(workspace)
            self._command(job_id, workspace, lambda j: j.approve_fix(checked))
        self.queue.enqueue(job_id)

    def edit_metadata(self, workspace: str, job_id: UUID, *, source: str | None = None,
                      labels: list[str] | None = None, file_name: str | None = None) -> None:
        self._command(job_id, workspace, lambda j: j.edit_metadata(source, labels, file_name))

    def delete(self, workspace: str, job_id: UUID) -> None:
        self._command(job_id, workspace, lambda j: j.delete())
        files = self.files(self.load(job_id, workspace))
        self.blobs.delete_prefix(files.prefix)
        shutil.rmtree(files.job_work_dir, ignore_errors=True)

    def purge_blobs(self, workspace: str, job_id: UUID) -> int:
        """Remove the job's blobs and work files and record `BlobsPurged`; return how many
        blobs went. Refused (TransitionNotAllowed) unless the job ended or never started."""
        job = self.load(job_id, workspace)
        job.check_allowed("purge_blobs")
        files = self.files(job)
        if job.state in TERMINAL_STATES:
            # Removed first: an ended job no longer changes, and a crash in between leaves a
            # job the next purge finishes.
            removed = self.blobs.delete_prefix(files.prefix)
            shutil.rmtree(files.job_work_dir, ignore_errors=True)
            # A revert needs them, and the job can no longer be reverted without its files.
            self.destination.forget_before_images(workspace, job.object_name, job_id)
            self._command(job_id, workspace, lambda j: j.purge_blobs())
            return removed
        # A job never started may take a file or start meanwhile: the event is saved first
        # (refused if it started), then only the files it held then are removed.
        held: list[str] = []

        def command(j: ImportJob) -> None:
            held[:] = _source_keys(j)
            j.purge_blobs()

        self._command(job_id, workspace, command)
        return sum(self.blobs.delete_prefix(key) for key in held)

    def check_files_kept(self, workspace: str, job_id: UUID) -> None:
        """Raise FilesPurged when the job's files were purged (a download must not be rebuilt
        from nothing)."""
        if self.load(job_id, workspace).purged:
            raise FilesPurged(job_id, self.status(workspace, job_id).get("purgedAt"))

    # -- reads ----------------------------------------------------------------------------

    def status(self, workspace: str, job_id: UUID) -> dict[str, Any]:
        self.projector.catch_up()
        doc = self.read_models.get(str(job_id))
        if doc is None or doc["workspace"] != workspace or doc["state"] == "deleted":
            raise JobNotFound(job_id)
        return with_diff_samples(self.blobs, JobFiles(workspace, job_id, doc["planVersion"],
                                                      self.work_root), doc)

    def takes_file(self, workspace: str, job_id: UUID) -> bool:
        """Whether an upload to the job would be accepted now."""
        job = self.load(job_id, workspace)
        try:
            job.check_takes_file()
        except DomainError:
            return False
        return True

    def awaits_mapping(self, workspace: str, job_id: UUID) -> bool:
        """Whether the job holds its data and may still be mapped (pending or ready)."""
        job = self.load(job_id, workspace)
        try:
            job.check_allowed("map")
        except DomainError:
            return False
        return job.file is not None or bool(job.files)

    def file_accepted(self, workspace: str, job_id: UUID) -> bool:
        """Whether the job took its file (completed, or waiting at needs_attention)."""
        return self.load(job_id, workspace).state in FILE_ACCEPTED_STATES

    def has_valid_rows(self, workspace: str, job_id: UUID) -> bool:
        """Whether the job's valid rows are final (and kept), so a download link can be handed out."""
        job = self.load(job_id, workspace)
        return job.state == JobState.COMPLETED and not job.purged

    def state_totals(self) -> list[tuple[str, int, int, int, int, int]]:
        """Counts for the metrics endpoint (jobs by state, rows), from the read models."""
        self.projector.catch_up()
        return self.read_models.state_totals()

    def list_jobs(self, flt: JobFilter) -> list[dict[str, Any]]:
        self.projector.catch_up()
        return self.read_models.list(flt)

    def history(self, workspace: str, job_id: UUID) -> list[dict[str, Any]]:
        """The job's whole history, in order, deleted jobs included (it is the audit trail)."""
        self.load(job_id, workspace)
        out = []
        for event in self.events_of(job_id):
            out.append({
                "type": type(event).__name__,
                "version": event.originator_version,
                "timestamp": iso_utc(event.timestamp),
                "data": event_fields(event),
            })
        return out

    def events_of(self, job_id: UUID) -> Iterator[Any]:
        for stored in self.recorder.select_events(job_id):
            yield self.mapper.to_domain_event(stored)

    def error_file(self, workspace: str, job_id: UUID) -> Path | None:
        key = self.error_blob_key(workspace, job_id)
        return self.blobs.local_path(key) if key is not None else None

    def error_download_key(self, workspace: str, job_id: UUID) -> str:
        """The error file's blob key for a download; FilesPurged or NotFound when there is none."""
        key = self.error_blob_key(workspace, job_id)
        if key is None:
            self.check_files_kept(workspace, job_id)
            raise NotFound(f"import job {job_id} has no error file")
        return key

    def error_blob_key(self, workspace: str, job_id: UUID) -> str | None:
        """The error file's blob key, or None when there is no error file."""
        job = self.load(job_id, workspace)
        if job.is_deleted:
            raise JobNotFound(job_id)
        key = self.files(job).error_file
        return key if job.invalid_rows and self.blobs.exists(key) else None

    def stored_source(self, workspace: str, job_id: UUID) -> tuple[str, str] | None:
        """The job's received file as its blob key and file name, or None before one arrives."""
        job = self.load(job_id, workspace)
        if job.is_deleted:
            raise JobNotFound(job_id)
        if job.file is None:
            return None
        return job.file["blobKey"], job.file_name or "source"

    def staged_chunks(self, workspace: str, job_id: UUID) -> list[Path]:
        job = self.load(job_id, workspace)
        if job.is_deleted:
            raise JobNotFound(job_id)
        if job.total_chunks is None:
            return []
        files = self.files(job)
        # This node's work files, else the stored copies (an API node, another worker).
        staged = [chunk_inputs(self.blobs, files, c)[1] for c in job.chunks_with_rows]
        return [path for path in staged if path is not None]

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

    def audiences(self, workspace: str, after: tuple[str, str] | None = None,
                  limit: int = 50) -> list[dict[str, Any]]:
        return self.destination.audiences(workspace, after, limit)

    def find_audience(self, workspace: str, audience_id: str) -> dict[str, Any]:
        found = self.destination.audiences(workspace, limit=1, audience_id=audience_id)
        if not found:
            raise AudienceNotFound(audience_id)
        return found[0]

    def audience_members(self, workspace: str, audience_id: str, after: str | None = None,
                         limit: int = 100) -> list[dict[str, Any]]:
        """The audience's members now (primary-key objects), those after the member `after`."""
        self.find_audience(workspace, audience_id)
        return [json.loads(k) for k in self.destination.audience_members(workspace, audience_id,
                                                                         after, limit)]

    def schema_of(self, workspace: str, object_name: str) -> TableSchema:
        return self._schema(workspace, object_name)


@dataclass(frozen=True)
class _Collections:
    """The list and the audience a job's merged keys go to."""

    list_name: str | None  # create a list of this name
    target_list_id: str | None  # or fill this existing one
    audience_name: str | None = None  # and/or make a dynamic audience of this name

    def __post_init__(self) -> None:
        if self.list_name is not None and self.target_list_id is not None:
            raise DomainError("give either a list to create or a target list, not both")


def _check_callback_url(url: str, allow_private: bool) -> None:
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise DomainError("callbackUrl must be an absolute http:// or https:// URL")
    if not allow_private:  # names are resolved again by the sender, just before each call
        check_callback_host(parts.hostname)


def _source_keys(job: ImportJob) -> list[str]:
    if job.files:
        return [f["blobKey"] for f in job.files]
    return [job.file["blobKey"]] if job.file is not None else []


def _fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _remaining(file: IO[bytes]) -> int | None:
    """The bytes left in a file object from its position, when it can tell (None for a pipe)."""
    try:
        here = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(here)
        return end - here
    except (OSError, ValueError):
        return None
