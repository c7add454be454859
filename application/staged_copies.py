"""A one-worker job's staged chunks kept in a shared blob store too (ADR 0122).

A job validated by one worker stages each chunk's valid rows and row index in that worker's
work directory. With a blob store other machines share (S3), each is also copied, on a thread
beside validation, to the job's shared parts (JobParts, the home a split job's chunks already
have), and every copy is stored before the job leaves validation: so a merge resumed on
another machine, or an export built on an API node, reads the stored copies when the local
files are not there.

    with StagedCopies(blobs, files) as copies:
        copies.keep(chunk_index)      # once the chunk's files are in place
        copies.wait()                 # before the job's next stage is saved
    row_index, staged = chunk_inputs(blobs, files, chunk_index)
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from lading.application.job_files import JobFiles
from lading.application.job_parts import JobParts
from lading.application.ports import BlobStore


def shared_parts(blobs: BlobStore, files: JobFiles) -> JobParts:
    return JobParts(blobs, files.parts, files.work_dir / "parts")


def chunk_inputs(blobs: BlobStore, files: JobFiles, chunk: int) -> tuple[Path, Path | None]:
    """The chunk's row index and staged rows (None: none staged): this process's work files,
    else, with a shared store, the stored copies (a missing row index is a path to nothing)."""
    row_index, staged = files.row_index(chunk), files.staged_chunk(chunk)
    if row_index.exists() or staged.exists() or not blobs.shared:
        return row_index, staged if staged.exists() else None
    return shared_parts(blobs, files).settled_inputs(chunk)


class StagedCopies:
    """Copies each validated chunk's files into the shared parts, one at a time, off the
    validating thread; nothing is copied with a store only this machine reads."""

    def __init__(self, blobs: BlobStore, files: JobFiles) -> None:
        self.files = files
        self.parts = shared_parts(blobs, files)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="lading-copy") \
            if blobs.shared else None
        self._pending: list[Future[None]] = []

    def keep(self, chunk: int) -> None:
        if self._pool is not None:
            self._pending.append(self._pool.submit(self._copy, chunk))

    def _copy(self, chunk: int) -> None:
        for source, name in ((self.files.staged_chunk(chunk), JobParts.staged(chunk)),
                             (self.files.row_index(chunk), JobParts.rows(chunk))):
            if source.exists():
                self.parts.put_file(name, source)

    def wait(self) -> None:
        """Return once every chunk kept so far is stored (raise what a copy raised)."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def __enter__(self) -> StagedCopies:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._pool is not None:
            for future in self._pending:
                future.cancel()
            self._pool.shutdown(wait=True)
