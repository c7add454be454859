"""What the application needs from the outside world, as typing.Protocols.

Adapters implement these; entrypoints/bootstrap.py picks which. Row data crosses these ports
only as opaque batches (`RowBatch`): the application orchestrates, it never looks inside rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol
from uuid import UUID

from lading.domain.plan import ImportPlan
from lading.domain.reference_validator import KeyLookup
from lading.domain.table_schema import TableSchema

RowBatch = Any  # a pyarrow.Table of typed values, columns named as the object's fields
PreparedRows = Any  # a chunk a DestinationStore prepared for merging (its own, opaque)

__all__ = ["KeyLookup"]  # declared in the domain; the ports' users import it from here


@dataclass(frozen=True)
class SourceFile:
    """A received file: where it is on local disk and the name the client gave it."""

    path: Path
    file_name: str


@dataclass(frozen=True)
class ValidatedChunk:
    """What validating one chunk of the source produced. Counts, codes and references only."""

    index: int
    read_rows: int
    valid_rows: int
    rejected_by_code: dict[str, int]  # rejected rows by primary code
    rejected_by_field: dict[str, dict[str, int]]  # field -> code -> count, every error of every row
    error_segment: tuple[int, int] | None  # (offset, length) in bytes of the error file
    staged_path: str | None  # Arrow IPC file of this chunk's valid rows (None when none)
    healed_by_field: dict[str, dict[str, int]] = field(default_factory=dict)  # field -> kind -> n
    warnings_by_field: dict[str, int] = field(default_factory=dict)  # landing_friendly nulls
    header_healing: dict[str, str] = field(default_factory=dict)  # chunk 0: source col -> field
    column_formats: dict[str, str] = field(default_factory=dict)  # chunk 0: field -> format used
    # chunk 0: every rename with the mapped name it stands for and why (HeaderRename.to_dict)
    header_renames: tuple[dict[str, Any], ...] = ()
    # How far into the source's files on disk reading had got, of their total size (progress).
    source_bytes_read: int = 0
    source_bytes: int = 0
    # Every row read, for the per-row results file (None when the chunk read no row)
    row_index: str | None = None
    # The chunk's first rows of each healing (field -> kind -> [{rowNumber, value, healed}]) and
    # of each landing_friendly warning (field -> [{rowNumber, value}]), for the detailed report.
    healing_samples: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    warning_samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def invalid_rows(self) -> int:
        return self.read_rows - self.valid_rows


class ValidationEngine(Protocol):
    def validate(
        self,
        source: SourceFile | list[SourceFile],
        schema: TableSchema,
        plan: ImportPlan,
        workdir: Path,
        error_file: Path,
        key_lookup: KeyLookup | None = None,
    ) -> Iterator[ValidatedChunk]:
        """Read and validate the whole source in bounded chunks, in source order.

        Several files are read in order as one source: each header matched on its own, row
        numbers continuing, keys unique across them, error lines naming their `file`.

        Writes each chunk's valid rows to `workdir` and its rejected rows to `error_file`
        (JSON Lines, appended). Deterministic: the same file and plan give the same chunks.
        Raises domain.errors.SourceUnreadable when the file cannot be imported at all.
        """
        ...

    def load_chunk(self, staged_path: str) -> RowBatch:
        """Read back a staged chunk for merging."""
        ...

    def write_results_part(self, row_index: str | None, staged_path: str | None,
                           key_fields: tuple[str, ...], outcomes: list[str],
                           out: IO[bytes]) -> int:
        """Write one chunk's per-row results lines (JSON Lines, source order) from its row
        index, its staged rows and the merge's outcomes (one per staged row); return lines."""
        ...

    def write_results_csv(self, lines: Iterable[bytes], out: IO[bytes]) -> int:
        """The results lines as CSV (rowNumber,outcome,key,code); return rows written."""
        ...

    def write_valid_rows_csv(self, staged_paths: list[str], out: IO[bytes]) -> int:
        """Write the staged valid rows as one CSV (header = field names); return rows written."""
        ...

    def write_annotated_csv(self, sources: list[SourceFile], error_file: Path | None,
                            out: IO[bytes], workdir: Path, rejected_only: bool = False) -> int:
        """Write the source rows as read (source columns) with `_status` (valid | rejected)
        and `_errors`, in source order; only the rejected ones (without `_status`) when
        `rejected_only`. Returns rows written."""
        ...

    def write_error_csv(self, error_file: Path | None, out: IO[bytes]) -> int:
        """Write the error file as CSV (rowNumber, code, error, source columns); return rows."""
        ...


