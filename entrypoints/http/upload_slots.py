"""A cap on the uploads one caller streams at once (issue 9.10, ADR 0086).

An upload is a request to a route that takes bodies larger than the JSON API's limit (the
signed upload slot, one-shot multipart imports, pushes, the compatibility APIs' file routes):
found from each route's own body limit, so a new upload route is counted without being listed.
A JSON request whose declared length is within the JSON limit is not an upload, whatever its
route (the compatibility routers take file-sized bodies on every route, their JSON calls
included); the slow-client deadlines (ADR 0082) bound how long such a small body can take.
The caller is its API key or token subject; a signed URL carries no key, so its uploads count
against the workspace it names. Counted per API process, released when the request ends.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import parse_qs

from lading.entrypoints.http.errors import ApiError

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class TooManyUploads(ApiError):
    code = "LIMIT.RATE"


class ConcurrentUploadCap:
    """Litestar builds a middleware per route: `streaming` is the one count they all share
    (one event loop per process, so it needs no lock)."""

    def __init__(self, app: Any, streaming: Counter[str], max_per_caller: int,
                 json_body_limit: int) -> None:
        self.app = app
        self.streaming = streaming
        self.max_per_caller = max_per_caller
        self.json_body_limit = json_body_limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        caller = self._caller(scope) if self._is_upload(scope) else None
        if caller is None:
            await self.app(scope, receive, send)
            return
        if self.streaming[caller] >= self.max_per_caller:
            raise TooManyUploads(
                f"this caller already has {self.max_per_caller} uploads in progress; retry when"
                " one has finished (LADING_MAX_CONCURRENT_UPLOADS_PER_KEY)",
                details={"limit": "concurrentUploads", "max": self.max_per_caller},
                headers={"Retry-After": "1"})
        self.streaming[caller] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.streaming[caller] -= 1
            if not self.streaming[caller]:
                del self.streaming[caller]

    def _is_upload(self, scope: Any) -> bool:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            return False
        handler = scope.get("route_handler")
        resolve = getattr(handler, "resolve_request_max_body_size", None)
        if resolve is None:
            return False
        limit = resolve()
        if limit is not None and limit <= self.json_body_limit:
            return False
        return not self._is_small_json(scope)

    def _is_small_json(self, scope: Any) -> bool:
        headers = dict(scope.get("headers", ()))
        media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        length = headers.get(b"content-length", b"")
        return (media_type == b"application/json" or media_type.endswith(b"+json")) \
            and length.isdigit() and int(length) <= self.json_body_limit

    @staticmethod
    def _caller(scope: Any) -> str | None:
        subject = getattr(scope.get("user"), "subject", None)
        if subject is not None:
            return f"key:{subject}"
        workspace = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("ws")
        return f"workspace:{workspace[0][:200]}" if workspace else None
