"""The one rule for workspace names, checked wherever a name enters (keys, JWTs, the CLI).

A workspace name becomes part of blob keys, lock files and log lines, so it is a short, plain
identifier: 1-64 characters of letters, digits, `.`, `_` and `-`, starting with a letter or a
digit (so never `.` or `..`, never a NUL, never a path).
"""

from __future__ import annotations

import re

from lading.domain.errors import DomainError

MAX_WORKSPACE_CHARS = 64
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,%d}" % (MAX_WORKSPACE_CHARS - 1))


class InvalidWorkspaceName(DomainError):
    """A workspace name outside the rule; the message shows at most its first 64 characters."""


def check_workspace_name(name: object) -> str:
    """`name` if it is a valid workspace name; otherwise raise InvalidWorkspaceName."""
    if isinstance(name, str) and _NAME.fullmatch(name):
        return name
    shown = repr(name[:MAX_WORKSPACE_CHARS]) + ("…" if len(name) > MAX_WORKSPACE_CHARS else "") \
        if isinstance(name, str) else type(name).__name__
    raise InvalidWorkspaceName(
        f"workspace {shown} is not a valid name: use 1-{MAX_WORKSPACE_CHARS} letters, digits,"
        " '.', '_' or '-', starting with a letter or digit")
