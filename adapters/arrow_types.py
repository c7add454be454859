"""How each Table Schema type is held in Arrow once validated (staged chunks, merges)."""

from __future__ import annotations

import pyarrow as pa

from lading.domain.table_schema import Field, TableSchema

_ARROW_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "time": pa.time64("us"),
    "year": pa.int64(),
}


def arrow_type(field: Field) -> pa.DataType:
    return _ARROW_TYPES[field.type]


def arrow_schema(schema: TableSchema, fields: list[str] | None = None) -> pa.Schema:
    """The typed Arrow schema of validated rows: every mapped field, in schema order."""
    names = fields if fields is not None else list(schema.field_names)
    return pa.schema([pa.field(f.name, arrow_type(f)) for f in schema.fields if f.name in names])
