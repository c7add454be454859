"""The API's request class: a JSON body the decoder cannot take is a bad request, not a bug.

msgspec raises UnicodeDecodeError for invalid UTF-8 inside a string and RecursionError for
nesting deeper than it recurses; Litestar only translates its own DecodeError (issue 9.7).
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from lading.entrypoints.http.errors import RequestInvalid


class LadingRequest(Request):
    async def json(self) -> Any:
        try:
            return await super().json()
        except UnicodeDecodeError:
            raise RequestInvalid("the JSON body is not valid UTF-8") from None
        except RecursionError:
            raise RequestInvalid("the JSON body is nested too deeply") from None
