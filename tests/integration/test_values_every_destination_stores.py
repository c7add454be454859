"""A value no destination can store (a NUL character) is rejected at validation, the same on
SQLite and PostgreSQL, so the merge never meets it (PostgreSQL's COPY refuses 0x00)."""

from __future__ import annotations

import pytest

from tests.builders import CONTACTS_SCHEMA, embedded_lading, process_file

WS = "acme"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def lading(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with embedded_lading(tmp_path / "home", WS, {"contacts": CONTACTS_SCHEMA},
                         in_memory_events=False, event_store=url, destination=url) as app:
        yield app


def test_a_file_with_a_nul_in_a_value_imports_with_that_row_rejected(lading, tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"id,email,zip,born,tier\n"
                     b"1,a@example.com,00001,2001-02-03,free\n"
                     b"2,b@example.com,0\x000002,2001-02-03,free\n"
                     b"3,c@example.com,00003,2001-02-03,pro\n")
    jobs = lading.jobs
    status = jobs.status(WS, process_file(lading, WS, "contacts", path))
    assert status["state"] == "completed"
    assert (status["readRows"], status["validRows"], status["invalidRows"]) == (3, 2, 1)
    assert status["errorSummary"] == {"ENCODING_ERROR": 1}
    schema = jobs.schema_of(WS, "contacts")
    assert [r["zip"] for r in lading.objects.destination.read_records(WS, "contacts", schema)] == \
        ["00001", "00003"]
