"""Where an import configuration's `sourceUrl` may read from (SPEC §4, §7).

A local source is a relative path inside LADING_SOURCES_DIR, the only directory a configuration
may name, so a saved configuration can never read /etc or another tenant's files. `s3://bucket/key`
is accepted only when the installation has S3 configured; anything else is refused.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from lading.domain.errors import DomainError


class SourceRefused(DomainError):
    """A sourceUrl this installation will not read (400 VALIDATION.REQUEST_INVALID)."""


class Sources:
    def __init__(self, root: Path | None, *, s3_configured: bool = False) -> None:
        self.root = Path(root).resolve() if root is not None else None
        self.s3_configured = s3_configured

    def check(self, url: str) -> None:
        """Refuse, before it is saved, a sourceUrl that could never be read here."""
        if url.startswith("s3://"):
            parts = urlparse(url)
            if not self.s3_configured:
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

    def local_file(self, url: str) -> Path:
        """The file a local sourceUrl names, as it is now; refused when it is not a file there."""
        self.check(url)
        if url.startswith("s3://"):
            raise SourceRefused("reading an s3:// sourceUrl is not available in this installation")
        assert self.root is not None  # check() refuses a local url without a root
        path = (self.root / url).resolve()
        # A symlink inside the directory must not lead out of it either.
        if not path.is_relative_to(self.root):
            raise SourceRefused("sourceUrl may not leave LADING_SOURCES_DIR")
        if not path.is_file():
            raise SourceRefused(f"sourceUrl '{url}' is not a file in LADING_SOURCES_DIR")
        return path
