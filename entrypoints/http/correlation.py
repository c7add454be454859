"""Correlation ids: echo the client's X-Correlation-Id, or make one, in the header and the body.

The id is kept in the ASGI scope, so the body (built by a handler or by the error handler) and
the header (added by a before_send hook) always agree, even for a 404 raised before any route
is chosen.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.datastructures import Headers, MutableScopeHeaders

HEADER = "X-Correlation-Id"
_STATE_KEY = "lading_correlation_id"
# Echoed only when it is a plain token, so a client cannot inject header or log syntax.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def correlation_id(scope: Any) -> str:
    state = scope.setdefault("state", {})
    found = state.get(_STATE_KEY)
    if found is None:
        given = Headers.from_scope(scope).get(HEADER)
        found = given if given and _ACCEPTABLE.fullmatch(given) else uuid.uuid4().hex
        state[_STATE_KEY] = found
    return found


async def add_correlation_header(message: Any, scope: Any) -> None:
    if message["type"] == "http.response.start":
        MutableScopeHeaders.from_message(message)[HEADER] = correlation_id(scope)
