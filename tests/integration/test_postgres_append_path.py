"""PostgreSQL's append path (ADR 0113, 0125): a chunk whose keys all lie above the table's is
COPYed straight in without locking the table, so merges of other keys go on beside it; a key
another transaction adds meanwhile makes the COPY fail, and the merge is redone through the
staging table with exact counts."""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import uuid4

import psycopg
import pyarrow as pa
import pytest

from lading.adapters.arrow_types import arrow_schema
from lading.adapters.postgres_destination import PostgresDestination
from lading.adapters.sql_naming import quote_ident, table_name
from lading.application.ports import LedgerEntry, MergeCounts
from lading.domain.table_schema import TableSchema

pytestmark = pytest.mark.postgres

WS = "acme"
CONTACTS = TableSchema.from_dict({
    "fields": [{"name": "id", "type": "integer"}, {"name": "email", "type": "string"}],
    "primaryKey": ["id"],
})
TABLE = quote_ident(table_name(WS, "contacts"))


def contacts(ids: range, email: str = "new@x.io") -> pa.Table:
    return pa.Table.from_pylist([{"id": i, "email": email} for i in ids],
                                schema=arrow_schema(CONTACTS, ["id", "email"]))


@pytest.fixture
def store(postgres_url: str):
    opened = PostgresDestination(postgres_url)
    opened.merge_chunk(WS, "contacts", CONTACTS, "upsert", contacts(range(1, 6), "old@x.io"),
                       LedgerEntry(uuid4(), 1, 0))
    yield opened
    opened.close()


def merge_beside(store: PostgresDestination, rows: pa.Table) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["counts"] = store.merge_chunk(WS, "contacts", CONTACTS, "upsert", rows,
                                                  LedgerEntry(uuid4(), 1, 0))
        except BaseException as exc:  # reported in the test's thread
            outcome["error"] = exc
    thread = threading.Thread(target=work)
    thread.start()
    return thread, outcome


def waited_for(other: psycopg.Connection, url: str, timeout: float = 30) -> None:
    """Returns once a session waits for `other`'s transaction to end (as a unique index makes
    an insert of a key that transaction wrote wait)."""
    (xid,) = other.execute("select pg_current_xact_id()::text").fetchone()
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute("select count(*) from pg_locks where locktype = 'transactionid'"
                            " and not granted and transactionid = %s::xid", (xid,)).fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the merge never waited for the other transaction's key")


def test_an_append_goes_on_while_another_transaction_writes_other_keys(store, postgres_url):
    with psycopg.connect(postgres_url) as other:  # its transaction stays open throughout
        other.execute(f"insert into {TABLE} (id, email) values (1000, 'other@x.io')")
        thread, outcome = merge_beside(store, contacts(range(10, 20)))
        thread.join(timeout=30)
        waited = thread.is_alive()
        other.rollback()
        thread.join()
    assert not waited, "the append waited for a transaction on other keys"
    assert outcome == {"counts": MergeCounts(inserts=10)}


def test_a_key_added_by_another_transaction_during_the_append_is_counted_as_an_update(
        store, postgres_url):
    with psycopg.connect(postgres_url) as other:
        other.execute(f"insert into {TABLE} (id, email) values (15, 'other@x.io')")
        # The merge sees 15 absent (not committed), so COPYs its whole chunk, and waits on key 15.
        thread, outcome = merge_beside(store, contacts(range(10, 20)))
        waited_for(other, postgres_url)
        other.commit()
    thread.join(timeout=60)
    assert outcome == {"counts": MergeCounts(inserts=9, updates=1)}
    with psycopg.connect(postgres_url) as conn:
        stored = conn.execute(f"select id, email from {TABLE} order by id").fetchall()
    assert stored == [(i, "old@x.io") for i in range(1, 6)] + [(i, "new@x.io") for i in range(10, 20)]
