"""The reader limits are settings: each reaches the engine through bootstrap and shows in the
job's status as a coded failure (or, for error values, in the error file)."""

from __future__ import annotations

import gzip
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
    app.catalog.add(WS, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    return app


def run_import(app, path: Path) -> dict:
    jobs = app.jobs
    job_id, _ = jobs.create_job(WS, "contacts", path.name, path.stat().st_size)
    jobs.attach_file(WS, job_id, path)
    jobs.map(WS, job_id, {"fieldMap": {"id": "id", "email": "email"}})
    jobs.start(WS, job_id)
    jobs.process(job_id)
    return jobs.status(WS, job_id)


def test_a_record_over_lading_max_record_bytes_fails_the_job_with_record_too_large(tmp_path):
    app = app_with(tmp_path, LADING_MAX_RECORD_BYTES=str(1 << 20))
    try:
        rows = b"".join(b"%d,u%d@example.com\n" % (i, i) for i in range(1, 1001))
        path = tmp_path / "huge.csv.gz"
        path.write_bytes(gzip.compress(b"id,email\n" + rows + b"1001," + b"x" * (3 << 20) + b"\n"))
        status = run_import(app, path)
        assert (status["state"], status["errorCode"]) == ("failed", "RECORD_TOO_LARGE")
        assert "LADING_MAX_RECORD_BYTES" in status["errorMessage"]
    finally:
        app.close()


@pytest.mark.parametrize("value", ["0", str(2 << 30), "many"])
def test_lading_max_record_bytes_must_be_a_size_the_reader_can_use(tmp_path, value):
    with pytest.raises(ConfigError, match="LADING_MAX_RECORD_BYTES|not a number"):
        load_settings({"LADING_HOME": str(tmp_path), "LADING_MAX_RECORD_BYTES": value})
