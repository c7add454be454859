"""A job's files exist once and not for ever: the error file is stored once, a replaced upload
is removed, and a purge removes finished and abandoned jobs' files and says so in the status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lading.application.errors import FilesPurged
from lading.domain.errors import TransitionNotAllowed
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings
from tests.builders import CONTACTS_SCHEMA, write_csv

WS = "acme"
HEADER = ["id", "email", "zip", "born", "tier"]
ROWS = [["1", "a@example.com", "00001", "2001-02-03", "free"],
        ["2", "not-an-email", "00002", "2001-02-03", "free"]]


@pytest.fixture(params=["memory", "sqlite"])
def lading(request, tmp_path):
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo"} if request.param == "memory" else None
    app = bootstrap(Settings(home=tmp_path / "home"), eventsourcing=env)
    app.objects.catalog.add(WS, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    yield app
    app.close()


def blob_files(lading, job_id) -> list[str]:
    root = lading.settings.blob_root / WS / "jobs" / str(job_id)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def imported(lading, path: Path):
    job_id, _ = lading.jobs.submit_path(WS, "contacts", path, {})
    lading.runner.process(job_id)
    return job_id


def test_the_error_file_is_kept_once_in_the_blob_store_not_also_in_the_work_directory(lading, tmp_path):
    job_id = imported(lading, write_csv(tmp_path / "c.csv", HEADER, ROWS))
    job = lading.jobs.load(job_id, WS)
    assert lading.jobs.error_file(WS, job_id).read_text().count("\n") == 1
    assert not lading.jobs.files(job).error_work_file.exists()
    assert [n for n in blob_files(lading, job_id) if n.startswith("errors")] == ["errors.v1.jsonl"]


def test_a_replaced_upload_removes_the_file_it_replaced(lading, tmp_path):
    first = write_csv(tmp_path / "first.csv", HEADER, ROWS[:1])
    second = write_csv(tmp_path / "second.csv", HEADER, ROWS)
    job_id, _ = lading.jobs.create_job(WS, "contacts", "c.csv")
    lading.jobs.attach_file(WS, job_id, first)
    lading.jobs.attach_file(WS, job_id, second)
    held = lading.jobs.load(job_id, WS).file["blobKey"]
    assert blob_files(lading, job_id) == [held.rsplit("/", 1)[1]]
    key, _ = lading.jobs.stored_source(WS, job_id)
    assert lading.jobs.blobs.local_path(key).read_bytes() == second.read_bytes()


def test_a_purged_job_says_so_and_refuses_downloads_instead_of_serving_nothing(lading, tmp_path):
    job_id = imported(lading, write_csv(tmp_path / "c.csv", HEADER, ROWS))
    assert lading.jobs.status(WS, job_id)["hasErrors"] is True

    removed = lading.housekeeping.purge(WS, older_than_days=0, now=datetime.now(UTC) + timedelta(seconds=1))

    assert removed >= 2 and blob_files(lading, job_id) == []  # the source and the error file
    status = lading.jobs.status(WS, job_id)
    assert status["state"] == "completed" and status["hasErrors"] is False
    assert status["purgedAt"] is not None and status["invalidRows"] == 1
    assert [e["type"] for e in lading.jobs.history(WS, job_id)][-2:] == ["Completed", "BlobsPurged"]
    assert lading.jobs.error_blob_key(WS, job_id) is None
    assert lading.jobs.has_valid_rows(WS, job_id) is False
    with pytest.raises(FilesPurged) as refused:
        lading.jobs.error_download_key(WS, job_id)
    assert refused.value.code == "NOT_FOUND" and refused.value.details["purgedAt"] == status["purgedAt"]
    with pytest.raises(FilesPurged):
        lading.exports.valid_rows_blob(WS, job_id)
    assert lading.housekeeping.purge(WS, older_than_days=0) == 0  # purged once
    assert [e["type"] for e in lading.jobs.history(WS, job_id)].count("BlobsPurged") == 1


def test_abandoned_jobs_never_started_are_purged_only_when_asked_and_idle_long_enough(lading, tmp_path):
    path = write_csv(tmp_path / "c.csv", HEADER, ROWS)
    abandoned, _ = lading.jobs.create_job(WS, "contacts", "c.csv")
    lading.jobs.attach_file(WS, abandoned, path)
    lading.jobs.map(WS, abandoned, {})
    assert lading.jobs.status(WS, abandoned)["state"] == "ready"
    in_a_day = datetime.now(UTC) + timedelta(days=1)

    lading.housekeeping.purge(WS, now=in_a_day)
    assert len(blob_files(lading, abandoned)) == 1, "kept without --pending-older-than"
    lading.housekeeping.purge(WS, pending_older_than=timedelta(days=2), now=in_a_day)
    assert len(blob_files(lading, abandoned)) == 1, "kept while not idle long enough"
    lading.housekeeping.purge(WS, pending_older_than=timedelta(hours=12), now=in_a_day)

    assert blob_files(lading, abandoned) == []
    status = lading.jobs.status(WS, abandoned)
    assert status["state"] == "pending" and status["purgedAt"] is not None
    assert lading.jobs.takes_file(WS, abandoned), "an upload can still revive it"
    lading.jobs.attach_file(WS, abandoned, path)
    assert lading.jobs.status(WS, abandoned)["state"] == "ready"
    assert lading.jobs.status(WS, abandoned)["purgedAt"] is None


def test_a_purge_removes_what_a_killed_upload_left_once_it_is_stale(lading):
    job_id, _ = lading.jobs.create_job(WS, "contacts", "c.csv")
    slot = lading.settings.blob_root / WS / "jobs" / str(job_id)
    slot.mkdir(parents=True)
    left = slot / ".source.0a1b.0c2d.tmp"  # as FilesystemBlobStore names a write in progress
    left.write_bytes(b"half an upload")

    assert lading.housekeeping.purge(WS) == 0
    assert left.exists(), "a fresh temporary may be an upload still arriving"
    assert lading.housekeeping.purge(WS, now=datetime.now(UTC) + timedelta(hours=2)) == 1
    assert not left.exists()


def test_a_job_that_started_is_never_purged_as_abandoned(lading, tmp_path):
    path = write_csv(tmp_path / "c.csv", HEADER, ROWS)
    job_id, _ = lading.jobs.create_job(WS, "contacts", "c.csv")
    lading.jobs.attach_file(WS, job_id, path)
    lading.jobs.map(WS, job_id, {})
    lading.jobs.start(WS, job_id)
    with pytest.raises(TransitionNotAllowed):
        lading.jobs.purge_blobs(WS, job_id)
    assert lading.housekeeping.purge(WS, pending_older_than=timedelta(0),
                                     now=datetime.now(UTC) + timedelta(days=1)) == 0
    assert len(blob_files(lading, job_id)) == 1 and lading.jobs.status(WS, job_id)["purgedAt"] is None
