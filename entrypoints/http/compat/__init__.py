"""The compatibility APIs (SPEC §9): clients of the import APIs Lading replaces, unchanged.

Each module describes one API as a `CompatApi` (common.py). This package turns them into
routers, each with its own authentication (that API's credential forms) and the shared rate
limits, and words every error on a compat path in that API's error body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, Router
from litestar.middleware import DefineMiddleware

from lading.entrypoints.http.auth import Authenticator
from lading.entrypoints.http.compat.common import (
    PREFIX,
    CompatApi,
    CompatAuthentication,
    error_response,
)
from lading.entrypoints.http.rate_limit import RateLimitMiddleware, TokenBuckets

from lading.entrypoints.http.compat import sdragent  # noqa: E402

APIS: tuple[CompatApi, ...] = (sdragent.API,)  # each API module adds its `API` here

# The native authentication skips these paths: each API authenticates its own (see routers()).
NATIVE_AUTH_EXCLUDES = [f"^{PREFIX}/"]


def routers(authenticator: Authenticator, buckets: TokenBuckets | None,
            max_body_size: int) -> list[Router]:
    """One router per API: its authentication, then the same rate limits as /v1."""
    out = []
    for api in APIS:
        middleware: list[Any] = [DefineMiddleware(CompatAuthentication, authenticator=authenticator,
                                                  api=api)]
        if buckets is not None:
            middleware.append(RateLimitMiddleware(buckets))
        out.append(Router(path=api.prefix, route_handlers=list(api.controllers), tags=[api.name],
                          middleware=middleware, request_max_body_size=max_body_size))
    return out


def error_handler(native: Callable[[Request, Exception], Response[Any]]
                  ) -> Callable[[Request, Exception], Response[Any]]:
    """The app's one exception handler: a compat path's error in that API's words, else native.

    Chosen by path, so even a route that does not exist under a compat prefix gets that API's
    404 body."""

    def handle(request: Request, exc: Exception) -> Response[Any]:
        path = request.scope.get("path", "")
        for api in APIS:
            if api.owns(path):
                return error_response(api, request, exc)
        return native(request, exc)

    return handle
