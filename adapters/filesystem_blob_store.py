"""Blobs (uploaded files, error files, exports) as files under one directory.

Every write goes to a temporary name beside its target and is renamed into place only when
complete, so a reader never sees half a blob and a crash leaves at most a stray temp file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

import aiofiles
import aiofiles.os

from lading.application.ports import BlobInfo, BlobTooLarge, PresignedRequest


class FilesystemBlobStore:
    shared = False  # a directory of this machine: staged chunks stay in its work files
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._resolved_root = self.root.resolve()

    def _path(self, key: str) -> Path:
        # Lexically normalised under the resolved root: resolving every key cost a realpath
        # walk per call, and a split job makes thousands (ADR 0127); the store writes no links.
        path = Path(os.path.normpath(self._resolved_root / key))
        if self._resolved_root not in path.parents:
            raise ValueError(f"blob key escapes the store: {key!r}")
        return path

    def _temp_beside(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")

    def put_file(self, key: str, source: Path) -> BlobInfo:
        target = self._path(key)
        temp = self._temp_beside(target)
        digest = hashlib.sha256()
        size = 0
        try:
            with open(source, "rb") as src, open(temp, "wb") as dst:
                while block := src.read(1 << 20):
                    digest.update(block)
                    size += len(block)
                    dst.write(block)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(temp, target)
        finally:
            if temp.exists():  # a failed copy (a full disk) must not keep its partial bytes
                temp.unlink()
        return BlobInfo(key=key, size=size, sha256=digest.hexdigest())

    def move_file(self, key: str, source: Path) -> BlobInfo:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.stat(source).st_dev != os.stat(target.parent).st_dev:
            info = self.put_file(key, source)
            Path(source).unlink()
            return info
        digest = hashlib.sha256()
        size = 0
        with open(source, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
                size += len(block)
        os.replace(source, target)  # same file system: a rename, so the bytes exist once
        return BlobInfo(key=key, size=size, sha256=digest.hexdigest())

    @contextmanager
    def writer(self, key: str, durable: bool = True) -> Iterator[IO[bytes]]:
        target = self._path(key)
        temp = self._temp_beside(target)
        try:
            with open(temp, "wb") as fh:
                yield fh
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(temp, target)
        finally:
            if temp.exists():
                temp.unlink()

    async def write_stream(self, key: str, chunks: AsyncIterator[bytes],
                           max_size: int | None = None) -> BlobInfo:
        target = self._path(key)
        temp = self._temp_beside(target)
        digest = hashlib.sha256()
        size = 0
        try:
            async with aiofiles.open(temp, "wb") as fh:
                async for block in chunks:
                    size += len(block)
                    if max_size is not None and size > max_size:
                        raise BlobTooLarge(f"more than {max_size} bytes")
                    digest.update(block)
                    await fh.write(block)
                await fh.flush()
                os.fsync(fh.fileno())
            await aiofiles.os.replace(temp, target)
        finally:
            if temp.exists():
                temp.unlink()
        return BlobInfo(key=key, size=size, sha256=digest.hexdigest())

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def local_head(self, key: str, max_bytes: int) -> tuple[Path, bool]:
        return self._path(key), True

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int | None:
        path = self._path(key)
        return path.stat().st_size if path.is_file() else None

    def presign_put(self, key: str, ttl_seconds: int) -> PresignedRequest | None:
        return None  # a directory has no URL of its own: the API's signed routes serve it

    def presign_get(self, key: str, ttl_seconds: int, file_name: str,
                    media_type: str) -> PresignedRequest | None:
        return None

    def copy_in(self, url: str, key: str, max_size: int) -> int | None:
        return None  # a directory reads no object URLs

    def check(self) -> None:
        if not (self.root.is_dir() and os.access(self.root, os.W_OK)):
            raise OSError(f"blob directory {self.root} is missing or not writable")

    def delete_stale_temporaries(self, prefix: str, before: datetime) -> int:
        base = self._path(prefix)
        if not base.is_dir():
            return 0
        removed = 0
        for temp in base.rglob(".*.tmp"):  # the names _temp_beside gives
            try:
                if temp.stat().st_mtime < before.timestamp():
                    temp.unlink()
                    removed += 1
            except FileNotFoundError:
                pass  # a write that just finished (renamed) or failed (removed its own)
        return removed

    def delete_many(self, keys: list[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        base = self._path(prefix)
        if base.is_dir():
            count = sum(1 for p in base.rglob("*") if p.is_file())
            shutil.rmtree(base)
            return count
        if base.is_file():
            base.unlink()
            return 1
        return 0
