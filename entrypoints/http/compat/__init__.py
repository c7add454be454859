"""The compatibility APIs (SPEC §9): clients of the import APIs Lading replaces, unchanged.

Each module describes one API as a `CompatApi` (common.py). This package turns them into
routers, authenticates compat paths in each API's credential forms (then the native rate
limits apply), and words every error on a compat path in that API's error body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, Router
from litestar.middleware import DefineMiddleware

from lading.entrypoints.http.auth import Authenticator
from lading.entrypoints.http.compat import experiture, pigment, sdragent, userpilot, vern
from lading.entrypoints.http.compat.common import (
    PREFIX,
    SECURITY_SCHEMES,
    CompatApi,
    CompatAuthentication,
    error_response,
)

APIS: tuple[CompatApi, ...] = (experiture.API, userpilot.API, pigment.API, sdragent.API, vern.API)

__all__ = ["APIS", "NATIVE_AUTH_EXCLUDES", "SECURITY_SCHEMES", "authentication", "error_handler",
           "routers"]

# The native authentication skips these paths: each API authenticates its own (see routers()).
NATIVE_AUTH_EXCLUDES = [f"^{PREFIX}/"]


def routers(max_body_size: int) -> list[Router]:
    """One router per API, under its prefix and its own OpenAPI tag."""
    return [Router(path=api.prefix, route_handlers=list(api.controllers), tags=[api.name],
                   security=list(api.security), request_max_body_size=max_body_size)
            for api in APIS]


def authentication(authenticator: Authenticator) -> DefineMiddleware:
    """App-level middleware placed before the rate limits, so compat calls share their buckets.

    It acts only on compat paths (the native one skips them: NATIVE_AUTH_EXCLUDES)."""
    return DefineMiddleware(CompatAuthentication, authenticator=authenticator, apis=APIS)


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
