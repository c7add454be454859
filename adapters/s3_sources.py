"""Reading a configuration's `s3://bucket/key` sourceUrl: the object copied to a local file."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError

from lading.application.sources import S3Download, SourceRefused


def s3_download(client: Any) -> S3Download:
    def download(url: str, local: Path) -> None:
        parts = urlparse(url)
        try:
            client.download_file(parts.netloc, parts.path.lstrip("/"), str(local))
        except ClientError as exc:
            reason = exc.response.get("Error", {}).get("Code", "error")
            raise SourceRefused(f"sourceUrl '{url}' cannot be read ({reason})") from None
        except BotoCoreError as exc:
            raise SourceRefused(f"sourceUrl '{url}' cannot be read: {exc}") from None

    return download
