"""Destination objects: their Table Schemas in the catalog and their tables in the destination."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time
from typing import Any

from lading.application.errors import ObjectNotFound
from lading.application.ports import DestinationStore, ObjectCatalog
from lading.domain.errors import DomainError
from lading.domain.table_schema import TableSchema


class Objects:
    def __init__(self, catalog: ObjectCatalog, destination: DestinationStore) -> None:
        self.catalog = catalog
        self.destination = destination

    def add_object(self, workspace: str, name: str, schema_doc: Any) -> tuple[dict[str, Any], bool]:
        """Add an object (or confirm the same one again); return (its info, created)."""
        schema = TableSchema.from_dict(schema_doc)
        existed = self.catalog.get(workspace, name) is not None
        self.catalog.add(workspace, name, schema)
        self.destination.ensure_object(workspace, name, schema)
        return self.object_info(workspace, name), not existed

    def schema_of(self, workspace: str, name: str) -> TableSchema:
        schema = self.catalog.get(workspace, name)
        if schema is None:
            raise ObjectNotFound(name)
        return schema

    def object_info(self, workspace: str, name: str) -> dict[str, Any]:
        schema = self.schema_of(workspace, name)
        return {"name": name, "schema": schema.to_dict(),
                "recordCount": self.destination.count_records(workspace, name)}

    def list_objects(self, workspace: str) -> list[dict[str, Any]]:
        out = []
        for name in self.catalog.names(workspace):
            schema = self.catalog.get(workspace, name)
            if schema is not None:
                out.append({"name": name, "schema": schema.to_dict()})
        return out

    def records(self, workspace: str, name: str, limit: int | None = None,
                after: Sequence[Any] | None = None) -> Iterator[dict[str, Any]]:
        """The object's stored records in key order (all unless `limit`), streamed; with `after`
        (the primary-key values of a record, as records give them), those after it."""
        schema = self.schema_of(workspace, name)
        start = None if after is None else record_key(schema, after)
        return self.destination.read_records(workspace, name, schema, limit, start)

    def record_page(self, workspace: str, name: str, limit: int,
                    after: Sequence[Any] | None = None) -> tuple[list[dict[str, Any]], tuple[Any, ...] | None]:
        """Up to `limit` records after `after`, and the key to read on from (None after the last)."""
        schema = self.schema_of(workspace, name)
        rows = list(self.records(workspace, name, limit + 1, after))
        if len(rows) <= limit:
            return rows, None
        del rows[limit:]
        return rows, tuple(rows[-1][k] for k in schema.primary_key)


class KeyInvalid(DomainError):
    """A record key from outside (a page cursor) that does not fit the object's primary key."""


def record_key(schema: TableSchema, values: Sequence[Any]) -> tuple[Any, ...]:
    """`values` as a key of `schema`, each in the JSON-ready form records give it; else KeyInvalid."""
    fields = [schema.field(k) for k in schema.primary_key]
    if len(values) != len(fields):
        raise KeyInvalid(f"a key of {', '.join(schema.primary_key)} has {len(fields)} value(s)")
    for f, value in zip(fields, values):
        if not _fits(f.type, value):
            raise KeyInvalid(f"{value!r} is not a {f.type} value of key field {f.name}")
    return tuple(values)


def _fits(field_type: str, value: Any) -> bool:
    if isinstance(value, bool):
        return field_type == "boolean"
    if field_type in ("integer", "year"):
        return isinstance(value, int) and -(2**63) <= value < 2**63  # what the tables hold
    if field_type == "number":
        return isinstance(value, (int, float))
    if not isinstance(value, str) or field_type == "boolean":
        return False
    parse = _TEXT_FORMS.get(field_type)
    if parse is None:
        return True
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _utc_instant(text: str) -> datetime:
    if not text.endswith("Z"):
        raise ValueError("a stored datetime reads back in UTC, ending in Z")
    return datetime.fromisoformat(text[:-1])


# How a key of each temporal type reads back (ISO 8601; datetimes in UTC with a "Z").
_TEXT_FORMS: dict[str, Callable[[str], object]] = {
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "datetime": _utc_instant,
}

