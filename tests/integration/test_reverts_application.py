"""Reverting jobs through the application and its real adapters (SPEC §8), SQLite and PostgreSQL:
the object ends as it was before the job, rows a later job changed are conflicts unless forced,
and a revert is queued work that a worker pass runs."""

from __future__ import annotations

import errno
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from lading.application.errors import RevertConflict
from lading.application.job_runner import MAX_ATTEMPTS
from lading.domain.errors import TransitionNotAllowed
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings

WS = "acme"
CONTACTS = TableSchema.from_dict({
    "fields": [{"name": "id", "type": "integer"}, {"name": "email", "type": "string"},
               {"name": "tier", "type": "string"}],
    "primaryKey": ["id"],
})


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def lading(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    app = bootstrap(Settings(home=tmp_path / "home", event_store=url, destination=url))
    app.objects.catalog.add(WS, "contacts", CONTACTS)
    yield app
    app.close()


def imported(app, rows: list[tuple], operation: str = "upsert") -> UUID:
    job_id, _ = app.jobs.submit_rows(
        WS, "contacts", [{"id": str(i), "email": e, "tier": t} for i, e, t in rows],
        {"operation": operation})
    app.runner.process(job_id)
    assert app.jobs.status(WS, job_id)["state"] == "completed"
    return job_id


def records(app) -> list[dict]:
    return list(app.objects.records(WS, "contacts"))


def reverted(app, job_id: UUID, force: bool = False) -> dict:
    app.reverts.revert(WS, job_id, force)
    assert app.jobs.status(WS, job_id)["state"] == "reverting"
    assert job_id in app.runner.runnable_jobs()  # queued work, like a start
    app.runner.run_pending()
    return app.jobs.status(WS, job_id)


def test_after_a_revert_the_object_holds_what_it_held_before_the_job(lading):
    imported(lading, [(1, "a@x.io", "free"), (2, "b@x.io", "free"), (3, "c@x.io", "free")])
    before = records(lading)
    upsert = imported(lading, [(1, "a@x.io", "pro"), (2, "b@x.io", "free"), (4, "d@x.io", "pro")])
    removal = imported(lading, [(3, "", ""), (4, "", "")], "delete")
    status = reverted(lading, removal)
    assert status["state"] == "reverted" and status["revertedAt"] is not None
    assert (status["revert"]["removed"], status["revert"]["restored"]) == (0, 2)
    assert status["mergedDeletes"] == 2  # a reverted job keeps its counters
    status = reverted(lading, upsert)
    assert (status["revert"]["removed"], status["revert"]["restored"]) == (1, 1)
    assert records(lading) == before


def test_rows_a_later_job_changed_are_conflicts_unless_forced(lading):
    first = imported(lading, [(1, "a@x.io", "free"), (2, "b@x.io", "free")])
    later = imported(lading, [(2, "b@x.io", "pro")])
    with pytest.raises(RevertConflict) as refused:
        lading.reverts.revert(WS, first)
    assert refused.value.details == {"conflicts": [{"key": {"id": 2}, "jobId": str(later)}],
                                     "count": 1}
    assert lading.jobs.status(WS, first)["state"] == "completed"
    status = reverted(lading, first, force=True)
    assert status["revert"] == {**status["revert"], "force": True, "conflicts": 1}
    assert records(lading) == []


def test_a_later_job_that_was_reverted_is_no_conflict(lading):
    first = imported(lading, [(1, "a@x.io", "free")])
    later = imported(lading, [(1, "a@x.io", "pro")])
    reverted(lading, later)
    assert reverted(lading, first)["state"] == "reverted"
    assert records(lading) == []


def test_only_a_completed_real_run_can_be_reverted(lading):
    job_id, _ = lading.jobs.submit_rows(WS, "contacts", [{"id": "1", "email": "a", "tier": "x"}],
                                        {}, dry_run=True)
    lading.runner.process(job_id)
    with pytest.raises(TransitionNotAllowed, match="a dry run changed nothing"):
        lading.reverts.revert(WS, job_id)
    job = imported(lading, [(1, "a@x.io", "free")])
    reverted(lading, job)
    with pytest.raises(TransitionNotAllowed, match="cannot revert a job that is reverted"):
        lading.reverts.revert(WS, job)


def test_before_images_follow_the_jobs_retention(lading):
    job = imported(lading, [(1, "a@x.io", "free")])
    lading.housekeeping.purge(WS, older_than_days=30)  # ended just now: kept
    assert lading.jobs.destination.before_images_kept(job, 1) == 1
    lading.housekeeping.purge(WS, older_than_days=30, now=datetime.now(UTC) + timedelta(days=31))
    with pytest.raises(TransitionNotAllowed, match="its before-images are gone"):
        lading.reverts.revert(WS, job)
    assert records(lading) == [{"id": 1, "email": "a@x.io", "tier": "free"}]
    assert lading.jobs.status(WS, job)["state"] == "completed"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def small_chunks(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    app = bootstrap(Settings(home=tmp_path / "home", event_store=url, destination=url,
                             chunk_bytes=64))
    app.objects.catalog.add(WS, "contacts", CONTACTS)
    yield app
    app.close()


def test_a_revert_that_keeps_raising_fails_after_the_last_attempt_and_says_how_far_it_got(
        small_chunks, monkeypatch):
    app = small_chunks
    job = imported(app, [(i, f"{i}@x.io", "free") for i in range(8)])
    chunks = len(app.jobs.load(job).merged_chunks)
    assert chunks > 1
    destination = app.runner.destination
    undo = destination.revert_chunk
    calls = []

    def first_chunk_then_broken(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            return undo(*args, **kwargs)
        raise RuntimeError("the destination is unreachable")

    monkeypatch.setattr(destination, "revert_chunk", first_chunk_then_broken)
    app.reverts.revert(WS, job)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert app.jobs.status(WS, job)["state"] == "reverting"
        app.runner.run_pending()
        app.runner.wait_for_callbacks()  # their thread claims the job too, briefly
        assert app.jobs.status(WS, job)["crashes"] == attempt
    status = app.jobs.status(WS, job)
    assert (status["state"], status["errorCode"]) == ("failed", "INTERNAL")
    assert status["errorMessage"].startswith(
        f"the revert stopped after 1 of {chunks} chunks, so the destination is partly reverted")
    assert "the destination is unreachable" in status["errorMessage"]
    assert status["revert"]["chunksReverted"] == 1
    assert job not in app.runner.runnable_jobs()
    tried = len(calls)
    app.runner.run_pending()
    app.runner.wait_for_callbacks()
    assert app.runner.process(job) == "failed" and len(calls) == tried  # left alone


def imported_into_list(app, rows: list[tuple], **list_request) -> UUID:
    job_id, _ = app.jobs.create_job(
        WS, "contacts", rows=[{"id": str(i), "email": e, "tier": t} for i, e, t in rows],
        **list_request)
    app.jobs.map(WS, job_id, {"operation": "upsert"})
    app.jobs.start(WS, job_id)
    app.runner.process(job_id)
    assert app.jobs.status(WS, job_id)["state"] == "completed"
    return job_id


def members(app, list_id: str) -> list[dict]:
    return app.jobs.list_members(WS, list_id)


def test_reverting_a_job_that_created_a_list_empties_the_list(small_chunks):
    app = small_chunks
    job = imported_into_list(app, [(i, f"{i}@x.io", "free") for i in range(6)], list_name="Spring")
    list_id = app.jobs.status(WS, job)["listId"]
    assert len(app.jobs.load(job).merged_chunks) > 1 and len(members(app, list_id)) == 6
    reverted(app, job)
    assert members(app, list_id) == [] and records(app) == []


def test_reverting_a_job_into_an_existing_list_removes_only_the_members_it_added(small_chunks):
    app = small_chunks
    first = imported_into_list(app, [(1, "a@x.io", "free"), (2, "b@x.io", "free")],
                               list_name="Spring")
    list_id = app.jobs.status(WS, first)["listId"]
    later = imported_into_list(app, [(2, "b@x.io", "pro"), (3, "c@x.io", "pro")],
                               target_list_id=list_id)
    assert members(app, list_id) == [{"id": 1}, {"id": 2}, {"id": 3}]
    reverted(app, later)
    assert members(app, list_id) == [{"id": 1}, {"id": 2}]  # 2 was a member before
    assert records(app) == [{"id": 1, "email": "a@x.io", "tier": "free"},
                            {"id": 2, "email": "b@x.io", "tier": "free"}]
    reverted(app, first)
    assert members(app, list_id) == []


def test_a_revert_that_finds_no_space_fails_at_once_saying_how_far_it_got(lading, monkeypatch):
    job = imported(lading, [(1, "a@x.io", "free")])

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(lading.runner.destination, "revert_chunk", full)
    lading.reverts.revert(WS, job)
    lading.runner.run_pending()
    status = lading.jobs.status(WS, job)
    assert (status["state"], status["errorCode"]) == ("failed", "STORAGE_FULL")
    assert status["errorMessage"].startswith(
        "the revert stopped after 0 of 1 chunks, so the destination is partly reverted: out of"
        " storage space")
