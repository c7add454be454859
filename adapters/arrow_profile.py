"""Feed a DataProfile from Arrow tables (staged chunks, source batches), one chunk at a time.

Each column is counted with pyarrow's `value_counts`, so a chunk costs one vectorised pass and
only its distinct values reach Python.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lading.adapters.readers import open_source
from lading.domain.data_profile import DataProfile


def add_table(profile: DataProfile, table: pa.Table | pa.RecordBatch) -> None:
    """Add the rows of `table` to the profile's columns that the table has."""
    names = table.schema.names
    for name, column in profile.columns.items():
        if name not in names:
            continue
        values = table.column(names.index(name))
        counted = pc.value_counts(values)
        pairs = zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist())
        column.add_counts({v: n for v, n in pairs if v is not None}, empty=values.null_count)


def add_source_columns(profile: DataProfile, path: Path, file_name: str,
                       columns: Mapping[str, str], block_size: int = 4 << 20) -> None:
    """Add a source file's values (as read: text for CSV) of `columns` (profile column -> source
    column name), one read block at a time."""
    with tempfile.TemporaryDirectory() as tmp:
        reader = open_source(Path(path), file_name, Path(tmp), block_size, repair_encoding=True)
        try:
            header: list[str] | None = None if reader.kind == "ndjson" else list(reader.header)
            for chunk in reader.chunks():
                names = header if header is not None else sorted(
                    {k for r in chunk.records for k in r})
                for name, column in columns.items():
                    if name not in profile.columns or column not in names:
                        continue
                    values = chunk.column(names.index(column), names)
                    if isinstance(values, list):
                        profile.column(name).add(_hashable(v) for v in values)
                    else:
                        counted = pc.value_counts(values)
                        pairs = zip(counted.field("values").to_pylist(),
                                    counted.field("counts").to_pylist())
                        profile.column(name).add_counts(
                            {v: n for v, n in pairs if v is not None}, empty=values.null_count)
        finally:
            reader.close()


def _hashable(value: Any) -> Any:
    """NDJSON values as profiled: nested objects and arrays by their JSON text."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value
