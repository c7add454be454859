"""The DestinationStore contract, one set of tests run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from uuid import uuid4

import pyarrow as pa
import pytest

from lading.adapters.arrow_chunks import ChunkRefused
from lading.adapters.arrow_types import arrow_schema
from lading.adapters.postgres_destination import PostgresDestination
from lading.adapters.sql_naming import LEDGER_TABLE, quote_ident, table_name
from lading.adapters.sqlite_destination import SqliteDestination
from lading.application.ports import LedgerEntry, MergeCounts
from lading.domain.table_schema import TableSchema
from tests import destination_writes
from tests.builders import EVERY_TYPE_SCHEMA
from tests.integration.conftest import Backend, Database

WS = "acme"
EVERY_TYPE = TableSchema.from_dict(EVERY_TYPE_SCHEMA)

CONTACTS = TableSchema.from_dict({
    "fields": [
        {"name": "id", "type": "integer"},
        {"name": "email", "type": "string"},
        {"name": "tier", "type": "string"},
        {"name": "score", "type": "number"},
    ],
    "primaryKey": ["id"],
})

# A composite key mixing types, named with SQL keywords.
ORDERS = TableSchema.from_dict({
    "fields": [
        {"name": "select", "type": "string"},
        {"name": "Order", "type": "integer"},
        {"name": "from", "type": "string"},
    ],
    "primaryKey": ["select", "Order"],
})


@pytest.fixture
def backend(database: Database) -> Backend:
    return Backend.of(database, SqliteDestination, PostgresDestination)


@pytest.fixture
def store(backend: Backend) -> Iterator[Any]:
    opened = backend.open()
    yield opened
    opened.close()


def contacts(*rows: tuple, columns: tuple[str, ...] = ("id", "email", "tier", "score")) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(columns, r)) for r in rows],
                                schema=arrow_schema(CONTACTS, list(columns)))


def entry(chunk: int = 0, job=None, plan_version: int = 1) -> LedgerEntry:
    return LedgerEntry(job or uuid4(), plan_version, chunk)


def records(store, schema: TableSchema = CONTACTS, ws: str = WS, name: str = "contacts", **kw):
    return list(store.read_records(ws, name, schema, **kw))


def merge(store, operation: str, rows: pa.Table, *, schema: TableSchema = CONTACTS,
          name: str = "contacts", at: LedgerEntry | None = None) -> MergeCounts:
    return store.merge_chunk(WS, name, schema, operation, rows, at or entry())


# -- tables ---------------------------------------------------------------------------------


def test_ensure_object_creates_an_empty_table_and_can_be_repeated(store):
    store.ensure_object(WS, "contacts", CONTACTS)
    store.ensure_object(WS, "contacts", CONTACTS)
    assert store.count_records(WS, "contacts") == 0
    assert records(store) == []


def test_an_object_never_created_reads_as_empty(store):
    assert records(store, name="nothing") == []
    assert store.count_records(WS, "nothing") == 0
    assert store.existing_keys(WS, "nothing", CONTACTS, [(1,)]) == set()


def test_the_table_is_keyed_by_the_primary_key_and_typed_by_the_schema(store, backend):
    store.ensure_object(WS, "contacts", CONTACTS)
    table = table_name(WS, "contacts")
    if backend.name == "sqlite":
        info = backend.sql(f"pragma table_info({quote_ident(table)})")
        assert {row[1]: (row[2], row[5]) for row in info} == {
            "id": ("INTEGER", 1), "email": ("TEXT", 0), "tier": ("TEXT", 0), "score": ("REAL", 0)}
    else:
        types = backend.sql(
            "select column_name, data_type from information_schema.columns"
            f" where table_name = '{table}' and table_schema = current_schema() order by ordinal_position")
        assert types == [("id", "bigint"), ("email", "text"), ("tier", "text"),
                         ("score", "double precision")]
        key = backend.sql(
            "select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid"
            f" and a.attnum = any(i.indkey) where i.indrelid = '{quote_ident(table)}'::regclass"
            " and i.indisprimary")
        assert key == [("id",)]


def test_workspaces_with_the_same_object_name_do_not_share_rows(store):
    store.merge_chunk("one", "contacts", CONTACTS, "upsert", contacts((1, "a@x.io", None, None)), entry())
    store.merge_chunk("two", "contacts", CONTACTS, "upsert", contacts((2, "b@x.io", None, None)), entry())
    assert [r["id"] for r in records(store, ws="one")] == [1]
    assert [r["id"] for r in records(store, ws="two")] == [2]


@pytest.mark.parametrize("workspace, object_name", [
    ('x"; drop table lading_merge_ledger; --', "contacts"),
    ("acme", "robert'); drop table students;--"),
    ("ACME", "Contacts"),
    ("w" * 200, "o" * 200),
    ("空間", "объект"),
])
def test_any_workspace_or_object_name_is_stored_safely_and_separately(store, workspace, object_name):
    store.merge_chunk(workspace, object_name, CONTACTS, "upsert", contacts((7, "n@x.io", None, None)),
                      entry())
    assert [r["id"] for r in store.read_records(workspace, object_name, CONTACTS)] == [7]
    assert records(store) == [], "no other object sees the rows"
    assert len(table_name(workspace, object_name)) <= 63
    merge(store, "upsert", contacts((1, "a@x.io", None, None)))  # the ledger table still works


def test_table_names_are_deterministic_and_distinct_for_distinct_pairs():
    assert table_name("a", "b") == table_name("a", "b")
    assert len({table_name("a_b", "c"), table_name("a", "b_c"), table_name("A", "b"),
                table_name("a", "b")}) == 4


def test_field_names_that_are_sql_keywords_work_as_a_composite_key(store):
    schema = ORDERS
    rows = pa.Table.from_pylist(
        [{"select": "b", "Order": 1, "from": "x"}, {"select": "a", "Order": 2, "from": "y"},
         {"select": "a", "Order": 1, "from": "z"}], schema=arrow_schema(schema))
    assert merge(store, "upsert", rows, schema=schema, name="orders") == MergeCounts(inserts=3)
    again = pa.Table.from_pylist([{"select": "a", "Order": 2, "from": "new"},
                                  {"select": "b", "Order": 2, "from": "new"}],
                                 schema=arrow_schema(schema))
    assert merge(store, "upsert", again, schema=schema, name="orders") == MergeCounts(inserts=1, updates=1)
    got = records(store, schema, name="orders")
    assert [(r["select"], r["Order"], r["from"]) for r in got] == [
        ("a", 1, "z"), ("a", 2, "new"), ("b", 1, "x"), ("b", 2, "new")]
    assert store.existing_keys(WS, "orders", schema, [("a", 1), ("a", 3), ("b", 2)]) == {
        ("a", 1), ("b", 2)}
    gone = pa.Table.from_pylist([{"select": "a", "Order": 1}, {"select": "c", "Order": 1}],
                                schema=arrow_schema(schema, ["select", "Order"]))
    assert merge(store, "delete", gone, schema=schema, name="orders") == MergeCounts(deletes=1)
    assert store.count_records(WS, "orders") == 3


# -- operations -----------------------------------------------------------------------------


def test_upsert_into_an_empty_object_inserts_every_row(store):
    rows = contacts(*[(i, f"u{i}@x.io", "free", i / 2) for i in range(1, 101)])
    assert merge(store, "upsert", rows) == MergeCounts(inserts=100)
    assert store.count_records(WS, "contacts") == 100


@pytest.mark.parametrize("existing, incoming, inserts, updates", [
    (range(10, 20), range(15, 25), 5, 5),    # overlapping
    (range(10, 20), range(0, 5), 5, 0),      # every key below the table's
    (range(10, 20), range(25, 30), 5, 0),    # every key beyond the table's
    (range(10, 20), range(10, 20), 0, 10),   # the same keys again
    (range(10, 20), [0, 12, 30], 2, 1),      # around and inside
])
def test_upsert_counts_inserts_and_updates_exactly(store, existing, incoming, inserts, updates):
    merge(store, "upsert", contacts(*[(i, "old@x.io", "free", 1.0) for i in existing]))
    counts = merge(store, "upsert", contacts(*[(i, "new@x.io", "pro", 2.0) for i in incoming]))
    assert counts == MergeCounts(inserts=inserts, updates=updates)
    expected = set(existing) | set(incoming)
    got = records(store)
    assert [r["id"] for r in got] == sorted(expected)
    assert all(r["email"] == ("new@x.io" if r["id"] in set(incoming) else "old@x.io") for r in got)


def watch_writes(backend: Backend, store, schema: TableSchema = CONTACTS,
                 name: str = "contacts") -> Callable[[], int]:
    store.ensure_object(WS, name, schema)
    return destination_writes.watch_writes(backend.name, backend.sql, table_name(WS, name),
                                           schema.primary_key)


def test_an_upsert_of_rows_equal_to_the_stored_ones_counts_them_unchanged_and_writes_nothing(
        store, backend):
    rows = contacts((1, "a@x.io", "free", 1.5), (2, "b@x.io", None, None))
    merge(store, "upsert", rows)
    writes = watch_writes(backend, store)
    assert merge(store, "upsert", rows) == MergeCounts(unchanged=2)
    assert writes() == 0
    assert records(store)[1] == {"id": 2, "email": "b@x.io", "tier": None, "score": None}


def test_an_upsert_writes_only_the_rows_that_differ_and_counts_each_outcome(store, backend):
    merge(store, "upsert", contacts(*[(i, f"u{i}@x.io", "free", float(i)) for i in range(10)]))
    writes = watch_writes(backend, store)
    incoming = contacts(*[(i, f"u{i}@x.io", "free", float(i)) for i in range(0, 10, 2)],  # same
                        (1, "u1@x.io", "pro", 1.0),  # one field differs
                        (3, "u3@x.io", "free", None),  # a value becomes null
                        (5, None, "free", 5.0),
                        (10, "new@x.io", None, None), (11, "new@x.io", None, None))
    assert merge(store, "upsert", incoming) == MergeCounts(inserts=2, updates=3, unchanged=5)
    assert writes() == 5
    assert records(store)[3] == {"id": 3, "email": "u3@x.io", "tier": "free", "score": None}


def test_equality_is_decided_on_the_stored_values_of_every_type(store, backend):
    rows = pa.Table.from_pylist([
        {"id": 1, "name": "Zoë", "score": 57.3, "active": True, "born": date(1999, 2, 28),
         "seen": datetime(2023, 5, 17, 10, 0, tzinfo=UTC), "opens": time(9, 30), "since": 2020},
        {"id": 2, "name": "", "score": -0.5, "active": False, "born": date(1, 1, 1),
         "seen": datetime(2023, 5, 17, 10, 0, 0, 250000, tzinfo=UTC), "since": 1999},
    ], schema=arrow_schema(EVERY_TYPE))
    merge(store, "upsert", rows, schema=EVERY_TYPE, name="every")
    writes = watch_writes(backend, store, EVERY_TYPE, "every")
    # The same instant written in another offset is the same stored value.
    paris = timezone(timedelta(hours=2))
    same = rows.set_column(5, "seen", pa.array(
        [datetime(2023, 5, 17, 12, 0, tzinfo=paris), datetime(2023, 5, 17, 12, 0, 0, 250000, tzinfo=paris)],
        arrow_schema(EVERY_TYPE).field("seen").type))
    assert merge(store, "upsert", same, schema=EVERY_TYPE, name="every") == MergeCounts(unchanged=2)
    # A microsecond, a flipped boolean, an empty string turned null: each a real update.
    changed = pa.Table.from_pylist([
        {**rows.to_pylist()[0], "seen": datetime(2023, 5, 17, 10, 0, 0, 1, tzinfo=UTC)},
        {**rows.to_pylist()[1], "active": True, "name": None},
    ], schema=arrow_schema(EVERY_TYPE))
    assert merge(store, "upsert", changed, schema=EVERY_TYPE, name="every") == MergeCounts(updates=2)
    assert writes() == 2


def test_rows_in_any_order_are_merged_and_read_back_in_key_order(store):
    merge(store, "upsert", contacts((3, "c@x.io", None, None), (1, "a@x.io", None, None),
                                    (2, "b@x.io", None, None)))
    assert [r["id"] for r in records(store)] == [1, 2, 3]


def test_upsert_of_some_columns_leaves_the_others_alone_and_null_on_insert(store):
    merge(store, "upsert", contacts((1, "a@x.io", "free", 1.5), (2, "b@x.io", "pro", 2.5)))
    counts = merge(store, "upsert", contacts((2, "team"), (3, "free"), columns=("id", "tier")))
    assert counts == MergeCounts(inserts=1, updates=1)
    assert records(store) == [
        {"id": 1, "email": "a@x.io", "tier": "free", "score": 1.5},
        {"id": 2, "email": "b@x.io", "tier": "team", "score": 2.5},
        {"id": 3, "email": None, "tier": "free", "score": None},
    ]


def test_an_upsert_of_key_columns_only_adds_missing_keys_and_leaves_the_rest_unchanged(store):
    merge(store, "upsert", contacts((1, "a@x.io", "free", 1.5)))
    assert merge(store, "upsert", contacts((1,), (2,), columns=("id",))) == MergeCounts(
        inserts=1, unchanged=1)
    assert records(store) == [{"id": 1, "email": "a@x.io", "tier": "free", "score": 1.5},
                              {"id": 2, "email": None, "tier": None, "score": None}]


def test_insert_adds_new_keys_and_skips_existing_ones_without_counting_them(store):
    merge(store, "upsert", contacts((1, "a@x.io", "free", 1.0)))
    counts = merge(store, "insert", contacts((1, "changed@x.io", "pro", 9.0), (2, "b@x.io", "pro", 2.0)))
    assert counts == MergeCounts(inserts=1)
    assert [(r["id"], r["email"]) for r in records(store)] == [(1, "a@x.io"), (2, "b@x.io")]


def test_update_changes_only_existing_keys_and_only_the_given_columns(store):
    merge(store, "upsert", contacts((1, "a@x.io", "free", 1.0), (2, "b@x.io", "free", 2.0)))
    counts = merge(store, "update", contacts((2, "pro"), (3, "pro"), columns=("id", "tier")))
    assert counts == MergeCounts(updates=1)
    assert records(store) == [
        {"id": 1, "email": "a@x.io", "tier": "free", "score": 1.0},
        {"id": 2, "email": "b@x.io", "tier": "pro", "score": 2.0},
    ]


def test_an_update_to_equal_values_counts_each_existing_key_unchanged_and_writes_nothing(
        store, backend):
    rows = contacts((1, "a@x.io", "free", 1.0), (2, "b@x.io", "free", 2.0))
    merge(store, "upsert", rows)
    writes = watch_writes(backend, store)
    assert merge(store, "update", rows) == MergeCounts(unchanged=2)
    assert merge(store, "update", contacts((1,), (5,), columns=("id",))) == MergeCounts(unchanged=1)
    assert writes() == 0
    both = contacts((1, "a@x.io", "pro"), (2, "b@x.io", "free"), (7, "g@x.io", "pro"),
                    columns=("id", "email", "tier"))
    assert merge(store, "update", both) == MergeCounts(updates=1, unchanged=1)
    assert writes() == 1
    assert store.count_records(WS, "contacts") == 2


def test_delete_removes_the_given_keys_and_counts_only_those_it_found(store):
    merge(store, "upsert", contacts(*[(i, f"u{i}@x.io", None, None) for i in range(1, 6)]))
    counts = merge(store, "delete", contacts((2,), (4,), (9,), columns=("id",)))
    assert counts == MergeCounts(deletes=2)
    assert [r["id"] for r in records(store)] == [1, 3, 5]


def test_delete_ignores_columns_other_than_the_key(store):
    merge(store, "upsert", contacts((1, "a@x.io", "free", 1.0)))
    assert merge(store, "delete", contacts((1, "whatever", None, None))) == MergeCounts(deletes=1)
    assert records(store) == []


def test_an_empty_chunk_is_recorded_with_zero_counts(store):
    job = uuid4()
    assert merge(store, "upsert", contacts(), at=entry(0, job)) == MergeCounts()
    assert store.merged_chunks(job, 1) == {0: MergeCounts()}


# -- the ledger -----------------------------------------------------------------------------


def test_a_replayed_chunk_returns_its_recorded_unchanged_count_too(store, backend):
    rows = contacts((1, "a@x.io", "free", 1.0), (2, "b@x.io", "free", 2.0))
    merge(store, "upsert", rows)
    job = uuid4()
    counts = merge(store, "upsert", contacts((1, "a@x.io", "free", 1.0), (2, "b@x.io", "pro", 2.0),
                                             (3, "c@x.io", None, None)), at=entry(0, job))
    assert counts == MergeCounts(inserts=1, updates=1, unchanged=1)
    other = backend.open()
    try:
        assert other.merge_chunk(WS, "contacts", CONTACTS, "upsert", rows, entry(0, job)) == counts
        assert other.merged_chunks(job, 1) == {0: counts}
    finally:
        other.close()


def test_a_ledger_from_before_unchanged_was_counted_keeps_its_chunks_and_gains_the_column(backend):
    job = uuid4()
    # The ledger exactly as each backend created it before.
    uuid_type, moment = ("TEXT", "TEXT") if backend.name == "sqlite" else ("uuid", "timestamptz")
    backend.sql(f"create table {LEDGER_TABLE} (job_id {uuid_type} NOT NULL,"
                " plan_version INTEGER NOT NULL, chunk INTEGER NOT NULL, workspace TEXT NOT NULL,"
                " object_name TEXT NOT NULL, inserts INTEGER NOT NULL DEFAULT 0,"
                " updates INTEGER NOT NULL DEFAULT 0, deletes INTEGER NOT NULL DEFAULT 0,"
                f" merged_at {moment} NOT NULL, PRIMARY KEY (job_id, plan_version, chunk))")
    if backend.name == "postgres":
        backend.sql(f"alter table {LEDGER_TABLE} alter column merged_at set default now()")
    backend.sql(f"insert into {LEDGER_TABLE} values ('{job}', 1, 0, 'acme', 'contacts', 3, 2, 0,"
                " '2026-01-01T00:00:00Z')")
    opened = backend.open()
    try:
        assert opened.merged_chunks(job, 1) == {0: MergeCounts(inserts=3, updates=2)}
        rows = contacts((1, "a@x.io", None, None))
        merge(opened, "upsert", rows)
        assert merge(opened, "upsert", rows, at=entry(1, job)) == MergeCounts(unchanged=1)
        assert opened.merged_chunks(job, 1)[1] == MergeCounts(unchanged=1)
    finally:
        opened.close()


def test_a_chunk_already_in_the_ledger_changes_nothing_and_returns_the_recorded_counts(store, backend):
    job = uuid4()
    first = merge(store, "upsert", contacts((1, "a@x.io", "free", 1.0), (2, "b@x.io", "free", 2.0)),
                  at=entry(0, job))
    # A different payload under the same entry proves the second call did not merge at all.
    again = merge(store, "upsert", contacts((2, "x@x.io", "pro", 0.0), (3, "c@x.io", "pro", 3.0)),
                  at=entry(0, job))
    assert again == first == MergeCounts(inserts=2)
    assert [(r["id"], r["email"]) for r in records(store)] == [(1, "a@x.io"), (2, "b@x.io")]
    other = backend.open()  # a fresh process after a crash sees the same ledger
    try:
        assert other.merge_chunk(WS, "contacts", CONTACTS, "delete", contacts((1,), columns=("id",)),
                                 entry(0, job)) == first
        assert other.merged_chunks(job, 1) == {0: first}
    finally:
        other.close()
    assert store.count_records(WS, "contacts") == 2


def test_the_ledger_is_kept_per_job_plan_version_and_chunk(store):
    job, other_job = uuid4(), uuid4()
    merge(store, "upsert", contacts((1, "a@x.io", None, None)), at=entry(0, job, 1))
    merge(store, "upsert", contacts((1, "a2@x.io", None, None), (2, "b@x.io", None, None)),
          at=entry(1, job, 1))
    merge(store, "upsert", contacts((3, "c@x.io", None, None)), at=entry(0, job, 2))
    merge(store, "upsert", contacts((4, "d@x.io", None, None)), at=entry(0, other_job, 1))
    assert store.merged_chunks(job, 1) == {0: MergeCounts(1), 1: MergeCounts(1, 1)}
    assert store.merged_chunks(job, 2) == {0: MergeCounts(1)}
    assert store.merged_chunks(other_job, 1) == {0: MergeCounts(1)}
    assert store.merged_chunks(uuid4(), 1) == {}


def _break_rows_named(backend: Backend, store, poison: str) -> Callable[[], None]:
    """Make the database itself refuse rows whose email is `poison`; return the undo."""
    store.ensure_object(WS, "contacts", CONTACTS)
    table = quote_ident(table_name(WS, "contacts"))
    if backend.name == "sqlite":
        backend.sql(f"create trigger refuse before insert on {table} when new.email = '{poison}'"
                    " begin select raise(abort, 'refused by test trigger'); end")
        return lambda: backend.sql("drop trigger refuse")
    backend.sql(f"alter table {table} add constraint refuse check (email <> '{poison}')")
    return lambda: backend.sql(f"alter table {table} drop constraint refuse")


@pytest.mark.parametrize("before", [[], [(1, "a@x.io", "free", 1.0)]],
                         ids=["into-an-empty-object", "into-an-object-with-rows"])
def test_a_merge_failing_midway_leaves_neither_rows_nor_ledger(store, backend, before):
    if before:
        merge(store, "upsert", contacts(*before))
    undo = _break_rows_named(backend, store, "poison@x.io")
    rows = contacts(*[(i, "poison@x.io" if i == 500 else f"u{i}@x.io", "pro", 0.0)
                      for i in range(1, 1001)])
    job = uuid4()
    with pytest.raises(Exception, match="refuse"):
        merge(store, "upsert", rows, at=entry(0, job))
    assert records(store) == [dict(zip(("id", "email", "tier", "score"), r)) for r in before]
    assert store.merged_chunks(job, 1) == {}
    undo()
    counts = MergeCounts(inserts=1000 - len(before), updates=len(before))
    assert merge(store, "upsert", rows, at=entry(0, job)) == counts
    assert store.merged_chunks(job, 1) == {0: counts}
    assert store.count_records(WS, "contacts") == 1000


def test_a_chunk_of_the_wrong_type_is_refused_before_anything_is_written(store):
    job = uuid4()
    broken = pa.table({"id": pa.array(["1", "two"]), "email": pa.array(["a@x.io", "b@x.io"])})
    with pytest.raises(ChunkRefused, match="id"):
        merge(store, "upsert", broken, at=entry(0, job))
    assert records(store) == [] and store.merged_chunks(job, 1) == {}


def test_a_compatible_arrow_type_is_accepted(store):
    narrow = pa.table({"id": pa.array([1, 2], pa.int32()), "email": pa.array(["a", "b"], pa.large_string())})
    assert merge(store, "upsert", narrow) == MergeCounts(inserts=2)


@pytest.mark.parametrize("rows, problem", [
    (contacts((1, "a@x.io", None, None), (1, "b@x.io", None, None)), "same key twice"),
    (contacts((None, "a@x.io", None, None)), "empty"),
    (contacts(("a@x.io",), columns=("email",)), "primary key"),
    (pa.table({"id": [1], "nickname": ["x"]}), "not in the object's schema"),
])
def test_a_chunk_with_a_bad_key_or_column_is_refused(store, rows, problem):
    with pytest.raises(ChunkRefused, match=problem):
        merge(store, "upsert", rows)
    assert records(store) == []


def test_an_unknown_operation_is_refused(store):
    with pytest.raises(ChunkRefused, match="operation"):
        merge(store, "replace", contacts((1, "a@x.io", None, None)))


def test_concurrent_merges_from_several_threads_each_count_once(store):
    job = uuid4()
    results: dict[int, MergeCounts] = {}
    errors: list[BaseException] = []

    def work(chunk: int) -> None:
        try:
            ids = range(chunk * 50, chunk * 50 + 100)  # overlaps the next chunk by half
            rows = contacts(*[(i, f"c{chunk}@x.io", None, None) for i in ids])
            results[chunk] = merge(store, "upsert", rows, at=entry(chunk % 8, job))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c % 8,)) for c in range(16)]  # each twice
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ledger = store.merged_chunks(job, 1)
    assert sorted(ledger) == list(range(8))
    assert ledger == results
    assert sum(c.inserts for c in ledger.values()) == store.count_records(WS, "contacts") == 450
    assert sum(c.inserts + c.updates for c in ledger.values()) == 800


# -- reading --------------------------------------------------------------------------------


def test_records_are_json_ready_with_exactly_the_schemas_fields(store):
    rows = pa.Table.from_pylist([
        {"id": 1, "name": "Zoë", "score": 57.3, "active": True, "born": date(1999, 2, 28),
         "seen": datetime(2023, 5, 17, 10, 0, tzinfo=UTC), "opens": time(9, 30), "since": 2020},
        {"id": 2, "name": "", "score": -0.5, "active": False, "born": date(1, 1, 1),
         "seen": datetime(2023, 5, 17, 12, 0, 0, 250000, tzinfo=timezone(timedelta(hours=2))),
         "opens": time(23, 59, 59, 1), "since": 1999},
        {"id": 3},
    ], schema=arrow_schema(EVERY_TYPE))
    merge(store, "upsert", rows, schema=EVERY_TYPE, name="every")
    assert records(store, EVERY_TYPE, name="every") == [
        {"id": 1, "name": "Zoë", "score": 57.3, "active": True, "born": "1999-02-28",
         "seen": "2023-05-17T10:00:00Z", "opens": "09:30:00", "since": 2020},
        {"id": 2, "name": "", "score": -0.5, "active": False, "born": "0001-01-01",
         "seen": "2023-05-17T10:00:00.250000Z", "opens": "23:59:59.000001", "since": 1999},
        {"id": 3, "name": None, "score": None, "active": None, "born": None, "seen": None,
         "opens": None, "since": None},
    ]
    for record in records(store, EVERY_TYPE, name="every"):
        assert type(record["id"]) is int
        assert record["score"] is None or type(record["score"]) is float
        assert record["active"] is None or type(record["active"]) is bool


def test_records_come_back_in_key_order_across_pages_and_honour_the_limit(store):
    ids = list(range(12_001, 0, -1))  # more than two read pages, merged in reverse order
    merge(store, "upsert", contacts(*[(i, None, None, None) for i in ids]))
    everything = [r["id"] for r in records(store)]
    assert everything == sorted(ids)
    assert [r["id"] for r in records(store, limit=5001)] == list(range(1, 5002))
    assert [r["id"] for r in records(store, limit=3)] == [1, 2, 3]
    assert records(store, limit=0) == []


def test_text_keys_come_back_in_code_point_order_on_every_backend(store):
    schema = TableSchema.from_dict({"fields": [{"name": "k", "type": "string"}], "primaryKey": ["k"]})
    keys = ["b", "a", "Z", "é", "ab", "A", "😀", "z", "_", "1"]
    rows = pa.table({"k": pa.array(keys)})
    assert merge(store, "upsert", rows, schema=schema, name="texts").inserts == len(keys)
    assert [r["k"] for r in records(store, schema, name="texts")] == sorted(keys)
    # Keys below and between the stored ones are still counted exactly.
    more = pa.table({"k": pa.array(["0", "aa", "é", "😀"])})
    assert merge(store, "upsert", more, schema=schema, name="texts") == MergeCounts(
        inserts=2, unchanged=2)


@pytest.mark.parametrize("field_type, values, absent", [
    ("integer", [-5, 0, 2**40], 7),
    ("number", [-1.5, 0.1, 1e20], 0.2),
    ("string", ["a", "É", "x y"], "A"),
    ("boolean", [True], False),
    ("date", [date(2000, 1, 1), date(2024, 2, 29)], date(2000, 1, 2)),
    ("datetime", [datetime(2023, 5, 17, 10, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)],
     datetime(2023, 5, 17, 10, 0, 0, 1, tzinfo=UTC)),
    ("time", [time(0, 0), time(12, 30, 0, 5)], time(12, 30)),
    ("year", [1999, 2024], 2000),
])
def test_existing_keys_finds_keys_of_every_type_and_returns_the_callers_tuples(
        store, field_type, values, absent):
    schema = TableSchema.from_dict({"fields": [{"name": "k", "type": field_type},
                                               {"name": "v", "type": "string"}], "primaryKey": ["k"]})
    rows = pa.table({"k": pa.array(values, arrow_schema(schema).field("k").type)})
    assert merge(store, "upsert", rows, schema=schema, name="keys").inserts == len(values)
    asked = [(v,) for v in values] + [(absent,)]
    found = store.existing_keys(WS, "keys", schema, asked)
    assert found == {(v,) for v in values}
    assert all(any(f is a for a in asked) for f in found)
    # Upserting the same keys again finds every one of them, each equal to what is stored.
    assert merge(store, "upsert", rows, schema=schema, name="keys") == MergeCounts(
        unchanged=len(values))


def test_existing_keys_handles_a_hundred_thousand_keys_at_once(store):
    merge(store, "upsert", contacts(*[(i, None, None, None) for i in range(0, 100_000, 2)]))
    found = store.existing_keys(WS, "contacts", CONTACTS, [(i,) for i in range(100_000)])
    assert found == {(i,) for i in range(0, 100_000, 2)}


def test_a_datetime_key_matches_the_same_instant_in_another_offset(store):
    schema = TableSchema.from_dict({"fields": [{"name": "at", "type": "datetime"}], "primaryKey": ["at"]})
    instant = datetime(2023, 5, 17, 10, tzinfo=UTC)
    merge(store, "upsert", pa.table({"at": pa.array([instant], pa.timestamp("us", tz="UTC"))}),
          schema=schema, name="instants")
    paris = instant.astimezone(timezone(timedelta(hours=2)))
    assert store.existing_keys(WS, "instants", schema, [(paris,)]) == {(paris,)}


def test_a_record_batch_is_merged_like_a_table(store):
    batch = pa.RecordBatch.from_pylist([{"id": 2}, {"id": 1}], schema=arrow_schema(CONTACTS, ["id"]))
    assert merge(store, "upsert", batch) == MergeCounts(inserts=2)


# -- lists ----------------------------------------------------------------------------------


def test_a_merge_adds_its_keys_to_a_list_in_the_same_transaction_once(store):
    list_id = str(uuid4())
    store.ensure_list(WS, list_id, "spring", "contacts")
    store.ensure_list(WS, list_id, "renamed?", "contacts")  # repeating changes nothing
    at = entry()
    rows = contacts((2, "b@x.io", None, None), (1, "a@x.io", None, None))
    store.merge_chunk(WS, "contacts", CONTACTS, "upsert", rows, at, list_id=list_id)
    store.merge_chunk(WS, "contacts", CONTACTS, "upsert", rows, at, list_id=list_id)  # a replay
    store.merge_chunk(WS, "contacts", CONTACTS, "upsert", contacts((2, "b2@x.io", None, None)),
                      entry(), list_id=list_id)
    assert store.list_members(WS, list_id) == ['{"id":1}', '{"id":2}']
    info = store.find_list(WS, list_id)
    assert (info["name"], info["objectName"], info["memberCount"]) == ("spring", "contacts", 2)
    assert info["createdAt"].endswith("Z")


def test_deletes_add_nothing_to_a_list(store):
    list_id = str(uuid4())
    store.ensure_list(WS, list_id, "l", "contacts")
    store.merge_chunk(WS, "contacts", CONTACTS, "upsert", contacts((1, "a@x.io", None, None)), entry())
    store.merge_chunk(WS, "contacts", CONTACTS, "delete", contacts((1,), columns=("id",)), entry(),
                      list_id=list_id)
    assert store.list_members(WS, list_id) == []


def test_composite_keys_are_members_as_objects_of_the_key_fields(store):
    list_id = str(uuid4())
    store.ensure_list(WS, list_id, "orders", "orders")
    rows = pa.Table.from_pylist([{"select": "b", "Order": 1, "from": "x"},
                                 {"select": "é", "Order": 2, "from": "y"}], schema=arrow_schema(ORDERS))
    store.merge_chunk(WS, "orders", ORDERS, "insert", rows, entry(), list_id=list_id)
    assert store.list_members(WS, list_id) == ['{"select":"b","Order":1}', '{"select":"é","Order":2}']


def test_lists_page_in_creation_order_and_stay_in_their_workspace(store):
    ids = [str(uuid4()) for _ in range(3)]
    for n, list_id in enumerate(ids):
        store.ensure_list(WS, list_id, f"list {n}", "contacts")
    store.ensure_list("other", str(uuid4()), "theirs", "contacts")
    first = store.lists(WS, limit=2)
    assert [x["name"] for x in first] == ["list 0", "list 1"]
    rest = store.lists(WS, after=(first[-1]["createdAt"], first[-1]["listId"]), limit=2)
    assert [x["name"] for x in rest] == ["list 2"]
    assert store.find_list("other", ids[0]) is None
    store.merge_chunk(WS, "contacts", CONTACTS, "upsert", contacts((1, "a@x.io", None, None)), entry(),
                      list_id=ids[0])
    assert store.list_members("other", ids[0]) == []
    assert store.list_members(WS, ids[0], after='{"id":1}') == []


# -- prepared chunks ------------------------------------------------------------------------


def test_a_prepared_chunk_merges_exactly_like_its_rows(store):
    merge(store, "upsert", contacts((1, "a@x.io", "free", 1.0)))
    prepared = store.prepare_chunk(CONTACTS, "upsert", contacts((1, "a@x.io", "free", 1.0),
                                                                (2, "b@x.io", None, None)))
    job = uuid4()
    counts = store.merge_chunk(WS, "contacts", CONTACTS, "upsert", prepared, entry(0, job))
    assert counts == MergeCounts(inserts=1, unchanged=1) == store.merged_chunks(job, 1)[0]
    assert [r["id"] for r in records(store)] == [1, 2]


def test_a_released_chunk_changes_nothing_and_a_mismatched_one_is_refused(store):
    store.release(store.prepare_chunk(CONTACTS, "upsert", contacts((5, "e@x.io", None, None))))
    assert records(store) == []
    prepared = store.prepare_chunk(CONTACTS, "upsert", contacts((6, "f@x.io", None, None)))
    with pytest.raises(ChunkRefused, match="another schema or operation"):
        store.merge_chunk(WS, "contacts", CONTACTS, "delete", prepared, entry())
    assert records(store) == []


def test_records_after_a_key_start_past_it_across_pages(store):
    merge(store, "upsert", contacts(*[(i, None, None, None) for i in range(1, 12_002)]))
    assert [r["id"] for r in records(store, after=(5000,), limit=3)] == [5001, 5002, 5003]
    assert [r["id"] for r in records(store, after=(1,))] == list(range(2, 12_002))
    assert records(store, after=(12_001,)) == []


@pytest.mark.parametrize("field_type, values", [
    ("integer", [-5, 0, 2**40]),
    ("number", [-1.5, 0.1, 1e20]),
    ("string", ["A", "a", "é"]),
    ("boolean", [False, True]),
    ("date", [date(1, 1, 1), date(2000, 1, 1), date(2024, 2, 29)]),
    ("datetime", [datetime(2023, 5, 17, 10, tzinfo=UTC), datetime(2023, 5, 17, 10, 0, 0, 1, tzinfo=UTC),
                  datetime(2023, 5, 17, 10, 0, 1, tzinfo=UTC)]),
    ("time", [time(0, 0), time(12, 30), time(12, 30, 0, 5)]),
    ("year", [1999, 2024]),
])
def test_records_after_a_key_of_every_type_as_records_give_it(store, field_type, values):
    schema = TableSchema.from_dict({"fields": [{"name": "k", "type": field_type}], "primaryKey": ["k"]})
    merge(store, "upsert", pa.table({"k": pa.array(values, arrow_schema(schema).field("k").type)}),
          schema=schema, name="keys")
    read = [r["k"] for r in records(store, schema, name="keys")]
    for i, key in enumerate(read):
        assert [r["k"] for r in records(store, schema, name="keys", after=(key,))] == read[i + 1:]


def test_records_after_a_composite_key(store):
    rows = pa.Table.from_pylist([{"select": s, "Order": o, "from": "x"} for s in "ab" for o in (1, 2)],
                                schema=arrow_schema(ORDERS))
    merge(store, "upsert", rows, schema=ORDERS, name="orders")
    after = records(store, ORDERS, name="orders", after=("a", 2))
    assert [(r["select"], r["Order"]) for r in after] == [("b", 1), ("b", 2)]
