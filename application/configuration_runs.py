"""Configuration runs: an import configuration provisioned for an outside system, the files
staged for it, and its runs, one at a time (Vern's companies, SPEC §9.4; reachable natively as
configurations, `/v1` jobs and `lading import FILE...`).

A run is an ordinary job labelled `configuration:{id}` with that configuration as its
concurrency scope: while one is not terminal, another is refused (ScopeBusy, 409). Staged files
are blobs under the configuration, each with what its client declared (name, content type,
size, expiry); a run copies them under its job, read in order as one source.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import IO, Any, TypeVar
from uuid import UUID, uuid4


from lading.application.cohorts import configuration_label
from lading.application.errors import JobNotFound, NotFound, PayloadTooLarge
from lading.application.exports import Exports
from lading.application.import_jobs import ImportJobs
from lading.application.ports import BlobTooLarge
from lading.application.projections import JobFilter
from lading.application.saved_mappings import ImportConfiguration, MappingLibrary
from lading.domain.errors import DomainError, InvalidPlan, TransitionNotAllowed

R = TypeVar("R")
STAGED_UPLOAD_TTL_SECONDS = 3600


class UploadNotFound(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"upload {ref} not found")


class UploadRefused(DomainError):
    """Bytes that are not what the upload declared (content type, size), or a second PUT."""


class UploadUsed(DomainError):
    code = "STATE.CONFLICT"


class NoCompletedRun(NotFound):
    def __init__(self, configuration_id: str) -> None:
        super().__init__(f"import configuration {configuration_id} has no completed run yet")


@dataclass(frozen=True)
class StagedUpload:
    ref: str
    name: str
    content_type: str
    size: int
    expires_at: float  # epoch seconds


def run_scope(configuration_id: str) -> str:
    """The concurrency scope of a configuration's runs: one at a time."""
    return f"configuration:{configuration_id}"


