"""Multipart text fields are bounded while they arrive, not after (issue 9.8, ADR 0086).

Litestar's form parser gathers each text field whole in memory before a handler (or its length
limits) sees it, bounded only by the request's body limit, which for an upload is the file size
limit. This middleware reads the same bytes as they pass, with its own streaming multipart
parser, and refuses the request as soon as one text field (a part without a filename) grows
past its limit, so a 200 MB `objectName` costs at most the limit and one read chunk.
"""

from __future__ import annotations

from typing import Any

from multipart import MultipartSegment, ParserError, PushMultipartParser

from lading.domain.errors import DomainError
from lading.entrypoints.http.errors import ApiError
from lading.entrypoints.http.schemas import MAX_FORM_JSON_CHARS

# The longest text a form field may hold (MAX_FORM_JSON_CHARS characters) in UTF-8's worst case.
MAX_TEXT_FIELD_BYTES = 4 * MAX_FORM_JSON_CHARS
_NAME_SHOWN = 100  # a field's name is the client's: never echoed whole


class FieldTooLarge(ApiError):
    code = "LIMIT.PAYLOAD_TOO_LARGE"


class BoundedMultipartFields:
    def __init__(self, app: Any, max_field_bytes: int = MAX_TEXT_FIELD_BYTES) -> None:
        self.app = app
        self.max_field_bytes = max_field_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        boundary = _boundary(scope) if scope["type"] == "http" else None
        if boundary is None:
            await self.app(scope, receive, send)
            return
        watch = _TextFieldWatch(boundary, self.max_field_bytes)

        async def bounded_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                watch.feed(message.get("body", b""))
            return message

        await self.app(scope, bounded_receive, send)


class _TextFieldWatch:
    def __init__(self, boundary: bytes, limit: int) -> None:
        self.parser: PushMultipartParser | None = PushMultipartParser(boundary)
        self.limit = limit
        self.segment: MultipartSegment | None = None
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        if self.parser is None or not chunk:
            return
        try:
            for part in self.parser.parse(chunk):
                if isinstance(part, MultipartSegment):
                    self.segment, self.size = part, 0
                elif part and self.segment is not None and not self.segment.filename:
                    self.size += len(part)
                    if self.size > self.limit:
                        name = (self.segment.name or "")[:_NAME_SHOWN]
                        raise FieldTooLarge(
                            f"multipart field '{name}' is longer than {self.limit} bytes",
                            details={"field": name, "maxBytes": self.limit})
        except ParserError:
            self.parser = None  # malformed: Litestar's own parser refuses it, with its message
        except DomainError:
            self.parser = None
            raise


def _boundary(scope: Any) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media, _, params = value.partition(b";")
            if media.strip().lower() != b"multipart/form-data":
                return None
            for param in params.split(b";"):
                key, _, raw = param.strip().partition(b"=")
                if key.lower() == b"boundary" and raw:
                    return raw.strip(b'"')
    return None
