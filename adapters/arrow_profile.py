"""Feed a DataProfile from Arrow tables (staged chunks, source batches), one chunk at a time.

Each column is counted with pyarrow's `value_counts`, so a chunk costs one vectorised pass and
only its distinct values reach Python.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

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
