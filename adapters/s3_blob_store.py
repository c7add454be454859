"""Blobs in an S3-compatible bucket (AWS S3, MinIO, moto, …), under one key prefix.

Writes stream: `writer` and `write_stream` send multipart uploads of `part_size` parts, so memory
holds one part at most whatever the blob's size, and a failed write aborts its upload (nothing
half-written becomes visible). Reads go through a local read-through cache (ADR 0050): the
engine and the CLI read files by path, so `local_path` downloads the object once, in streamed
blocks, to a file under `cache_dir` and re-downloads only when the object's ETag changed.
Presigned URLs let clients PUT and GET the bytes straight from the bucket.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import urlparse

import anyio.to_thread
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from lading.adapters.filesystem_blob_store import BlobTooLarge
from lading.application.ports import BlobInfo, ObjectUnreadable, PresignedRequest

PART_SIZE = 8 * 1024 * 1024  # S3 wants parts of 5 MiB at least (all but the last)
_READ_BLOCK = 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # without leading or trailing slash; may be empty

    @classmethod
    def parse(cls, url: str) -> S3Location:
        """`s3://bucket` or `s3://bucket/some/prefix`."""
        parts = urlparse(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3://bucket[/prefix] URL: {url!r}")
        return cls(parts.netloc, parts.path.strip("/"))


def s3_client(endpoint_url: str | None, region: str | None, access_key: str | None,
              secret_key: str | None) -> Any:
    """A boto3 client that signs presigned URLs so any S3-compatible server accepts them:
    SigV4 and path-style addressing (virtual-host style needs DNS per bucket)."""
    return boto3.client(
        "s3", endpoint_url=endpoint_url or None, region_name=region or "us-east-1",
        aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      retries={"max_attempts": 5, "mode": "standard"}),
    )


class S3BlobStore:
    shared = True
    def __init__(self, location: S3Location, client: Any, cache_dir: Path,
                 part_size: int = PART_SIZE, presign_client: Any = None) -> None:
        self.location = location
        self.client = client
        # Presigned URLs name the host clients reach, which may differ from the one Lading's
        # nodes use (a container network): SigV4 signs the host, so they need their own client.
        self.presign_client = presign_client or client
        self.cache_dir = Path(cache_dir)
        self.part_size = part_size

    @property
    def bucket(self) -> str:
        return self.location.bucket

    def _object_key(self, key: str) -> str:
        path = PurePosixPath(key)
        if not key or path.is_absolute() or any(p in ("", ".", "..") for p in key.split("/")):
            raise ValueError(f"blob key escapes the store: {key!r}")
        return f"{self.location.prefix}/{key}" if self.location.prefix else key

    # -- writes ---------------------------------------------------------------------------

    def put_file(self, key: str, source: Path) -> BlobInfo:
        digest = hashlib.sha256()
        size = 0
        with open(source, "rb") as fh:
            while block := fh.read(_READ_BLOCK):
                digest.update(block)
                size += len(block)
        # The managed transfer splits large files into parts read from disk, never whole.
        self.client.upload_file(str(source), self.bucket, self._object_key(key))
        self._forget_cached(key)
        return BlobInfo(key=key, size=size, sha256=digest.hexdigest())

    def move_file(self, key: str, source: Path) -> BlobInfo:
        info = self.put_file(key, source)
        Path(source).unlink()
        return info

    @contextmanager
    def writer(self, key: str, durable: bool = True) -> Iterator[IO[bytes]]:
        # Every object the bucket accepted is durable: `durable` asks nothing more of it.
        upload = _MultipartUpload(self.client, self.bucket, self._object_key(key), self.part_size)
        out = _PartWriter(upload)
        try:
            yield out
            out.finish()
        except BaseException:
            upload.abort()
            raise
        self._forget_cached(key)

    async def write_stream(self, key: str, chunks: AsyncIterator[bytes],
                           max_size: int | None = None) -> BlobInfo:
        upload = _MultipartUpload(self.client, self.bucket, self._object_key(key), self.part_size)
        digest = hashlib.sha256()
        size = 0
        pending = bytearray()
        try:
            async for block in chunks:
                size += len(block)
                if max_size is not None and size > max_size:
                    raise BlobTooLarge(f"more than {max_size} bytes")
                digest.update(block)
                pending += block
                if len(pending) >= self.part_size:
                    part, pending = bytes(pending), bytearray()
                    await anyio.to_thread.run_sync(upload.send_part, part)
            await anyio.to_thread.run_sync(upload.complete, bytes(pending))
        except BaseException:
            await anyio.to_thread.run_sync(upload.abort)
            raise
        self._forget_cached(key)
        return BlobInfo(key=key, size=size, sha256=digest.hexdigest())

    def delete_prefix(self, prefix: str) -> int:
        """Delete the blob `prefix` and every blob under `prefix/` (not `prefix2/…`)."""
        base = self._object_key(prefix)
        doomed = [base] if self._head(base) is not None else []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=base + "/"):
            doomed.extend(item["Key"] for item in page.get("Contents", []))
        for start in range(0, len(doomed), 1000):
            batch = [{"Key": k} for k in doomed[start:start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        self._forget_cached(prefix)
        return len(doomed)

    def delete_many(self, keys: list[str]) -> None:
        objects = [self._object_key(key) for key in keys]
        for start in range(0, len(objects), 1000):  # the most one request may name
            batch = [{"Key": k} for k in objects[start:start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        for key in keys:
            self._forget_cached(key)

    def delete_stale_temporaries(self, prefix: str, before: datetime) -> int:
        base = self._object_key(prefix) + "/"
        removed = 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=base):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < before:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                       UploadId=upload["UploadId"])
                    removed += 1
        return removed

    # -- reads ----------------------------------------------------------------------------

    def exists(self, key: str) -> bool:
        return self._head(self._object_key(key)) is not None

    def size(self, key: str) -> int | None:
        head = self._head(self._object_key(key))
        return None if head is None else int(head["ContentLength"])

    def local_path(self, key: str) -> Path:
        """The blob's bytes in the local cache, downloaded when absent or stale (ETag)."""
        object_key = self._object_key(key)
        cached = self.cache_dir / object_key
        head = self._head(object_key)
        if head is None:
            self._forget_cached(key)
            return cached  # like the filesystem store: a path to nothing
        return self._cached(object_key, head["ETag"], cached)

    def _cached(self, object_key: str, etag: str, cached: Path, **ranged: str) -> Path:
        """`cached`, holding the object at `etag` (or the part `ranged` names): downloaded
        unless the tag beside it says it already does."""
        tag_file = cached.with_name(cached.name + ".etag")
        if _holds(cached, etag):
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        temp = cached.with_name(f".{cached.name}.{uuid.uuid4().hex}.tmp")
        try:
            # IfMatch: if the object is replaced mid-download, fail rather than mix two versions.
            body = self.client.get_object(Bucket=self.bucket, Key=object_key, IfMatch=etag,
                                          **ranged)["Body"]
            with open(temp, "wb") as fh:
                for block in body.iter_chunks(_READ_BLOCK):
                    fh.write(block)
            os.replace(temp, cached)
            tag_file.write_text(etag)
        finally:
            if temp.exists():
                temp.unlink()
        return cached

    def copy_in(self, url: str, key: str, max_size: int) -> int | None:
        """A server-side copy (CopyObject, in parts beyond 5 GiB by boto3's managed copy) of
        the object at the version its HEAD saw: the bytes never leave the store."""
        parts = urlparse(url)
        source = {"Bucket": parts.netloc, "Key": parts.path.lstrip("/")}
        try:
            head = self.client.head_object(**source)
        except ClientError as exc:
            reason = exc.response.get("Error", {}).get("Code", "error")
            raise ObjectUnreadable(f"sourceUrl '{url}' cannot be read ({reason})") from None
        size = int(head["ContentLength"])
        if size > max_size:
            raise BlobTooLarge(f"the object is over the limit of {max_size} bytes")
        if "VersionId" in head:
            source["VersionId"] = head["VersionId"]
        try:
            self.client.copy(source, self.bucket, self._object_key(key))
        except ClientError as exc:
            reason = exc.response.get("Error", {}).get("Code", "error")
            raise ObjectUnreadable(f"sourceUrl '{url}' cannot be copied ({reason})") from None
        self._forget_cached(key)
        return size

    def local_head(self, key: str, max_bytes: int) -> tuple[Path, bool]:
        """The cached whole blob when it is there or small; else its first `max_bytes` bytes
        alone, fetched with one ranged GET (cached beside it, checked by ETag)."""
        object_key = self._object_key(key)
        head = self._head(object_key)
        cached = self.cache_dir / object_key
        if head is None or int(head["ContentLength"]) <= max_bytes:
            return self.local_path(key), True
        if _holds(cached, head["ETag"]):
            return cached, True
        part = self._heads_dir(object_key) / str(max_bytes)
        return self._cached(object_key, head["ETag"], part, Range=f"bytes=0-{max_bytes - 1}"), False

    def _heads_dir(self, object_key: str) -> Path:
        # Apart from the whole objects' cache, so that forgetting a blob finds its heads with
        # one lookup (a blob's directory here), not a listing of its neighbours.
        return self.cache_dir / ".heads" / object_key

    def _head(self, object_key: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise

    def _forget_cached(self, key: str) -> None:
        cached = self.cache_dir / self._object_key(key)
        shutil.rmtree(self._heads_dir(self._object_key(key)), ignore_errors=True)
        for path in (cached, cached.with_name(cached.name + ".etag")):
            if path.is_file():
                path.unlink()
        if cached.is_dir():
            shutil.rmtree(cached, ignore_errors=True)

    # -- presigned URLs -------------------------------------------------------------------

    def presign_put(self, key: str, ttl_seconds: int) -> PresignedRequest:
        """A write-once upload URL: `If-None-Match: *` is signed, so a second PUT to it
        (after the job took the first file) is refused by the store, not overwritten."""
        headers = {"Content-Type": "application/octet-stream", "If-None-Match": "*"}
        url = self.presign_client.generate_presigned_url(
            "put_object", ExpiresIn=ttl_seconds,
            Params={"Bucket": self.bucket, "Key": self._object_key(key),
                    "ContentType": headers["Content-Type"], "IfNoneMatch": "*"})
        return PresignedRequest(url=url, method="PUT", headers=headers,
                                expires_at=_expiry(ttl_seconds))

    def presign_get(self, key: str, ttl_seconds: int, file_name: str,
                    media_type: str) -> PresignedRequest:
        url = self.presign_client.generate_presigned_url(
            "get_object", ExpiresIn=ttl_seconds,
            Params={"Bucket": self.bucket, "Key": self._object_key(key),
                    "ResponseContentType": media_type,
                    "ResponseContentDisposition": f'attachment; filename="{file_name}"'})
        return PresignedRequest(url=url, method="GET", headers={}, expires_at=_expiry(ttl_seconds))

    def check(self) -> None:
        """Raise unless the bucket answers (readiness)."""
        self.client.head_bucket(Bucket=self.bucket)


def _expiry(ttl_seconds: int) -> str:
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=ttl_seconds)
    return at.isoformat().replace("+00:00", "Z")


