"""Before-images, previews and reverts (SPEC §8): one contract, run on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from uuid import uuid4

import pyarrow as pa
import pytest

from lading.adapters.arrow_types import arrow_schema
from lading.adapters.postgres_destination import PostgresDestination
from lading.adapters.sql_naming import LEDGER_TABLE, LIST_MEMBERS_TABLE
from lading.adapters.sqlite_destination import SqliteDestination
from lading.application.ports import LedgerEntry, MergeCounts
from lading.domain.table_schema import TableSchema
from tests.builders import EVERY_TYPE_SCHEMA
from tests.integration.conftest import Database

WS = "acme"
EVERY_TYPE = TableSchema.from_dict(EVERY_TYPE_SCHEMA)
ORDERS = TableSchema.from_dict({  # a composite key named with SQL keywords
    "fields": [{"name": "select", "type": "string"}, {"name": "Order", "type": "integer"},
               {"name": "from", "type": "string"}],
    "primaryKey": ["select", "Order"],
})


@pytest.fixture
def store(database: Database):
    opened = (SqliteDestination if database.name == "sqlite" else PostgresDestination)(database.target)
    yield opened
    opened.close()


def rows(schema: TableSchema, records: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(records, schema=arrow_schema(schema))


def person(i: int, name: str, **more: Any) -> dict[str, Any]:
    return {"id": i, "name": name, "score": i / 4, "active": i % 2 == 0, "born": date(1990, 1, i),
            "seen": datetime(2024, 5, 17, 10, i, 30, 123456, tzinfo=UTC), "opens": time(9, i),
            "since": 2000 + i, **more}


def snapshot(store: Any, schema: TableSchema, name: str = "people") -> list[dict[str, Any]]:
    return list(store.read_records(WS, name, schema))


def merge(store: Any, schema: TableSchema, operation: str, records: list[dict[str, Any]],
          job=None, chunk: int = 0, name: str = "people", list_id: str | None = None):
    job = job or uuid4()
    counts = store.merge_chunk(WS, name, schema, operation, rows(schema, records),
                               LedgerEntry(job, 1, chunk), list_id=list_id)
    return job, counts


def revert(store: Any, schema: TableSchema, job, chunks=(0,), name: str = "people"):
    return [store.revert_chunk(WS, name, schema, LedgerEntry(job, 1, c)) for c in chunks]


def test_reverting_jobs_in_reverse_order_gives_back_the_table_as_it_was_with_every_type(store):
    store.ensure_object(WS, "people", EVERY_TYPE)
    _, _ = merge(store, EVERY_TYPE, "upsert", [person(i, f"p{i}") for i in range(1, 6)])
    before = snapshot(store, EVERY_TYPE)
    upsert, counts = merge(store, EVERY_TYPE, "upsert", [
        person(2, "changed", active=None, seen=None), person(3, "p3"), person(7, "new"),
        person(8, "newer")])
    assert counts == MergeCounts(inserts=2, updates=1, unchanged=1)
    removal, counts = merge(store, EVERY_TYPE, "delete", [{"id": 1}, {"id": 7}, {"id": 9}])
    assert counts == MergeCounts(deletes=2)
    assert revert(store, EVERY_TYPE, removal) == [(0, 2)]
    assert revert(store, EVERY_TYPE, upsert) == [(2, 1)]
    assert snapshot(store, EVERY_TYPE) == before


def test_a_reverted_chunk_is_undone_once_however_often_it_is_asked(store):
    store.ensure_object(WS, "people", EVERY_TYPE)
    merge(store, EVERY_TYPE, "upsert", [person(1, "a")])
    job, _ = merge(store, EVERY_TYPE, "update", [person(1, "b")])
    assert revert(store, EVERY_TYPE, job) == [(0, 1)]
    merge(store, EVERY_TYPE, "update", [person(1, "later")])
    # The second ask reports the first revert's counts and leaves the later change alone.
    assert revert(store, EVERY_TYPE, job) == [(0, 1)]
    assert snapshot(store, EVERY_TYPE)[0]["name"] == "later"


def test_a_later_change_to_the_same_key_is_a_conflict_until_that_job_is_reverted(store):
    store.ensure_object(WS, "orders", ORDERS)
    first, _ = merge(store, ORDERS, "upsert", [{"select": "a", "Order": 1, "from": "x"},
                                               {"select": "b", "Order": 2, "from": "y"}],
                     name="orders")
    later, _ = merge(store, ORDERS, "upsert", [{"select": "a", "Order": 1, "from": "z"},
                                               {"select": "b", "Order": 2, "from": "y"}],
                     name="orders")
    found = store.revert_conflicts(WS, "orders", ORDERS, first, 1)
    assert (found.count, found.conflicts) == (1, [{"key": {"select": "a", "Order": 1},
                                                   "jobId": str(later)}])
    assert store.revert_conflicts(WS, "orders", ORDERS, later, 1).count == 0
    revert(store, ORDERS, later, name="orders")
    assert store.revert_conflicts(WS, "orders", ORDERS, first, 1).count == 0


def test_a_chunk_partly_above_the_table_is_merged_previewed_and_reverted_as_one(store):
    # On PostgreSQL the rows above the table's highest key are COPYed straight in and only the
    # others staged (ADR 0113): the counts, the preview's samples and the revert cover both.
    store.ensure_object(WS, "orders", ORDERS)
    merge(store, ORDERS, "upsert", [{"select": "a", "Order": 1, "from": "x"},
                                    {"select": "b", "Order": 2, "from": "y"}], name="orders")
    before = snapshot(store, ORDERS, "orders")
    incoming = [{"select": "c", "Order": 1, "from": "new"}, {"select": "a", "Order": 1, "from": "z"},
                {"select": "b", "Order": 3, "from": "new"}, {"select": "a", "Order": 5, "from": "new"},
                {"select": "b", "Order": 2, "from": "y"}, {"select": "b", "Order": 10, "from": "new"}]
    job = uuid4()
    diff = store.preview_chunk(WS, "orders", ORDERS, "upsert", rows(ORDERS, incoming),
                               LedgerEntry(job, 1, 0), {"inserted": 20, "updated": 20})
    _, counts = merge(store, ORDERS, "upsert", incoming, job=job, name="orders")
    assert counts == diff.counts == MergeCounts(inserts=4, updates=1, unchanged=1)
    assert [s["key"] for s in diff.samples["inserted"]] == [
        {"select": "a", "Order": 5}, {"select": "b", "Order": 3}, {"select": "b", "Order": 10},
        {"select": "c", "Order": 1}]
    assert [s["key"] for s in diff.samples["updated"]] == [{"select": "a", "Order": 1}]
    assert revert(store, ORDERS, job, name="orders") == [(4, 1)]
    assert snapshot(store, ORDERS, "orders") == before


@pytest.mark.parametrize("operation", ["upsert", "insert", "update", "delete"])
def test_a_preview_counts_what_the_merge_then_does_and_writes_nothing(store, database, operation):
    store.ensure_object(WS, "people", EVERY_TYPE)
    list_id = str(uuid4())
    store.ensure_list(WS, list_id, "people", "people")
    merge(store, EVERY_TYPE, "upsert", [person(i, f"p{i}") for i in range(1, 5)])
    before = snapshot(store, EVERY_TYPE)
    ledger = database.sql(f"select count(*) from {LEDGER_TABLE}")
    incoming = [person(2, "changed"), person(3, "p3"), person(9, "new")]
    if operation == "insert":
        incoming = [person(9, "new"), person(10, "newer")]
    job = uuid4()
    diff = store.preview_chunk(WS, "people", EVERY_TYPE, operation, rows(EVERY_TYPE, incoming),
                               LedgerEntry(job, 1, 0), {"inserted": 1, "updated": 20, "deleted": 20})
    assert snapshot(store, EVERY_TYPE) == before
    assert database.sql(f"select count(*) from {LEDGER_TABLE}") == ledger
    assert database.sql(f"select count(*) from {LIST_MEMBERS_TABLE}") == [(0,)]
    _, counts = merge(store, EVERY_TYPE, operation, incoming, job=job, list_id=list_id)
    assert diff.counts == counts
    if operation == "upsert":
        assert diff.samples["updated"] == [{"key": {"id": 2}, "before": {"name": "p2"},
                                            "after": {"name": "changed"}}]
        assert len(diff.samples["inserted"]) == 1  # as many as asked for
        assert diff.samples["inserted"][0]["after"]["seen"] == "2024-05-17T10:09:30.123456Z"
    if operation == "delete":
        assert [s["key"] for s in diff.samples["deleted"]] == [{"id": 2}, {"id": 3}]
        assert diff.samples["deleted"][0]["before"] == before[1]



@pytest.mark.postgres
def test_a_postgres_revert_summarises_the_twins_block_ranges_first(postgres_url):
    """Its BRIN index can then lead each chunk's revert to that chunk's blocks, autovacuum or
    not (this server runs none). 30,000 images fill several of BRIN's 128-page ranges."""
    from lading.adapters.sql_naming import before_images_table, quote_ident
    import psycopg

    store = PostgresDestination(postgres_url)
    try:
        store.ensure_object(WS, "people", EVERY_TYPE)
        records = [{**person(1, "a"), "id": i} for i in range(1, 30_001)]
        job, _ = merge(store, EVERY_TYPE, "upsert", records)
        later, _ = merge(store, EVERY_TYPE, "upsert", [{**person(1, "b"), "id": 40_000}])
        assert revert(store, EVERY_TYPE, later) == [(1, 0)]
        index = quote_ident("s" + before_images_table(WS, "people")[1:])
        with psycopg.connect(postgres_url) as conn:
            (left,) = conn.execute("select brin_summarize_new_values(%s::text::regclass)",
                                   (index,)).fetchone()
        assert left == 0, "the revert left full block ranges unsummarised"
        assert revert(store, EVERY_TYPE, job) == [(30_000, 0)]
        assert snapshot(store, EVERY_TYPE) == []
    finally:
        store.close()