@dataclass(frozen=True)
class MergeCounts:
    """What merging a chunk did to each of its rows. `unchanged`: an update or upsert of a row
    equal to the stored one (after type coercion), which is counted and not written (SPEC §8)."""

    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.inserts + self.updates + self.deletes + self.unchanged


# Each merged row's outcome, in the order the rows were given: "inserted", "updated",
# "unchanged" or "deleted"; or "KEY_EXISTS" / "KEY_NOT_FOUND" for a row that another writer's
# key change kept out after validation had checked its key (it is in no merged count).
RowOutcomesSink = Callable[[list[str]], None]


@dataclass(frozen=True)
class ChunkDiff:
    """What merging a chunk would do (a dry run, SPEC §8): the counts the merge would report and
    up to the asked number of sample rows per kind, `{key, before?, after?}`, JSON-ready."""

    counts: MergeCounts
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class RevertConflicts:
    """Keys a job changed that later jobs changed again: up to 20 `{key, jobId}`, and how many."""

    conflicts: list[dict[str, Any]]
    count: int


@dataclass(frozen=True)
class LedgerEntry:
    """Identifies one merged chunk; recorded in the destination with the chunk's rows."""

    job_id: UUID
    plan_version: int
    chunk: int


class DestinationStore(Protocol):
    # How many chunks of one job this destination merges at once, each in a transaction of its
    # own (a job's chunks never share a key, ADR 0055); 1 where merges cannot run side by side.
    merges_at_once: int

    def ensure_object(self, workspace: str, object_name: str, schema: TableSchema) -> None:
        """Create the object's table (keyed by primaryKey) if it does not exist."""
        ...

    def existing_keys(
        self, workspace: str, object_name: str, schema: TableSchema, keys: list[tuple[Any, ...]]
    ) -> set[tuple[Any, ...]]: ...

    def prepare_chunk(self, schema: TableSchema, operation: str, rows: RowBatch) -> PreparedRows:
        """Do what a merge can do before its transaction (checks, conversion, staging), so the
        next chunk can be prepared on another thread while one merges. Hand the result to
        merge_chunk as its `rows`, or to release() when it will not be merged."""
        ...

    def release(self, prepared: PreparedRows) -> None: ...

    def merge_chunk(
        self,
        workspace: str,
        object_name: str,
        schema: TableSchema,
        operation: str,
        rows: RowBatch | PreparedRows,
        entry: LedgerEntry,
        list_id: str | None = None,
        on_outcomes: RowOutcomesSink | None = None,
    ) -> MergeCounts:
        """Apply the rows and record `entry` in one transaction; if `entry` is already
        recorded, change nothing and return the recorded counts. With `list_id` (and any
        operation but delete) the rows' keys join that list in the same transaction.
        With `on_outcomes`, it is called inside that transaction, before it commits (on
        PostgreSQL's fast path on another thread, beside the write: ADR 0113), with
        each row's outcome in the order the rows were given (see RowOutcomesSink); if it
        raises, nothing is merged. Prepared rows are released whatever happens."""
        ...

    def ensure_list(self, workspace: str, list_id: str, name: str, object_name: str) -> None:
        """Create the (empty) list unless it exists."""
        ...

    def find_list(self, workspace: str, list_id: str) -> dict[str, Any] | None:
        """{listId, name, objectName, createdAt, memberCount}, or None (also for another
        workspace's list)."""
        ...

    def lists(self, workspace: str, after: tuple[str, str] | None = None,
              limit: int = 50) -> list[dict[str, Any]]:
        """The workspace's lists in (createdAt, listId) order, those after `after`."""
        ...

    def list_members(self, workspace: str, list_id: str, after: str | None = None,
                     limit: int = 100) -> list[str]:
        """Member keys (JSON objects of the primary-key fields, as text) in text order."""
        ...

    def ensure_audience(self, workspace: str, audience_id: str, name: str, object_name: str,
                        job_id: UUID) -> None:
        """Create the dynamic audience of `job_id`'s records unless it exists. From then on
        every merge into the object records which job last wrote each key (in its own
        transaction), which is what the audience's members are read from."""
        ...

    def audiences(self, workspace: str, after: tuple[str, str] | None = None, limit: int = 50,
                  audience_id: str | None = None) -> list[dict[str, Any]]:
        """{audienceId, name, objectName, jobId, createdAt, memberCount} in (createdAt,
        audienceId) order, those after `after`; memberCount is evaluated now."""
        ...

    def audience_members(self, workspace: str, audience_id: str, after: str | None = None,
                         limit: int = 100) -> list[str]:
        """Keys of the records whose last write came from the audience's job, in text order."""
        ...

    def merged_chunks(self, job_id: UUID, plan_version: int) -> dict[int, MergeCounts]: ...

    def preview_chunk(
        self,
        workspace: str,
        object_name: str,
        schema: TableSchema,
        operation: str,
        rows: RowBatch | PreparedRows,
        entry: LedgerEntry,
        sample_limits: dict[str, int],
    ) -> ChunkDiff:
        """What merge_chunk would do to the destination as it is now, writing nothing (no row,
        no ledger entry, no list member); `sample_limits`: how many samples of each kind
        (inserted, updated, deleted) to return. Prepared rows are released whatever happens."""
        ...

    def revert_chunk(self, workspace: str, object_name: str, schema: TableSchema,
                     entry: LedgerEntry) -> tuple[int, int]:
        """Undo one merged chunk from its before-images (inserted rows deleted, updated and
        deleted rows restored) in one transaction, exactly once: a chunk already reverted
        changes nothing. Returns (rows removed, rows restored) as the first revert did."""
        ...

    def before_images_kept(self, job_id: UUID, plan_version: int) -> int:
        """How many of the job's merged chunks still hold their before-images (every chunk
        that merged rows, until it is reverted or its images are forgotten)."""
        ...

    def forget_before_images(self, workspace: str, object_name: str, job_id: UUID) -> int:
        """Drop the job's before-images (retention); it can no longer be reverted."""
        ...

    def revert_conflicts(self, workspace: str, object_name: str, schema: TableSchema,
                         job_id: UUID, plan_version: int, limit: int = 20) -> RevertConflicts:
        """The job's changed keys that a later job, not reverted, changed again."""
        ...

    def read_records(
        self, workspace: str, object_name: str, schema: TableSchema, limit: int | None = None,
        after: tuple[Any, ...] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The object's records in key order, values JSON-ready (None where empty); with `after`
        (a record's primary key as these records give it, in key order), those after that key."""
        ...

    def count_records(self, workspace: str, object_name: str) -> int:
        """How many records the object holds (0 before its table exists)."""
        ...


class ObjectCatalog(Protocol):
    def add(self, workspace: str, name: str, schema: TableSchema) -> None: ...

    def get(self, workspace: str, name: str) -> TableSchema | None: ...

    def names(self, workspace: str) -> list[str]: ...


class WorkspaceLimitStore(Protocol):
    """Each workspace's own limits (by wire name, e.g. maxRows), where it has set any."""

    def overrides(self, workspace: str) -> dict[str, int]: ...

    def set_overrides(self, workspace: str, overrides: dict[str, int]) -> None:
        """Replace the workspace's own limits (an empty dict: the server's settings again)."""
        ...


@dataclass(frozen=True)
class ApiKeyIdentity:
    workspace: str
    scopes: frozenset[str]
    key_id: str
    public_id: str = ""  # the key's part before its secret, as `lading keys create` prints it


class ApiKeyStore(Protocol):
    def create(self, workspace: str, scopes: frozenset[str]) -> str:
        """Store a new key hashed; return the plaintext, which is never stored."""
        ...

    def verify(self, presented: str) -> ApiKeyIdentity | None: ...

    def list_keys(self, workspace: str) -> list[dict[str, Any]]:
        """The workspace's keys, oldest first: public id, scopes, createdAt, revokedAt; never
        a secret or its hash."""
        ...

    def revoke(self, key_id: str) -> bool:
        """Revoke a key for good; False when there is no such live key."""
        ...


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    sha256: str


class BlobTooLarge(Exception):
    """A streamed write went past its allowed size; nothing was kept (raised by write_stream)."""


@dataclass(frozen=True)
class PresignedRequest:
    """A URL a client uses directly against the blob store, with the headers it must send."""

    url: str
    method: str
    headers: dict[str, str]
    expires_at: str  # ISO 8601, UTC


class BlobStore(Protocol):
    # True when other machines read the same blobs (an object store): a job's staged chunks
    # are then kept there too, so that a worker elsewhere can resume its merge (ADR 0122).
    shared: bool

    def put_file(self, key: str, source: Path) -> BlobInfo: ...

    def move_file(self, key: str, source: Path) -> BlobInfo:
        """put_file, then the local file is gone: a work file becomes the blob, never both."""
        ...

    def writer(self, key: str, durable: bool = True) -> AbstractContextManager[IO[bytes]]:
        """Write a blob atomically: a temporary name, renamed on success. Not `durable`: a
        work file, which a machine that loses its page cache may lose (not synced to disk)."""
        ...

    async def write_stream(
        self, key: str, chunks: AsyncIterator[bytes], max_size: int | None = None
    ) -> BlobInfo: ...

    def local_path(self, key: str) -> Path:
        """A local file with the blob's bytes (for a remote store, a cached download)."""
        ...

    def local_head(self, key: str, max_bytes: int) -> tuple[Path, bool]:
        """A local file with at least the blob's first `max_bytes` bytes, and whether it holds
        the whole blob: a remote store fetches no more of a larger blob than that."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int | None:
        """The blob's size in bytes, or None when there is no such blob."""
        ...

    def delete_prefix(self, prefix: str) -> int: ...

    def delete_many(self, keys: list[str]) -> None:
        """Delete these blobs; a key with no blob is skipped."""
        ...

    def delete_stale_temporaries(self, prefix: str, before: datetime) -> int:
        """Remove unfinished writes under `prefix` untouched since `before` (what a killed
        upload leaves: a temporary file, an incomplete multipart upload); return how many."""
        ...

    def presign_put(self, key: str, ttl_seconds: int) -> PresignedRequest | None:
        """A URL to upload the blob straight to the store, or None when the store has none
        (then the API's own signed upload route receives the bytes)."""
        ...

    def presign_get(self, key: str, ttl_seconds: int, file_name: str,
                    media_type: str) -> PresignedRequest | None:
        """A URL to download the blob straight from the store, or None (the API serves it)."""
        ...

    def check(self) -> None:
        """Raise unless the store can be reached (readiness)."""
        ...

    def copy_in(self, url: str, key: str, max_size: int) -> int | None:
        """Copy the object `url` (s3://bucket/key) into blob `key` inside the store, without
        the bytes passing through this process; return its size. None when the store cannot
        read object URLs. Raises ObjectUnreadable, or BlobTooLarge (nothing copied)."""
        ...


class ObjectUnreadable(Exception):
    """An object URL names nothing this installation can read (missing, or access denied)."""


class WorkQueue(Protocol):
    def enqueue(self, job_id: UUID) -> None: ...

    def runnable(self) -> list[UUID]:
        """Jobs a worker may take now: queued, or running with no live process holding them."""
        ...

    def wait(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for new work."""
        ...

    def admission(self, workspace: str) -> AbstractContextManager[None]:
        """Serialise the workspace's starts (and idempotent creates) across processes, so a
        limit check and the command it guards are one step."""
        ...

    def claim(self, job_id: UUID) -> AbstractContextManager[bool]:
        """Hold the right to work on a job; yields False when another live process holds it.
        The right ends with the process: a killed worker's jobs become claimable at once."""
        ...

    def claim_workspace_run(self, workspace: str) -> AbstractContextManager[bool]:
        """Hold the right to run one of the workspace's jobs (the `exclusive` policy); yields
        False while another live process runs one. Ends with the process, like `claim`."""
        ...


@dataclass(frozen=True)
class CallbackOutcome:
    delivered: bool  # a 2xx answer
    attempts: int
    detail: str  # the last HTTP status, or why no answer came


class CallbackSender(Protocol):
    def send(self, url: str, document: dict[str, Any]) -> CallbackOutcome:
        """POST the document as JSON, retrying a few times with backoff; never raises."""
        ...


