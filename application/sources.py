"""Where an import configuration's `sourceUrl` may read from (SPEC §4, §7).

A local source is a relative path inside LADING_SOURCES_DIR, the only directory a configuration
may name, so a saved configuration can never read /etc or another tenant's files. `s3://bucket/key`
is accepted only when the installation has S3 configured (then `s3` downloads it); anything
else is refused.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from lading.domain.errors import DomainError


class SourceRefused(DomainError):
    """A sourceUrl this installation will not read (400 VALIDATION.REQUEST_INVALID)."""


# Copies the object an s3://bucket/key URL names into a local file (an adapter's; raises
# SourceRefused when it cannot be read).
S3Download = Callable[[str, Path], None]


def check_object_url(url: str) -> None:
    """Refuse, before a job is created, a sourceUrl that names no object."""
    parts = urlparse(url)
    if parts.scheme != "s3" or not parts.netloc or not parts.path.strip("/"):
        raise SourceRefused("sourceUrl names an object: s3://bucket/key")


class Sources:
    def __init__(self, root: Path | None, *, s3: S3Download | None = None) -> None:
        self.root = Path(root).resolve() if root is not None else None
        self.s3 = s3

    def check(self, url: str) -> None:
        """Refuse, before it is saved, a sourceUrl that could never be read here."""
        if url.startswith("s3://"):
            parts = urlparse(url)
            if self.s3 is None:
                raise SourceRefused("an s3:// sourceUrl needs S3 configured (LADING_BLOBS=s3://…)")
            if not parts.netloc or not parts.path.strip("/"):
                raise SourceRefused("an s3:// sourceUrl names a bucket and a key: s3://bucket/key")
            return
        if "://" in url or url.startswith(("/", "\\")) or ":" in url.split("/", 1)[0]:
            raise SourceRefused("sourceUrl must be a relative path inside LADING_SOURCES_DIR"
                                " (or s3://bucket/key when S3 is configured)")
        if self.root is None:
            raise SourceRefused("a local sourceUrl needs LADING_SOURCES_DIR to be set")
        if ".." in PurePosixPath(url.replace("\\", "/")).parts:
            raise SourceRefused("sourceUrl may not leave LADING_SOURCES_DIR ('..')")

    def is_object(self, url: str) -> bool:
        """Whether `url` names an object in the store S3 is configured for (then a job takes
        it by a copy inside the store, never through this node)."""
        return self.s3 is not None and url.startswith("s3://")

    @contextmanager
    def fetched(self, url: str) -> Iterator[Path]:
        """The source as a local file as it is now (an s3:// object is downloaded, then removed)."""
        self.check(url)
        if self.s3 is None or not url.startswith("s3://"):
            yield self.local_file(url)
            return
        with tempfile.TemporaryDirectory(prefix="lading-source-") as tmp:
            local = Path(tmp) / (PurePosixPath(urlparse(url).path).name or "source")
            self.s3(url, local)
            yield local

    def local_file(self, url: str) -> Path:
        """The file a local sourceUrl names; refused when it is not a file in the directory."""
        self.check(url)
        if url.startswith("s3://") or self.root is None:
            raise SourceRefused(f"sourceUrl '{url}' is not a local file")
        try:
            path = (self.root / url).resolve()
            # A symlink inside the directory must not lead out of it either.
            if not path.is_relative_to(self.root):
                raise SourceRefused("sourceUrl may not leave LADING_SOURCES_DIR")
            is_file = path.is_file()
        except OSError as exc:  # a name the file system cannot hold (too long, say)
            raise SourceRefused(f"sourceUrl is not a file in LADING_SOURCES_DIR: {exc.strerror}") from exc
        if not is_file:
            raise SourceRefused(f"sourceUrl '{url}' is not a file in LADING_SOURCES_DIR")
        return path
