"""Files that arrive as a stream of bytes: an upload to a job's signed slot, or a push of a
whole file to an import configuration. The bytes go straight to the blob store, never whole
into memory; a stream that does not arrive whole leaves nothing behind."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar
from uuid import UUID

import anyio.to_thread

from lading.application.errors import PayloadTooLarge
from lading.application.import_jobs import ImportJobs
from lading.application.direct_uploads import complete_direct_upload, direct_upload_key
from lading.application.ports import BlobInfo, BlobTooLarge, PresignedRequest
from lading.domain.errors import DomainError

R = TypeVar("R")


class UploadRefused(DomainError):
    """A body that does not match what the job was told to expect."""


async def _off_loop(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    # eventsourcing and the blob store's bookkeeping are synchronous: never on the event loop.
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


class Uploads:
    def __init__(self, jobs: ImportJobs) -> None:
        self.jobs = jobs

    def max_file_size(self, workspace: str) -> int:
        return self.jobs.limits_of(workspace).max_file_size

    def direct_upload(self, workspace: str, job_id: UUID, ttl_seconds: int) -> PresignedRequest | None:
        """A presigned PUT straight to the blob store (ADR 0051), or None when the store has none."""
        key = direct_upload_key(self.jobs, workspace, job_id)
        return self.jobs.blobs.presign_put(key, ttl_seconds)

    def complete_direct_upload(self, workspace: str, job_id: UUID) -> int:
        """The client's PUT to the presigned URL finished: the job takes the object; its size."""
        return complete_direct_upload(self.jobs, workspace, job_id, self.max_file_size(workspace))

    async def upload(self, workspace: str, job_id: UUID, chunks: AsyncIterator[bytes],
                     content_length: int | None) -> BlobInfo:
        """Receive the job's file; the job holds it only once all of it arrived."""
        status = await _off_loop(self.jobs.status, workspace, job_id)
        if status.get("expectedFiles"):
            raise UploadRefused("this job takes several files: PUT each to its own upload URL")
        key = await _off_loop(self.jobs.upload_key, workspace, job_id)
        limit = await _off_loop(self.max_file_size, workspace)
        info = await self._receive(key, chunks, content_length, status.get("fileSize"), limit)
        try:
            await _off_loop(self.jobs.file_received, workspace, job_id, info.key, info.size, info.sha256)
        except BaseException:
            await _off_loop(self.jobs.blobs.delete_prefix, info.key)
            raise
        return info

    async def upload_part(self, workspace: str, job_id: UUID, index: int,
                          chunks: AsyncIterator[bytes], content_length: int | None) -> BlobInfo:
        """Receive one of a several-file job's files (0-based, in reading order), checked
        against the size it was announced with; the job holds its source once all arrived."""
        expected = await _off_loop(self.jobs.expected_files, workspace, job_id)
        if not 0 <= index < len(expected):
            raise UploadRefused(f"this job has no file number {index + 1}")
        key = await _off_loop(self.jobs.upload_key, workspace, job_id)
        limit = await _off_loop(self.max_file_size, workspace)
        info = await self._receive(key, chunks, content_length, expected[index]["fileSize"], limit)
        try:
            await _off_loop(self.jobs.part_received, workspace, job_id, index, info.key, info.size,
                            info.sha256)
        except BaseException:
            await _off_loop(self.jobs.blobs.delete_prefix, info.key)
            raise
        return info

    async def push(self, workspace: str, object_name: str, mapping: dict[str, Any],
                   chunks: AsyncIterator[bytes], content_length: int | None, file_name: str, *,
                   source: str | None, labels: list[str] | None, start: bool = False) -> UUID:
        """Create a job from a pushed body, holding the file and mapped: `ready` to start,
        or queued with `start` (a refused start then leaves nothing behind either)."""
        job_id, _ = await _off_loop(self.jobs.create_job, workspace, object_name, file_name,
                                    content_length, source=source, labels=labels)
        try:
            await self.upload(workspace, job_id, chunks, content_length)
            await _off_loop(self.jobs.map, workspace, job_id, mapping)
            if start:
                await _off_loop(self.jobs.start, workspace, job_id)
        except BaseException:
            # A push that did not arrive whole leaves nothing behind but the job's history.
            await _off_loop(self.jobs.delete, workspace, job_id)
            raise
        return job_id

    async def _receive(self, key: str, chunks: AsyncIterator[bytes], content_length: int | None,
                       declared: int | None, max_file_size: int) -> BlobInfo:
        if content_length is not None:
            if content_length > max_file_size:
                raise PayloadTooLarge(f"the body is over the limit of {max_file_size} bytes")
            if declared is not None and content_length != declared:
                raise UploadRefused(
                    f"Content-Length {content_length} differs from the declared fileSize {declared}")
        limit = min(declared, max_file_size) if declared is not None else max_file_size
        try:
            info = await self.jobs.blobs.write_stream(key, chunks, max_size=limit)
        except BlobTooLarge:
            if declared is not None and declared < max_file_size:
                raise UploadRefused(f"the body is larger than the declared fileSize {declared}") from None
            raise PayloadTooLarge(f"the body is over the limit of {max_file_size} bytes") from None
        if declared is not None and info.size != declared:
            await _off_loop(self.jobs.blobs.delete_prefix, key)
            raise UploadRefused(f"received {info.size} bytes but the declared fileSize is {declared}")
        return info
