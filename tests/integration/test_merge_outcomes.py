"""Each merged row's outcome, as DestinationStore.merge_chunk tells it (ADR 0090), on SQLite and
PostgreSQL: in the order the rows were given, equal to the merge's exact counts, and redone
when a concurrent writer changes the chunk's keys between the classification and the write."""

from __future__ import annotations

from uuid import uuid4

import psycopg
import pyarrow as pa
import pytest

import lading.adapters.postgres_destination as postgres_destination
from lading.adapters.postgres_destination import PostgresDestination
from lading.adapters.sqlite_destination import SqliteDestination
from lading.application.ports import LedgerEntry
from lading.domain.table_schema import TableSchema
from tests.integration.conftest import Database

WS = "acme"
SCHEMA = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                           {"name": "v", "type": "string"}],
                                "primaryKey": ["id"]})


@pytest.fixture
def store(database: Database):
    opened = (SqliteDestination(database.target) if database.name == "sqlite"
              else PostgresDestination(database.target))
    yield opened
    opened.close()


def merge(store, rows: dict[int, str], operation: str = "upsert") -> tuple[object, list[str]]:
    heard: list[list[str]] = []
    table = pa.table({"id": pa.array(list(rows), pa.int64()), "v": pa.array(list(rows.values()))})
    counts = store.merge_chunk(WS, "things", SCHEMA, operation, table,
                               LedgerEntry(uuid4(), 1, 0), on_outcomes=heard.append)
    assert len(heard) == 1
    return counts, heard[0]


def test_outcomes_follow_the_rows_as_given_not_the_key_order(store):
    merge(store, {5: "a", 1: "b"})
    counts, words = merge(store, {9: "n", 5: "a", 3: "n", 1: "changed"})
    assert words == ["inserted", "unchanged", "inserted", "updated"]
    assert (counts.inserts, counts.updates, counts.unchanged) == (2, 1, 1)


def test_outcomes_of_a_chunk_mostly_above_the_table_cover_the_rows_that_went_straight_in(store):
    # PostgreSQL COPYs the rows above the stored keys straight in and stages the rest (ADR 0113).
    merge(store, {5: "a", 1: "b"})
    counts, words = merge(store, {12: "n", 9: "n", 5: "a", 3: "n", 1: "changed", 10: "n"})
    assert words == ["inserted", "inserted", "unchanged", "inserted", "updated", "inserted"]
    assert (counts.inserts, counts.updates, counts.unchanged) == (4, 1, 1)


@pytest.mark.parametrize("operation, expected", [
    ("update", ["updated", "unchanged"]), ("delete", ["deleted", "deleted"]),
    ("insert", ["KEY_EXISTS", "KEY_EXISTS"]),
])
def test_every_operation_names_each_rows_outcome(store, operation, expected):
    merge(store, {2: "a", 1: "b"})
    _, words = merge(store, {2: "x", 1: "b"}, operation)
    assert words == expected


def test_a_recorded_chunk_is_not_classified_again(store):
    table = pa.table({"id": pa.array([1], pa.int64()), "v": pa.array(["a"])})
    entry, heard = LedgerEntry(uuid4(), 1, 0), []
    store.merge_chunk(WS, "things", SCHEMA, "upsert", table, entry, on_outcomes=heard.append)
    store.merge_chunk(WS, "things", SCHEMA, "upsert", table, entry, on_outcomes=heard.append)
    assert heard == [["inserted"]]


@pytest.mark.postgres
def test_a_key_another_writer_adds_in_between_makes_the_merge_redo_itself(postgres_url,
                                                                          monkeypatch):
    store = PostgresDestination(postgres_url)
    try:
        merge(store, {10: "stored"})
        classify = postgres_destination._outcomes
        calls = []

        def classify_then_race(cursor, table, *args):
            words = classify(cursor, table, *args)
            if not calls:  # a concurrent job commits key 2 between our classification and write
                with psycopg.connect(postgres_url, autocommit=True) as other:
                    other.execute(f"insert into {table} (id, v) values (2, 'theirs')")
            calls.append(words.tolist())
            return words

        monkeypatch.setattr(postgres_destination, "_outcomes", classify_then_race)
        counts, words = merge(store, {2: "ours", 10: "stored", 3: "new"})
        assert calls[0] == ["inserted", "inserted", "unchanged"]  # key order, before the race
        assert words == ["updated", "unchanged", "inserted"]
        assert (counts.inserts, counts.updates, counts.unchanged) == (1, 1, 1)
    finally:
        store.close()
