"""The response envelope every body is wrapped in (SPEC §4), and the wire base Struct."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec
from litestar import Request

from lading.entrypoints.http.correlation import correlation_id

T = TypeVar("T")


class Wire(msgspec.Struct, rename="camel"):
    """Base of every JSON shape: camelCase on the wire, snake_case in Python."""


class Envelope(Wire, Generic[T], kw_only=True):
    # kw_only: `success` leads the body, as clients read it, though it has a default.
    success: bool = True
    data: T
    correlation_id: str


class ErrorBody(Wire):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(Wire, kw_only=True):
    success: bool = False
    error: ErrorBody
    correlation_id: str


def ok(request: Request, data: Any) -> Envelope[Any]:
    """Wrap a handler's result; `data` may be a Struct or the plain dict the application returns."""
    return Envelope(data=data, correlation_id=correlation_id(request.scope))
