"""A one-worker job into PostgreSQL merges two chunks at once (ADR 0134): each in a transaction
of its own, recorded in the chunks' order, with the counts and records of one at a time."""

from __future__ import annotations

import psycopg
import pytest

from lading.adapters.sql_naming import quote_ident, table_name
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings
from tests.builders import CONTACTS_SCHEMA, merged_at_once, process_file, timed_merges, write_csv

pytestmark = pytest.mark.postgres
WS = "acme"


def test_a_postgresql_job_merges_two_chunks_at_once_and_records_them_in_order(tmp_path,
                                                                             postgres_url):
    app = bootstrap(Settings(home=tmp_path / "home", destination=postgres_url, chunk_bytes=16384))
    try:
        app.objects.catalog.add(WS, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
        destination = app.runner.destination
        assert destination.merges_at_once == 2
        spans = timed_merges(destination)
        rows = [[str(i), f"user{i}@example.com", f"{i % 99999:05d}", "1990-01-02",
                 "pro" if i % 3 else "free"] for i in range(1, 6001)]
        rows[100][1] = "not an email"
        rows[4000][0] = rows[3999][0]  # a repeated key: the first valid row wins
        path = write_csv(tmp_path / "contacts.csv", ["id", "email", "zip", "born", "tier"], rows)
        jobs = app.jobs
        job_id = process_file(app, WS, "contacts", path)
        status = jobs.status(WS, job_id)
        merged = [e["data"]["chunk"] for e in jobs.history(WS, job_id) if e["type"] == "ChunkMerged"]
    finally:
        app.close()
    assert status["state"] == "completed", status
    assert (status["readRows"], status["invalidRows"], status["mergedInserts"]) == (6000, 2, 5998)
    assert len(merged) >= 8 and merged == sorted(merged) == list(range(len(merged)))
    assert merged_at_once(spans), "no two chunks were merged at once"
    with psycopg.connect(postgres_url) as conn:
        stored = conn.execute(f"select id, email from {quote_ident(table_name(WS, 'contacts'))}"
                              " order by id").fetchall()
    expected = {int(r[0]): r[1] for r in reversed(rows) if r[1] != "not an email"}
    assert stored == sorted(expected.items()) and len(stored) == 5998
