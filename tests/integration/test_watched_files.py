"""WatchedFiles: a watched file's job is keyed by its content, so importing it again after a
crash resumes the one job, whatever step the crash interrupted."""

from __future__ import annotations

import pytest

from lading.application.errors import IdempotencyConflict
from lading.application.watched_files import file_sha256, watch_key
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings
from tests.builders import CONTACTS_SCHEMA, write_csv

WS = "default"


@pytest.fixture
def lading(tmp_path):
    app = bootstrap(Settings(home=tmp_path / "home"))
    app.objects.catalog.add(WS, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    yield app
    app.close()


@pytest.fixture
def config(lading):
    return lading.library.save_configuration(WS, "crm", "contacts",
                                             {"fieldMap": {"Id": "id", "Mail": "email"}})


@pytest.fixture
def path(tmp_path):
    return write_csv(tmp_path / "x.csv", ["Id", "Mail"], [["1", "a@b.co"], ["2", "c@d.co"]])


@pytest.mark.parametrize("interrupted_after", ["create", "attach", "map"])
def test_a_submission_a_crash_interrupted_is_completed_as_the_same_job(lading, config, path,
                                                                      interrupted_after):
    key = watch_key(config.id, file_sha256(path))
    job_id, _ = lading.jobs.create_job(WS, "contacts", path.name, path.stat().st_size,
                                       source="watcher", labels=[], idempotency_key=key)
    if interrupted_after in ("attach", "map"):
        lading.jobs.attach_file(WS, job_id, path)
    if interrupted_after == "map":
        lading.jobs.map(WS, job_id, dict(config.mapping))

    seen = []
    outcome = lading.watched.import_file(WS, config.id, path, on_job=lambda j, s: seen.append(j))

    assert outcome.job_id == job_id and seen == [job_id]
    assert (outcome.status["state"], outcome.status["validRows"], outcome.settled) == ("completed", 2, True)
    assert list(lading.jobs.read_models.all_documents()) == [str(job_id)]


def test_the_same_bytes_again_are_the_same_job_and_a_deleted_job_lets_them_import_anew(
        lading, config, path):
    first = lading.watched.import_file(WS, config.id, path)
    again = lading.watched.import_file(WS, config.id, path, sha256=file_sha256(path))
    assert again.job_id == first.job_id and again.status["mergedInserts"] == 2
    lading.jobs.delete(WS, first.job_id)
    anew = lading.watched.import_file(WS, config.id, path)
    assert anew.job_id != first.job_id and anew.status["mergedUnchanged"] == 2


def test_the_same_bytes_under_another_name_are_refused_as_already_imported(lading, config, path, tmp_path):
    lading.watched.import_file(WS, config.id, path)
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    with pytest.raises(IdempotencyConflict):
        lading.watched.import_file(WS, config.id, copy)
