"""API key scopes (SPEC §1): what a key may do in its workspace."""

from __future__ import annotations

from collections.abc import Iterable

from lading.domain.errors import InvalidScopes

SCOPES = ("imports:read", "imports:write", "admin")


def check_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """Return the scopes as a frozenset when every one is known and there is at least one."""
    # A bare string would otherwise be read as a set of single characters.
    wanted = frozenset([scopes] if isinstance(scopes, str) else scopes)
    unknown = sorted(s for s in wanted if s not in SCOPES)
    if unknown:
        raise InvalidScopes(f"unknown scope(s) {', '.join(unknown)}; use {', '.join(SCOPES)}")
    if not wanted:
        raise InvalidScopes(f"a key needs at least one scope of {', '.join(SCOPES)}")
    return wanted
