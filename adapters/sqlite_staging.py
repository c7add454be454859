"""Put a chunk's rows into SQLite without one Python object per value (ADR 0024).

sqlite3's `executemany` needs every value as a Python object, and building and binding those
cost more than SQLite's own work. The ADBC SQLite driver binds Arrow buffers in C: it ingests
the chunk into a scratch database file, which the destination's connection ATTACHes and reads
with one set-based statement.

The driver carries its own copy of the SQLite library. Two copies must never have the same file
open at once (closing a file in one drops the other's POSIX locks: "How To Corrupt An SQLite
Database File", §2.2.1), so the driver only ever opens its own scratch file, and closes it
before the destination's connection attaches it. The destination file is never opened by it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from lading.domain.table_schema import Field

STAGE_TABLE = "rows"


def stage_column(position: int) -> str:
    """Staged columns are named by position, so no field name needs quoting for the driver."""
    return f"c{position}"


def storage_column(column: pa.ChunkedArray, f: Field) -> pa.ChunkedArray:
    """One column as the destination table stores it (ADR 0021): vectorised, in C."""
    if f.type in ("date", "time"):
        return column.cast(pa.string())  # 2023-05-17, HH:MM:SS.ffffff
    if f.type == "datetime":
        # Casting the tz-aware type to text is ~10x slower than the naive one (same UTC clock).
        text = column.cast(pa.timestamp("us")).cast(pa.string())  # YYYY-MM-DD HH:MM:SS.ffffff
        text = pc.binary_replace_slice(text, 10, 11, "T")
        return pc.binary_replace_slice(text, 26, 26, "Z")
    if f.type == "boolean":
        return column.cast(pa.int64())
    return column


class ScratchStager:
    """Writes staged chunks as scratch SQLite files in the OS temporary folder.

    A file lives from `stage` until `discard`, and nothing else is left behind (no folder per
    process: a process that never closes its destination leaves nothing); a process killed in
    between leaves that one chunk's file, never anything the destination reads on restart."""

    def stage(self, rows: pa.Table, create: str | None = None) -> Path:
        """`create`: the scratch table's CREATE statement (named STAGE_TABLE, its columns named
        by position); without it the driver creates the table from the Arrow types."""
        # Imported here: the driver brings pyarrow.dataset, a tenth of a second at the start of
        # every process, most of which (each CLI command but an import) never stage a chunk.
        import adbc_driver_sqlite.dbapi as adbc

        # An empty file is an empty SQLite database to the driver.
        handle, name = tempfile.mkstemp(prefix="lading-stage-", suffix=".sqlite")
        os.close(handle)
        path = Path(name)
        renamed = pa.table(rows.columns, names=[stage_column(i) for i in range(rows.num_columns)])
        try:
            with adbc.connect(str(path), autocommit=True) as conn, conn.cursor() as cursor:
                # Scratch: rebuilt from the staged Arrow file if anything goes wrong.
                cursor.execute("pragma journal_mode = off")
                cursor.fetchall()
                cursor.execute("pragma synchronous = off")
                if create is not None:
                    cursor.execute(create)
                cursor.adbc_ingest(STAGE_TABLE, renamed, mode="create" if create is None else "append")
        except BaseException:
            self.discard(path)
            raise
        return path

    def discard(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def close(self) -> None:
        """Nothing is held between stages."""
