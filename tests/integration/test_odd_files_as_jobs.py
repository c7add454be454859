"""What a job's status says for files that hold no table (SPEC §3 failed jobs, issue 16.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lading.application.status_view import public_status
from tests.builders import CONTACTS_SCHEMA, embedded_lading, process_file

WS = "acme"
ELF_HEADER = b"\x7fELF\x02\x01\x01\x00" + bytes(56)


@pytest.fixture
def lading(tmp_path):
    with embedded_lading(tmp_path / "home", WS, {"contacts": CONTACTS_SCHEMA}) as app:
        yield app


def run_import(lading, path: Path) -> dict:
    return lading.jobs.status(WS, process_file(lading, WS, "contacts", path))


def test_a_program_renamed_csv_fails_with_not_a_table_naming_it(lading, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(ELF_HEADER + bytes(4096))
    status = run_import(lading, path)
    assert (status["state"], status["errorCode"]) == ("failed", "NOT_A_TABLE")
    assert status["errorMessage"].startswith("this is an ELF binary")


def test_an_empty_file_completes_with_zero_rows_and_a_no_rows_warning(lading, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"")
    status = run_import(lading, path)
    assert (status["state"], status["readRows"], status["successRate"]) == ("completed", 0, 1.0)
    assert public_status(status)["warnings"] == {"(no rows)": 1}
