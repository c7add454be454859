"""Table names and identifier quoting shared by the SQL destinations (ADR 0021)."""

from __future__ import annotations

import hashlib
import re

LEDGER_TABLE = "lading_merge_ledger"

_UNSAFE = re.compile(r"[^a-z0-9]+")


def quote_ident(name: str) -> str:
    """Quote an identifier for SQLite and PostgreSQL alike (doubling embedded quotes)."""
    if "\x00" in name:
        raise ValueError("an SQL identifier cannot contain a NUL character")
    return '"' + name.replace('"', '""') + '"'


def table_name(workspace: str, object_name: str) -> str:
    """The destination table of one (workspace, object): readable, deterministic, injection-free.

    Only [a-z0-9_] survive from the two names (a readable hint for people browsing the
    database); the hash of the exact pair keeps distinct pairs distinct whatever was dropped or
    cut, and the whole stays within PostgreSQL's 63-byte identifiers.
    """
    digest = hashlib.sha256(f"{workspace}\x00{object_name}".encode()).hexdigest()[:12]
    return f"o_{_slug(workspace, 20)}__{_slug(object_name, 24)}_{digest}"


def _slug(text: str, limit: int) -> str:
    return _UNSAFE.sub("_", text.lower()).strip("_")[:limit] or "x"
