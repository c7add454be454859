"""The reader limits are settings: each reaches the engine through bootstrap and shows in the
job's status as a coded failure (or, for error values, in the error file)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import ConfigError, load_settings
from tests.builders import CONTACTS_SCHEMA

WS = "acme"


def app_with(tmp_path: Path, **env: str):
    settings = load_settings({"LADING_HOME": str(tmp_path / "home"), **env})
    app = bootstrap(settings, eventsourcing={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.objects.catalog.add(WS, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    return app


def run_import(app, path: Path) -> tuple[dict, list[dict]]:
    """The job's status once processed, and its error file's entries."""
    jobs = app.jobs
    job_id, _ = jobs.create_job(WS, "contacts", path.name, path.stat().st_size)
    jobs.attach_file(WS, job_id, path)
    jobs.map(WS, job_id, {"fieldMap": {"id": "id", "email": "email"}})
    jobs.start(WS, job_id)
    app.runner.process(job_id)
    error_file = jobs.error_file(WS, job_id)
    entries = [json.loads(line) for line in error_file.read_text("utf-8").splitlines()] \
        if error_file else []
    return jobs.status(WS, job_id), entries


def test_a_record_over_lading_max_record_bytes_fails_the_job_with_record_too_large(tmp_path):
    app = app_with(tmp_path, LADING_MAX_RECORD_BYTES=str(1 << 20))
    try:
        rows = b"".join(b"%d,u%d@example.com\n" % (i, i) for i in range(1, 1001))
        path = tmp_path / "huge.csv.gz"
        path.write_bytes(gzip.compress(b"id,email\n" + rows + b"1001," + b"x" * (3 << 20) + b"\n"))
        status, _ = run_import(app, path)
        assert (status["state"], status["errorCode"]) == ("failed", "RECORD_TOO_LARGE")
        assert "LADING_MAX_RECORD_BYTES" in status["errorMessage"]
    finally:
        app.close()


@pytest.mark.parametrize("value", ["0", str(2 << 30), "many"])
def test_lading_max_record_bytes_must_be_a_size_the_reader_can_use(tmp_path, value):
    with pytest.raises(ConfigError, match="LADING_MAX_RECORD_BYTES|not a number"):
        load_settings({"LADING_HOME": str(tmp_path), "LADING_MAX_RECORD_BYTES": value})


def test_a_header_wider_than_lading_max_columns_fails_the_job_with_too_many_columns(tmp_path):
    app = app_with(tmp_path, LADING_MAX_COLUMNS="5")
    try:
        path = tmp_path / "wide.csv"
        path.write_bytes(b"id,email,a,b,c,d\n1,a@example.com,1,2,3,4\n")
        status, _ = run_import(app, path)
        assert (status["state"], status["errorCode"]) == ("failed", "TOO_MANY_COLUMNS")
        assert "LADING_MAX_COLUMNS" in status["errorMessage"]
    finally:
        app.close()


def test_lading_error_value_chars_cuts_long_values_in_the_error_file(tmp_path):
    app = app_with(tmp_path, LADING_ERROR_VALUE_CHARS="12")
    try:
        path = tmp_path / "long.csv"
        path.write_bytes(b"id,email\n1,not-an-email-at-all-" + b"z" * 100 + b"\n")
        status, entries = run_import(app, path)
        assert status["invalidRows"] == 1
        assert entries[0]["sourceRow"]["email"] == "not-an-email…[+108 characters]"
    finally:
        app.close()
