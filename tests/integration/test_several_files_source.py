"""A source of several files read in order as one: each header matched on its own, row
numbers continuing across files, keys unique across all of them, error lines naming their file."""

from __future__ import annotations

import json

import pytest

from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings
from tests.builders import CONTACTS_SCHEMA, write_csv

WS = "acme"


@pytest.fixture
def lading(tmp_path):
    app = bootstrap(Settings(home=tmp_path / "home"))
    app.objects.catalog.add(WS, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    yield app
    app.close()


def test_several_files_are_one_source_with_continuing_row_numbers_and_named_error_lines(lading, tmp_path):
    first = write_csv(tmp_path / "a.csv", ["id", "email", "tier"],
                      [["1", "a@example.com", "free"], ["2", "not-an-email", "pro"]])
    # Another column order and header spelling: matched on its own.
    second = write_csv(tmp_path / "b.csv", ["E-Mail", "ID", "Tier"],
                       [["c@example.com", "3", "pro"], ["d@example.com", "1", "free"],
                        ["e@example.com", "5", "gold"]])
    job_id, created = lading.jobs.submit_files(WS, "contacts", [("a.csv", first), ("b.csv", second)], {})
    assert created
    assert lading.runner.process(job_id) == "completed"
    status = lading.jobs.status(WS, job_id)
    assert (status["readRows"], status["validRows"], status["invalidRows"]) == (5, 2, 3)
    assert status["errorSummary"] == {"VALIDATION_TYPE_MISMATCH": 1, "DUPLICATE_KEY": 1,
                                      "VALIDATION_CONSTRAINT_VIOLATION": 1}
    assert [f["fileName"] for f in status["sourceFiles"]] == ["a.csv", "b.csv"]
    lines = [json.loads(x) for x in lading.jobs.error_file(WS, job_id).read_text().splitlines()]
    assert [(e["rowNumber"], e["file"], e["code"]) for e in lines] == [
        (2, "a.csv", "VALIDATION_TYPE_MISMATCH"), (4, "b.csv", "DUPLICATE_KEY"),
        (5, "b.csv", "VALIDATION_CONSTRAINT_VIOLATION")]
    records = list(lading.objects.destination.read_records(
        WS, "contacts", lading.jobs.schema_of(WS, "contacts")))
    assert [(r["id"], r["email"]) for r in records] == [(1, "a@example.com"), (3, "c@example.com")]


def test_a_later_file_lacking_a_mapped_column_fails_the_job_naming_that_file(lading, tmp_path):
    first = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@example.com"]])
    second = write_csv(tmp_path / "b.csv", ["id", "phone"], [["2", "555-0100"]])
    job_id, _ = lading.jobs.submit_files(WS, "contacts", [("a.csv", first), ("b.csv", second)],
                                         {"fieldMap": {"id": "id", "email": "email"}})
    assert lading.runner.process(job_id) == "failed"
    status = lading.jobs.status(WS, job_id)
    assert status["errorCode"] == "COLUMNS_MISSING"
    assert status["errorMessage"].startswith("b.csv: ")
