"""One exception map for the whole API: every refusal becomes the error envelope of SPEC §4.

Application and domain refusals arrive as DomainError with a stable `code`; the status comes
from the code alone, so a new refusal needs no change here. Framework exceptions (routing,
validation, body size) are translated to the same codes. Anything else is a bug: it is logged
with its traceback and answered 500 INTERNAL, which the tests prove no malformed request reaches.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from lading.application.storage_full import STORAGE_FULL, is_storage_full
from lading.domain.errors import DomainError
from lading.entrypoints.http.correlation import correlation_id
from lading.entrypoints.http.envelope import ErrorBody, ErrorEnvelope
from lading.entrypoints.http.error_codes import STATUS_FOR_CODE

log = logging.getLogger("lading.http")
MAX_MESSAGE_CHARS = 300


_DESCRIPTIONS = {
    400: "The request is malformed (VALIDATION.REQUEST_INVALID)",
    401: "No valid API key or token (AUTH.UNAUTHORIZED)",
    403: "Forbidden: missing scope (AUTH.FORBIDDEN), or a signed URL that is tampered"
         " (UPLOAD.SIGNATURE_INVALID) or expired (UPLOAD.EXPIRED)",
    404: "No such resource in this workspace (NOT_FOUND)",
    409: "Conflict: STATE.CONFLICT, IDEMPOTENCY.CONFLICT, LIMIT.CONCURRENCY or REVERT.CONFLICT"
         " (details.conflicts: up to 20 {key, jobId}, details.count)",
    413: "Too large (LIMIT.PAYLOAD_TOO_LARGE)",
    415: "Unsupported content type (UNSUPPORTED_MEDIA_TYPE)",
    422: "The mapping names an unknown field (VALIDATION.REQUEST_SCHEMA)",
    429: "Rate limited, or too many uploads at once (LIMIT.RATE; details.limit says which); see Retry-After",
    503: "A server this node needs is unreachable (NOT_READY); details.checks says which",
    507: "The server is out of storage space (STORAGE_FULL)",
}


# What a client reads under each code, as the docs' examples show it.
_EXAMPLE_MESSAGES = {
    "VALIDATION.REQUEST_INVALID": "fileName and fileSize are required unless rows are given",
    "AUTH.UNAUTHORIZED": "a valid API key is required",
    "AUTH.FORBIDDEN": "this key lacks the imports:write scope",
    "UPLOAD.SIGNATURE_INVALID": "the URL's signature does not match",
    "UPLOAD.EXPIRED": "the signed URL has expired; ask for a new one",
    "NOT_FOUND": "no import job 3f2b8c1e-5d6a-4e7f-9a0b-1c2d3e4f5a6b in this workspace",
    "METHOD_NOT_ALLOWED": "method not allowed",
    "UNSUPPORTED_MEDIA_TYPE": "send the body as application/json, not 'text/plain'",
    "STATE.CONFLICT": "cannot start a job that is pending: upload the file first",
    "IDEMPOTENCY.CONFLICT": "idempotency key crm-export-2026-05-17 was used with another payload",
    "LIMIT.CONCURRENCY": "10 jobs are already queued or running in this workspace",
    "REVERT.CONFLICT": "2 records were changed by later jobs since this one: revert with force to undo anyway",
    "LIMIT.PAYLOAD_TOO_LARGE": "fileSize is over the limit of 53687091200 bytes",
    "VALIDATION.REQUEST_SCHEMA": "the mapping names unknown field(s): e_mail",
    "LIMIT.RATE": "rate limit exceeded; retry after the Retry-After seconds",
    "INTERNAL": "internal error; quote the correlation id when reporting it",
    "NOT_READY": "a server this node needs is unreachable",
    "STORAGE_FULL": "the server is out of storage space; try again later",
}


class ApiError(DomainError):
    """A refusal that exists only at the HTTP boundary (auth, signed URLs, media types)."""

    def __init__(self, message: str, *, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.details = details
        self.headers = headers or {}


class RequestInvalid(ApiError):
    code = "VALIDATION.REQUEST_INVALID"


class Unauthorized(ApiError):
    code = "AUTH.UNAUTHORIZED"


class Forbidden(ApiError):
    code = "AUTH.FORBIDDEN"


class SignatureInvalid(ApiError):
    code = "UPLOAD.SIGNATURE_INVALID"


class UrlExpired(ApiError):
    code = "UPLOAD.EXPIRED"


class UnsupportedMediaType(ApiError):
    code = "UNSUPPORTED_MEDIA_TYPE"


def classify(exc: Exception) -> tuple[int, str, str, Any]:
    """(status, code, message, details) for any exception; the message is never a huge echo."""
    status, code, message, details = _classify(exc)
    if len(message) > MAX_MESSAGE_CHARS:  # never echo a huge value back (issue 9.8)
        message = message[:MAX_MESSAGE_CHARS] + "…"
    return status, code, message, details


def _classify(exc: Exception) -> tuple[int, str, str, Any]:
    """(status, code, message, details) for any exception."""
    if isinstance(exc, DomainError):
        status = STATUS_FOR_CODE.get(exc.code, 400)
        return status, exc.code, str(exc), getattr(exc, "details", None)
    if is_storage_full(exc):
        return 507, STORAGE_FULL, "the server is out of storage space; try again later", None
    if isinstance(exc, UnicodeDecodeError):
        # Litestar's multipart parser decodes text fields itself and lets this through (issue 9.7).
        return 400, "VALIDATION.REQUEST_INVALID", "a text field of the request is not valid UTF-8", None
    if isinstance(exc, ValidationException):
        return 400, "VALIDATION.REQUEST_INVALID", exc.detail, exc.extra or None
    if isinstance(exc, NotAuthorizedException):
        return 401, "AUTH.UNAUTHORIZED", exc.detail, None
    if isinstance(exc, PermissionDeniedException):
        return 403, "AUTH.FORBIDDEN", exc.detail, None
    if isinstance(exc, NotFoundException):
        return 404, "NOT_FOUND", exc.detail, None
    if isinstance(exc, MethodNotAllowedException):
        return 405, "METHOD_NOT_ALLOWED", exc.detail, None
    if isinstance(exc, RequestEntityTooLarge):
        return 413, "LIMIT.PAYLOAD_TOO_LARGE", exc.detail, None
    if isinstance(exc, TooManyRequestsException):
        return 429, "LIMIT.RATE", "rate limit exceeded; retry after the Retry-After seconds", None
    if isinstance(exc, HTTPException) and 400 <= exc.status_code < 500:
        return exc.status_code, "VALIDATION.REQUEST_INVALID", exc.detail, exc.extra or None
    return 500, "INTERNAL", "internal error; quote the correlation id when reporting it", None


def status_for(exc: Exception) -> int:
    """The HTTP status the exception map answers `exc` with."""
    return classify(exc)[0]


def error_headers(exc: Exception, status: int) -> dict[str, str]:
    """The headers an error response carries (the exception's own, and Retry-After on 429)."""
    headers = {k: str(v) for k, v in (getattr(exc, "headers", None) or {}).items()}
    if status == 429 and "Retry-After" not in headers:
        # Litestar's limiter says when its window resets; clients and proxies read Retry-After.
        headers["Retry-After"] = str(max(1, int(headers.get("RateLimit-Reset", "1"))))
    return headers


def error_response(request: Request, exc: Exception) -> Response[ErrorEnvelope]:
    status, code, message, details = classify(exc)
    cid = correlation_id(request.scope)
    if status >= 500:
        log.error("unhandled error (correlation id %s)", cid, exc_info=exc)
    headers = error_headers(exc, status)
    body = ErrorEnvelope(error=ErrorBody(code=code, message=message, details=details),
                         correlation_id=cid)
    return Response(body, status_code=status, headers=headers)


def error_responses(*statuses: int, keyed: bool = True) -> dict[int, ResponseSpec]:
    """OpenAPI `responses=` for a handler: the error envelope under each status it can return,
    with an example of each code that status stands for.

    `keyed` routes (an API key or token) can also answer 401 and 429.
    """
    wanted = sorted({400, 403, *statuses, *((401, 429) if keyed else ())})
    return {s: ResponseSpec(data_container=ErrorEnvelope, description=_DESCRIPTIONS[s],
                            generate_examples=False, examples=_examples(s))
            for s in wanted}


def _examples(status: int) -> list[Example]:
    codes = [code for code, s in STATUS_FOR_CODE.items() if s == status]
    return [Example(summary=code, value={
        "success": False,
        "error": {"code": code, "message": _EXAMPLE_MESSAGES[code], "details": None},
        "correlationId": "5c3a9e0f2b7d4c1a",
    }) for code in codes]
