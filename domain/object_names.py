"""The rule for destination object names, shared by the catalog and the API."""

from __future__ import annotations

import re

from lading.domain.errors import InvalidObjectName

_OBJECT_NAME = re.compile(r"[A-Za-z0-9_-]{1,63}")


def check_object_name(name: object) -> str:
    """Return `name` when it is a valid object name; raise InvalidObjectName otherwise."""
    if not isinstance(name, str) or not _OBJECT_NAME.fullmatch(name):
        raise InvalidObjectName(
            f"object name {name!r} must be 1 to 63 letters, digits, '_' or '-'"
        )
    return name
