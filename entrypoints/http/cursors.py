"""Opaque page cursors: a JSON value, base64url without padding, so clients never parse them."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from lading.entrypoints.http.errors import RequestInvalid

T = TypeVar("T")


def encode_cursor(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> Any:
    """The value a cursor of ours holds; anything else is the client's error, never ours."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise RequestInvalid("cursor is not one this API returned") from None


def page_of(found: Sequence[T], limit: int, cursor_of: Callable[[T], str]) -> tuple[list[T], str | None]:
    """A page out of `found`, which was fetched with one row beyond `limit` to tell whether
    another page follows: the page's rows, and the cursor after its last row when one does."""
    rows = list(found[:limit])
    return rows, (cursor_of(rows[-1]) if len(found) > limit else None)
