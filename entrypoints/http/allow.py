"""`OPTIONS` answers with every method of the path, in `Allow`.

Litestar 2.25 makes a path's OPTIONS handler when the path's first handlers are registered;
the methods of a later controller on the same path (GET beside POST /v1/objects, DELETE beside
GET /v1/mapping-templates/{id}) are left out of the `Allow` it answers. This hook rewrites the
header from the app's final routes, so it lists exactly what the path serves.
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute

_CACHE_KEY = "lading_allowed_methods"


def _allowed(app: Any) -> dict[int, str]:
    """id(route handler) → the `Allow` value of the path it serves, from the final routes."""
    found = app.state.get(_CACHE_KEY)
    if found is None:
        found = {}
        for route in app.routes:
            if isinstance(route, HTTPRoute):
                value = ", ".join(sorted(route.methods))
                found.update({id(handler): value for handler in route.route_handlers})
        app.state[_CACHE_KEY] = found
    return found


async def complete_allow_header(message: Any, scope: Any) -> None:
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    handler = scope.get("route_handler")
    value = _allowed(scope["app"]).get(id(handler)) if handler is not None else None
    if value is not None:
        MutableScopeHeaders.from_message(message)["Allow"] = value