class _MultipartUpload:
    """One object written as parts; a blob smaller than one part is a single PUT instead."""

    def __init__(self, client: Any, bucket: str, object_key: str, part_size: int) -> None:
        self.client, self.bucket, self.object_key, self.part_size = client, bucket, object_key, part_size
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    def send_part(self, data: bytes) -> None:
        if self.upload_id is None:
            self.upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.object_key)["UploadId"]
        number = len(self.parts) + 1
        answer = self.client.upload_part(Bucket=self.bucket, Key=self.object_key, PartNumber=number,
                                         UploadId=self.upload_id, Body=data)
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def complete(self, last: bytes) -> None:
        if self.upload_id is None:
            self.client.put_object(Bucket=self.bucket, Key=self.object_key, Body=last)
            return
        if last:
            self.send_part(last)
        self.client.complete_multipart_upload(Bucket=self.bucket, Key=self.object_key,
                                              UploadId=self.upload_id,
                                              MultipartUpload={"Parts": self.parts})
        self.upload_id = None

    def abort(self) -> None:
        if self.upload_id is not None:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.object_key,
                                               UploadId=self.upload_id)
            self.upload_id = None


class _PartWriter(io.RawIOBase):
    """A write-only file whose bytes leave as multipart parts of the upload's part size."""

    def __init__(self, upload: _MultipartUpload) -> None:
        super().__init__()
        self.upload = upload
        self.pending = bytearray()
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.pending += view
        self.position += len(view)
        while len(self.pending) >= self.upload.part_size:
            part = bytes(self.pending[:self.upload.part_size])
            del self.pending[:self.upload.part_size]
            self.upload.send_part(part)
        return len(view)

    def tell(self) -> int:
        return self.position

    def finish(self) -> None:
        self.upload.complete(bytes(self.pending))
        self.pending = bytearray()


def _holds(cached: Path, etag: str) -> bool:
    """Whether a cache file holds the object at `etag` (the tag beside it says so)."""
    tag_file = cached.with_name(cached.name + ".etag")
    return cached.is_file() and tag_file.is_file() and tag_file.read_text() == etag
