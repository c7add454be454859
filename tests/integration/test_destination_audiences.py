"""Dynamic audiences in the destination (SPEC §4 createAudience), on SQLite and PostgreSQL
alike: the members are the records whose last write came from the audience's job, so a later
job that rewrites or deletes a record takes it out, and a replayed chunk changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pyarrow as pa
import pytest

from lading.adapters.arrow_types import arrow_schema
from lading.adapters.postgres_destination import PostgresDestination
from lading.adapters.sqlite_destination import SqliteDestination
from lading.application.ports import LedgerEntry
from lading.domain.table_schema import TableSchema
from tests.integration.conftest import Database

WS = "acme"
CONTACTS = TableSchema.from_dict({
    "fields": [{"name": "id", "type": "integer"}, {"name": "email", "type": "string"}],
    "primaryKey": ["id"],
})


@pytest.fixture
def store(database: Database) -> Iterator[Any]:
    opened = (SqliteDestination if database.name == "sqlite" else PostgresDestination)(database.target)
    yield opened
    opened.close()


def rows(*ids: int, email: str = "x@example.com") -> pa.Table:
    return pa.Table.from_pylist([{"id": i, "email": email} for i in ids],
                                schema=arrow_schema(CONTACTS, ["id", "email"]))


def merge(store, job, operation: str, table: pa.Table, chunk: int = 0) -> None:
    store.merge_chunk(WS, "contacts", CONTACTS, operation, table, LedgerEntry(job, 1, chunk))


def test_members_are_the_records_the_job_wrote_last(store):
    spring, summer, audience = uuid4(), uuid4(), str(uuid4())
    store.ensure_audience(WS, audience, "spring", "contacts", spring)
    store.ensure_audience(WS, audience, "renamed?", "contacts", spring)  # repeating changes nothing
    merge(store, spring, "upsert", rows(3, 1, 2, 4))
    assert store.audience_members(WS, audience) == ['{"id":1}', '{"id":2}', '{"id":3}', '{"id":4}']
    merge(store, summer, "upsert", rows(2, email="new@example.com"))  # rewritten: taken out
    merge(store, summer, "upsert", rows(3), chunk=1)  # the same values again: still a later write
    merge(store, summer, "delete", pa.Table.from_pylist([{"id": 4}], schema=arrow_schema(CONTACTS, ["id"])),
          chunk=2)
    assert store.audience_members(WS, audience) == ['{"id":1}']
    [info] = store.audiences(WS)
    assert (info["audienceId"], info["name"], info["objectName"], info["jobId"], info["memberCount"]) \
        == (audience, "spring", "contacts", str(spring), 1)
    assert info["createdAt"].endswith("Z")


def test_a_replayed_chunk_of_an_earlier_job_does_not_take_records_back(store):
    spring, summer, audience = uuid4(), uuid4(), str(uuid4())
    store.ensure_audience(WS, audience, "spring", "contacts", spring)
    merge(store, spring, "upsert", rows(1, 2))
    merge(store, summer, "upsert", rows(1))
    merge(store, spring, "upsert", rows(1, 2))  # the ledger holds this chunk: nothing happens
    assert store.audience_members(WS, audience) == ['{"id":2}']


def test_audiences_page_in_creation_order_and_stay_in_their_workspace(store):
    ids = [str(uuid4()) for _ in range(3)]
    jobs = [uuid4() for _ in ids]
    for n, (audience, job) in enumerate(zip(ids, jobs)):
        store.ensure_audience(WS, audience, f"audience {n}", "contacts", job)
    merge(store, jobs[0], "upsert", rows(1, 2))
    first = store.audiences(WS, limit=2)
    assert [a["name"] for a in first] == ["audience 0", "audience 1"]
    rest = store.audiences(WS, after=(first[-1]["createdAt"], first[-1]["audienceId"]))
    assert [a["name"] for a in rest] == ["audience 2"]
    assert store.audiences("globex", audience_id=ids[0]) == []
    assert store.audience_members("globex", ids[0]) == []
    assert store.audience_members(WS, ids[0], after='{"id":1}', limit=5) == ['{"id":2}']


def test_without_an_audience_merges_record_no_writers(store, database):
    merge(store, uuid4(), "upsert", rows(1, 2))
    assert database.sql("select count(*) from lading_record_writers") == [(0,)]
