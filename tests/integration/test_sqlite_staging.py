"""Staging a chunk for the SQLite destination: values arrive exactly, scratch files never stay."""

from __future__ import annotations

import sqlite3
import struct
import tempfile
from uuid import uuid4

import pyarrow as pa
import pytest

from lading.adapters.arrow_types import arrow_schema
from lading.adapters.sql_naming import quote_ident, table_name
from lading.adapters.sqlite_destination import SqliteDestination, database_path
from lading.adapters.sqlite_staging import STAGE_TABLE, ScratchStager
from lading.application.ports import LedgerEntry
from lading.domain.table_schema import TableSchema

SCHEMA = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                           {"name": "score", "type": "number"},
                                           {"name": "note", "type": "string"}],
                                "primaryKey": ["id"]})


def test_staged_values_are_the_arrow_values_bit_for_bit(tmp_path):
    # Not -0.0: SQLite itself stores an integral REAL as an integer, so it reads back as 0.0
    # however it is bound.
    floats = [0.1, 57.3, -1.5, 1e308, 5e-324, 2.0 ** 0.5, None]
    rows = pa.table({"a": pa.array([2**63 - 1, -2**63, 0, 7, 1, 2, None], pa.int64()),
                     "b": pa.array(floats, pa.float64()),
                     "c": pa.array(["", "Zoë", "a\x00b", "😀", "line\nbreak", "'\"", None])})
    stager = ScratchStager()
    try:
        path = stager.stage(rows)
        with sqlite3.connect(path) as conn:
            got = conn.execute(f"select c0, c1, c2 from {STAGE_TABLE} order by rowid").fetchall()
        assert [r[0] for r in got] == rows.column("a").to_pylist()
        bits = [None if v is None else struct.pack("<d", v) for v in floats]
        assert [None if r[1] is None else struct.pack("<d", r[1]) for r in got] == bits
        assert [r[2] for r in got] == rows.column("c").to_pylist()
        stager.discard(path)
        assert not path.exists()
    finally:
        stager.close()


def test_merges_leave_no_scratch_file_whether_they_succeed_or_fail(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the stager makes its folder
    store = SqliteDestination(tmp_path / "dest")
    rows = pa.Table.from_pylist([{"id": i, "score": i / 3, "note": "x"} for i in range(100)],
                                schema=arrow_schema(SCHEMA))
    store.merge_chunk("ws", "t", SCHEMA, "upsert", rows, LedgerEntry(uuid4(), 1, 0))
    table = quote_ident(table_name("ws", "t"))
    with sqlite3.connect(database_path(tmp_path / "dest")) as conn:
        conn.execute(f"create trigger refuse before update on {table}"
                     " begin select raise(abort, 'refused by test trigger'); end")
    changed = rows.set_column(2, "note", pa.array(["y"] * 100))
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        store.merge_chunk("ws", "t", SCHEMA, "upsert", changed, LedgerEntry(uuid4(), 1, 0))
    folders = list(scratch.iterdir())
    assert len(folders) == 1 and list(folders[0].iterdir()) == []
    store.close()
    assert list(scratch.iterdir()) == []
