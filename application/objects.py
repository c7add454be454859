"""Destination objects: their Table Schemas in the catalog and their tables in the destination."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lading.application.errors import ObjectNotFound
from lading.application.ports import DestinationStore, ObjectCatalog
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

    def records(self, workspace: str, name: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """The object's stored records in key order (all unless `limit`), streamed."""
        schema = self.schema_of(workspace, name)
        return self.destination.read_records(workspace, name, schema, limit)
