"""Signed, expiring URLs for uploads and downloads: no API key needed, nothing else accepted.

The signature is HMAC-SHA256 (the installation's secret) over the method, the path, the
workspace the URL acts in and the expiry, so changing any of them (or the job id, which is in
the path) breaks it. The signature is checked before the expiry, so a tampered expiry is
SIGNATURE_INVALID and only a genuine URL can report EXPIRED.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from lading.domain.timestamps import iso_utc
from lading.entrypoints.http.errors import SignatureInvalid, UrlExpired

# The query parameters a signed URL carries (all three are required).
SIGNED_QUERY = ("ws", "expires", "signature")
UPLOAD_TTL_SECONDS = 3600
# Unix seconds in ASCII digits: str.isdigit() also takes "0³", which int() refuses.
_EXPIRY = re.compile(r"[0-9]{1,12}")
DOWNLOAD_TTL_SECONDS = 900


@dataclass(frozen=True)
class SignedUrl:
    path_and_query: str
    expires_at: str  # ISO 8601, UTC


class UrlSigner:
    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        self._key = secret.encode()
        self.clock = clock

    def _signature(self, method: str, path: str, workspace: str, expires: int) -> str:
        message = "\n".join((method.upper(), path, workspace, str(expires))).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, method: str, path: str, workspace: str, ttl_seconds: int) -> SignedUrl:
        expires = int(self.clock()) + ttl_seconds
        query = urlencode({"ws": workspace, "expires": expires,
                           "signature": self._signature(method, path, workspace, expires)})
        at = iso_utc(datetime.fromtimestamp(expires, UTC))
        return SignedUrl(f"{path}?{query}", at)

    def verify(self, method: str, path: str, workspace: str | None, expires: str | None,
               signature: str | None) -> str:
        """Return the workspace the URL acts in; raise SignatureInvalid or UrlExpired."""
        if not workspace or not signature or not _EXPIRY.fullmatch(expires or ""):
            raise SignatureInvalid("the URL is not signed (ws, expires and signature are required)")
        expected = self._signature(method, path, workspace, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise SignatureInvalid("the URL's signature does not match")
        if int(expires) < self.clock():
            raise UrlExpired("the signed URL has expired; ask for a new one")
        return workspace
