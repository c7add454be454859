"""Table names and identifier quoting shared by the SQL destinations (ADR 0021)."""

from __future__ import annotations

import hashlib
import re

LEDGER_TABLE = "lading_merge_ledger"
LISTS_TABLE = "lading_lists"
LIST_MEMBERS_TABLE = "lading_list_members"
AUDIENCES_TABLE = "lading_audiences"
# Which job last merged each record (key) of an object; kept only for objects with an audience.
RECORD_WRITERS_TABLE = "lading_record_writers"
# Per reverted chunk, what undoing it did (ADR 0094): a chunk is reverted once.
REVERT_LEDGER_TABLE = "lading_revert_ledger"
# Per merged chunk, the list members it added (keys not members before), removed by its revert.
LIST_ADDITIONS_TABLE = "lading_list_additions"

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


def before_images_table(workspace: str, object_name: str) -> str:
    """Where the before-images of the object's merged rows live (ADR 0094), beside its table."""
    return "b" + table_name(workspace, object_name)[1:]


def _slug(text: str, limit: int) -> str:
    return _UNSAFE.sub("_", text.lower()).strip("_")[:limit] or "x"


def keyset_pages(fetch_page, key_at: list[int], limit: int | None, page_size: int,
                 after: tuple | None = None):
    """Rows in key order, fetched a page at a time after the last key seen (keyset paging), so a
    big table never sits in memory. `fetch_page(after, size)` returns a list of row tuples;
    `after` (the stored form of a key) starts past that key."""
    remaining = limit
    while remaining is None or remaining > 0:
        size = page_size if remaining is None else min(page_size, remaining)
        rows = fetch_page(after, size)
        yield from rows
        if len(rows) < size:
            return
        after = tuple(rows[-1][i] for i in key_at)
        if remaining is not None:
            remaining -= len(rows)
