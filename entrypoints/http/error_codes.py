"""The closed list of request error codes (SPEC §4) and the HTTP status each one means.

Its one home: the exception map answers with these statuses, and the published document lists
these codes as `error.code`'s enum. A DomainError whose code is missing here would be a 400
with an undeclared code, which a test forbids.
"""

from __future__ import annotations

from typing import Literal

STATUS_FOR_CODE = {
    "VALIDATION.REQUEST_INVALID": 400,
    "AUTH.UNAUTHORIZED": 401,
    "AUTH.FORBIDDEN": 403,
    "UPLOAD.SIGNATURE_INVALID": 403,
    "UPLOAD.EXPIRED": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "STATE.CONFLICT": 409,
    "IDEMPOTENCY.CONFLICT": 409,
    "LIMIT.CONCURRENCY": 409,
    "REVERT.CONFLICT": 409,
    "LIMIT.PAYLOAD_TOO_LARGE": 413,
    "VALIDATION.REQUEST_SCHEMA": 422,
    "LIMIT.RATE": 429,
    "INTERNAL": 500,
    "NOT_READY": 503,
    "STORAGE_FULL": 507,
}

# `error.code` as a type: the OpenAPI document shows it as an enum.
ErrorCode = Literal[tuple(STATUS_FOR_CODE)]  # type: ignore[valid-type]
