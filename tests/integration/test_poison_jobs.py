"""Containment (ADR 0080): a job whose processing raises, for whatever reason, fails alone with
errorCode INTERNAL after a bounded number of attempts; the worker survives it and every other
workspace's jobs run before the bad workspace's next one."""

from __future__ import annotations

import sqlite3

import pytest

from lading.adapters.sql_naming import table_name
from lading.adapters.sqlite_destination import database_path
from lading.application.job_runner import MAX_ATTEMPTS
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings
from tests.builders import CONTACTS_SCHEMA, write_csv

ROWS = [["1", "a@x.org", "1000", "1990-01-01", "free"], ["2", "b@x.org", "2000", "1991-02-02", "pro"]]


@pytest.fixture
def lading(tmp_path):
    app = bootstrap(Settings(home=tmp_path / "home"))
    for workspace in ("bad", "good", "other"):
        app.objects.catalog.add(workspace, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    yield app
    app.close()


def poison(lading, tmp_path) -> None:
    """Someone replaced `bad`'s destination table by one without the object's columns: every
    merge into it raises sqlite3.OperationalError, which no code path expects."""
    db = sqlite3.connect(database_path(tmp_path / "home" / "destination"))
    db.execute(f'create table "{table_name("bad", "contacts")}" (unrelated text)')
    db.commit()
    db.close()


def started(lading, workspace: str, path):
    jobs = lading.jobs
    job_id, _ = jobs.create_job(workspace, "contacts", path.name, path.stat().st_size)
    jobs.attach_file(workspace, job_id, path)
    jobs.map(workspace, job_id, {})
    jobs.start(workspace, job_id)
    return job_id


def test_a_job_that_raises_fails_with_internal_after_bounded_attempts_and_the_worker_moves_on(
        lading, tmp_path):
    poison(lading, tmp_path)
    csv_path = write_csv(tmp_path / "c.csv", ["id", "email", "zip", "born", "tier"], ROWS)
    bad = started(lading, "bad", csv_path)
    good = started(lading, "good", csv_path)

    for _ in range(MAX_ATTEMPTS):
        lading.runner.work(once=True)  # one worker pass each; none of them raises

    status = lading.jobs.status("bad", bad)
    assert status["state"] == "failed" and status["errorCode"] == "INTERNAL"
    assert "OperationalError" in status["errorMessage"]
    crashes = [e for e in lading.jobs.history("bad", bad) if e["type"] == "ProcessingCrashed"]
    assert [e["data"]["attempt"] for e in crashes] == list(range(1, MAX_ATTEMPTS + 1))
    assert lading.jobs.status("good", good)["state"] == "completed"


def test_two_workspaces_jobs_behind_a_poison_job_run_before_its_workspaces_next_job(lading, tmp_path):
    poison(lading, tmp_path)
    csv_path = write_csv(tmp_path / "c.csv", ["id", "email", "zip", "born", "tier"], ROWS)
    bad = started(lading, "bad", csv_path)
    bad_second = started(lading, "bad", csv_path)
    healthy = {"good": started(lading, "good", csv_path), "other": started(lading, "other", csv_path)}
    order: list = []

    lading.runner.work(once=True, on_done=lambda job_id, state: order.append(job_id))

    for workspace, job_id in healthy.items():
        assert order.index(job_id) < order.index(bad_second)  # fair by workspace, not by age
        assert lading.jobs.status(workspace, job_id)["state"] == "completed"
    assert lading.jobs.status("bad", bad)["state"] == "running"  # one attempt used, retried later
