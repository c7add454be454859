"""Opaque page cursors: a JSON value, base64url without padding, so clients never parse them."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from lading.entrypoints.http.errors import RequestInvalid


def encode_cursor(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> Any:
    """The value a cursor of ours holds; anything else is the client's error, never ours."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise RequestInvalid("cursor is not one this API returned") from None
