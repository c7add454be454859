"""The response envelope every body is wrapped in (SPEC §4), and the wire base Struct."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

import msgspec
from litestar import Request
from litestar.openapi.datastructures import ResponseSpec

from lading.entrypoints.http.correlation import correlation_id
from lading.entrypoints.http.error_codes import ErrorCode

T = TypeVar("T")


class Wire(msgspec.Struct, rename="camel"):
    """Base of every JSON shape: camelCase on the wire, snake_case in Python."""


class Envelope(Wire, Generic[T], kw_only=True):
    # kw_only: `success` leads the body, as clients read it, though it has a default.
    success: Literal[True] = True
    data: T
    correlation_id: str


class ErrorBody(Wire):
    code: ErrorCode
    message: str
    details: Any = None


class ErrorEnvelope(Wire, kw_only=True):
    success: Literal[False] = False
    error: ErrorBody
    correlation_id: str


def ok(request: Request, data: Any) -> Envelope[Any]:
    """Wrap a handler's result; `data` may be a Struct or the plain dict the application returns."""
    return Envelope(data=data, correlation_id=correlation_id(request.scope))


def replayed(data_container: Any) -> dict[int, ResponseSpec]:
    """OpenAPI `responses=` entry for a creation that answers 200 with what an earlier identical
    request made (an idempotent replay) instead of its usual 201 or 202."""
    return {200: ResponseSpec(data_container=data_container, generate_examples=False,
                              description="The same request again: what the first one made")}