async def _off_loop(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    # Imported here: only an HTTP server's event loop comes this way, and anyio cost every
    # process (each CLI command) a tenth of a second to import.
    import anyio.to_thread

    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


class ConfigurationRuns:
    def __init__(self, jobs: ImportJobs, library: MappingLibrary, exports: Exports,
                 clock: Callable[[], float] = time.time) -> None:
        self.jobs = jobs
        self.library = library
        self.exports = exports
        self.clock = clock

    # -- provisioning -----------------------------------------------------------------------

    def provision(self, workspace: str, external_id: str, name: str, object_name: str,
                  plan_from: str | None = None) -> tuple[ImportConfiguration, bool]:
        """The configuration for `external_id` (created now: True). `plan_from` names a
        mapping template or a configuration whose plan it starts with; else same-named columns."""
        mapping: dict[str, Any] = {}
        if plan_from:
            mapping = self._plan_of(workspace, object_name, plan_from)
        return self.library.provision_configuration(workspace, external_id, name, object_name,
                                                    mapping, source=name)

    def _plan_of(self, workspace: str, object_name: str, plan_from: str) -> dict[str, Any]:
        found = self.library.store.configuration(workspace, plan_from)
        if found is None:
            template = self.library.store.template(workspace, plan_from)
            if template is None:
                raise NotFound(f"no mapping template or import configuration {plan_from}")
            found_object, mapping = template.object_name, template.mapping
        else:
            found_object, mapping = found.object_name, found.mapping
        if found_object != object_name:
            raise InvalidPlan(f"{plan_from} maps into '{found_object}', not '{object_name}'")
        return dict(mapping)

    # -- staged files -----------------------------------------------------------------------

    def _upload_prefix(self, workspace: str, configuration_id: str, ref: str) -> str:
        return f"{workspace}/configurations/{configuration_id}/uploads/{ref}"

    def stage_upload(self, workspace: str, configuration_id: str, name: str, content_type: str,
                     size: int) -> StagedUpload:
        """Reserve a single-use slot for one file; its declaration is kept beside it."""
        self.library.configuration(workspace, configuration_id)
        limit = self.jobs.limits_of(workspace).max_file_size
        if size > limit:
            raise PayloadTooLarge(f"size is over the limit of {limit} bytes")
        staged = StagedUpload(ref=uuid4().hex, name=name, content_type=content_type.strip().lower(),
                              size=size, expires_at=self.clock() + STAGED_UPLOAD_TTL_SECONDS)
        with self.jobs.blobs.writer(f"{self._upload_prefix(workspace, configuration_id, staged.ref)}"
                                    "/declared.json") as out:
            out.write(json.dumps(staged.__dict__).encode())
        return staged

    def staged(self, workspace: str, configuration_id: str, ref: str) -> StagedUpload:
        key = f"{self._upload_prefix(workspace, configuration_id, _safe_ref(ref))}/declared.json"
        if not self.jobs.blobs.exists(key):
            raise UploadNotFound(ref)
        return StagedUpload(**json.loads(self.jobs.blobs.local_path(key).read_text()))

    async def receive_upload(self, workspace: str, configuration_id: str, ref: str,
                             content_type: str, chunks: AsyncIterator[bytes],
                             content_length: int | None) -> StagedUpload:
        """The staged file's bytes, once: as declared (content type, size), before it expires."""
        staged = await _off_loop(self.staged, workspace, configuration_id, ref)
        given = content_type.split(";")[0].strip().lower()
        if given != staged.content_type.split(";")[0].strip():
            raise UploadRefused(f"Content-Type must be {staged.content_type}, as declared, not "
                                f"'{content_type or 'nothing'}'")
        if self.clock() > staged.expires_at:
            raise UploadRefused("this upload expired; ask for a new one")
        if content_length is not None and content_length != staged.size:
            raise UploadRefused(f"Content-Length {content_length} differs from the declared size"
                                f" {staged.size}")
        key = f"{self._upload_prefix(workspace, configuration_id, staged.ref)}/data"
        if await _off_loop(self.jobs.blobs.exists, key):
            raise UploadUsed("this upload URL was already used")
        try:
            info = await self.jobs.blobs.write_stream(key, chunks, max_size=staged.size)
        except BlobTooLarge:
            raise UploadRefused(f"the body is larger than the declared size {staged.size}") from None
        if info.size != staged.size:
            await _off_loop(self.jobs.blobs.delete_prefix, key)
            raise UploadRefused(f"received {info.size} bytes but the declared size is {staged.size}")
        return staged

    # -- runs -------------------------------------------------------------------------------

    def start_run(self, workspace: str, configuration_id: str, *,
                  files: list[tuple[str, str]] | None = None,
                  rows: list[dict[str, Any]] | None = None,
                  idempotency_key: str | None = None) -> tuple[dict[str, Any], bool]:
        """A run of the configuration over staged files (name, upload ref), read in order as
        one source, or inline rows. Returns (its status, created); the same idempotency key and
        payload return the existing run, another payload is IdempotencyConflict, and a run
        still going is ScopeBusy."""
        if (files is None) == (rows is None):
            raise DomainError("give either files or rows")
        config = self.library.configuration(workspace, configuration_id)
        options: dict[str, Any] = {
            "source": config.source, "labels": [configuration_label(config.id), *config.labels],
            "idempotency_key": f"{run_scope(config.id)}/{idempotency_key}" if idempotency_key else None,
            "concurrency_scope": run_scope(config.id),
        }
        if rows is not None:
            job_id, created = self.jobs.submit_rows(workspace, config.object_name, rows,
                                                    config.mapping, **options)
            return self.jobs.status(workspace, job_id), created
        if not files:
            raise DomainError("files must name at least one upload")
        paths = []
        for name, ref in files:
            self.staged(workspace, config.id, ref)
            key = f"{self._upload_prefix(workspace, config.id, _safe_ref(ref))}/data"
            if not self.jobs.blobs.exists(key):
                raise DomainError(f"upload {ref} has no bytes yet: PUT the file to its upload_url first")
            paths.append((name, self.jobs.blobs.local_path(key)))
        job_id, created = self.jobs.submit_files(workspace, config.object_name, paths,
                                                 config.mapping, **options)
        return self.jobs.status(workspace, job_id), created

    def create_upload_job(self, workspace: str, configuration_id: str, file_name: str,
                          file_size: int, source: str) -> UUID:
        """A job of the configuration waiting for one uploaded file, mapped later from the
        configuration's plan (the console's new import from a configuration). It takes no
        turn among the configuration's runs until a person starts it."""
        config = self.library.configuration(workspace, configuration_id)
        job_id, _ = self.jobs.create_job(workspace, config.object_name, file_name, file_size,
                                         source=source,
                                         labels=[configuration_label(config.id), *config.labels])
        return job_id

    def run(self, workspace: str, configuration_id: str, job_id: UUID) -> dict[str, Any]:
        """The run's status; paused at needs_attention, with `attention`: what failed per field
        (rejected_by_field), for a person to decide on."""
        doc = self.jobs.status(workspace, job_id)
        if configuration_label(configuration_id) not in (doc.get("labels") or []):
            raise JobNotFound(job_id)  # another configuration's job is not one of its runs
        if doc["state"] == "needs_attention":
            return {**doc, "attention": self.rejected_by_field(workspace, job_id, doc)}
        return doc

    def decide(self, workspace: str, configuration_id: str, job_id: UUID,
               choose: Callable[[dict[str, Any]], list[dict[str, Any]]]) -> dict[str, Any]:
        """Approve the paused run's proposal as the changes `choose(proposal)` picks (none:
        complete the run on the current plan, the flagged rows left out); it runs again."""
        doc = self.run(workspace, configuration_id, job_id)
        if doc["state"] != "needs_attention":
            raise TransitionNotAllowed(doc["state"], "approve_fix")
        proposal = doc.get("proposal") or {}
        self.jobs.approve(workspace, job_id, {**proposal, "changes": choose(proposal)})
        return self.jobs.status(workspace, job_id)

    def rejected_by_field(self, workspace: str, job_id: UUID, doc: dict[str, Any],
                          samples: int = 5, scan: int = 5000) -> dict[str, dict[str, Any]]:
        """Per field of the rejected rows: the source column, how many rows, a few failing
        values and the first message (from the first `scan` lines of the error file)."""
        out: dict[str, dict[str, Any]] = {
            name: {"column": None, "rows": sum(codes.values()), "samples": [], "message": None}
            for name, codes in (doc.get("rejectedByField") or {}).items()}
        path = self.jobs.error_file(workspace, job_id)
        if path is None:
            return out
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh):
                if number >= scan:
                    break
                for error in json.loads(line).get("errors") or ():
                    seen = out.get(error.get("field") or "")
                    if seen is None:
                        continue
                    seen["column"] = seen["column"] or error.get("column")
                    seen["message"] = seen["message"] or error.get("message")
                    value = error.get("value")
                    if value is not None and value not in seen["samples"] and len(seen["samples"]) < samples:
                        seen["samples"].append(value)
        return out

    def latest_completed(self, workspace: str, configuration_id: str) -> dict[str, Any]:
        self.library.configuration(workspace, configuration_id)
        found = self.jobs.list_jobs(JobFilter(workspace=workspace, states=("completed",),
                                              label=configuration_label(configuration_id), limit=1))
        if not found:
            raise NoCompletedRun(configuration_id)
        return found[0]

    def export(self, workspace: str, configuration_id: str, which: str, out: IO[bytes]) -> int:
        """The latest completed run's rows as CSV: `valid` (the object's fields), `invalid`
        (rejected rows' source columns and `_errors`) or `all` (every source row, with
        `_status` and `_errors`); returns the rows written."""
        job_id = UUID(self.latest_completed(workspace, configuration_id)["jobId"])
        if which == "valid":
            return self.exports.export_valid_rows(workspace, job_id, out)
        return self.exports.export_annotated(workspace, job_id, out, rejected_only=which == "invalid")


def _safe_ref(ref: str) -> str:
    """A ref as this module made it (hex), so a client's ref never walks the blob keys."""
    if not ref or not all(c in "0123456789abcdef" for c in ref) or len(ref) > 64:
        raise UploadNotFound(ref)
    return ref

