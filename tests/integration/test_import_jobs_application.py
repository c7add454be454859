"""ImportJobs end to end through its real adapters, the same tests on every event-store backend:
in memory (popo), SQLite, and PostgreSQL (event store and destination both on the server)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import psycopg
import pytest

from lading.adapters.sql_read_models import SqlReadModels
from lading.application.errors import (
    IdempotencyConflict,
    JobNotFound,
    LimitExceeded,
    ListNotFound,
)
from lading.application.projections import JobFilter
from lading.application.projector import rebuild
from lading.adapters.sql_naming import table_name
from lading.adapters.sqlite_destination import SqliteDestination, database_path
from lading.domain.errors import DomainError, TransitionNotAllowed, UnknownField
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings
from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.destination_writes import watch_writes

WS = "acme"
HEADER = ["id", "email", "zip", "born", "tier"]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def lading(request, tmp_path):
    home = tmp_path / "home"
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        app = bootstrap(Settings(home=home, event_store=url, destination=url))
    elif request.param == "sqlite":
        app = bootstrap(Settings(home=home))
    else:
        app = bootstrap(Settings(home=home), eventsourcing={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.objects.catalog.add(WS, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    yield app
    app.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def exclusive(request, tmp_path):
    """Lading with `acme` under the exclusive policy (one running import at a time)."""
    home = tmp_path / "home"
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    app = bootstrap(Settings(home=home, event_store=url, destination=url,
                             exclusive_workspaces=frozenset({WS})))
    for workspace in (WS, "other"):
        app.objects.catalog.add(workspace, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    yield app
    app.close()


def started(lading, workspace: str, path: Path):
    jobs = lading.jobs
    job_id, _ = jobs.create_job(workspace, "contacts", path.name, path.stat().st_size)
    jobs.attach_file(workspace, job_id, path)
    jobs.map(workspace, job_id, {})
    jobs.start(workspace, job_id)
    return job_id


def run_import(lading, path: Path, mapping: dict | None = None) -> dict:
    jobs = lading.jobs
    job_id, _ = jobs.create_job(WS, "contacts", path.name, path.stat().st_size)
    jobs.attach_file(WS, job_id, path)
    jobs.map(WS, job_id, mapping or {})
    jobs.start(WS, job_id)
    lading.runner.process(job_id)
    return jobs.status(WS, job_id)


def good_rows(ids) -> list[list[str]]:
    return [[str(i), f"user{i}@example.com", f"0{i:04d}", "2001-02-03", "free"] for i in ids]


def test_a_csv_import_reports_exact_counters_errors_and_records(lading, tmp_path):
    rows = good_rows(range(1, 6)) + [
        ["6", "not-an-email", "00006", "2001-02-03", "free"],
        ["7", "seven@example.com", "00007", "2023-02-30", "free"],
        ["3", "dup@example.com", "00003", "2001-02-03", "pro"],
        ["8", "", "00008", "2001-02-03", "free"],
    ]
    status = run_import(lading, write_csv(tmp_path / "c.csv", HEADER, rows))
    assert status["state"] == "completed"
    assert (status["readRows"], status["validRows"], status["invalidRows"]) == (9, 5, 4)
    assert status["errorSummary"] == {
        "VALIDATION_TYPE_MISMATCH": 2, "DUPLICATE_KEY": 1, "REQUIRED_FIELD_MISSING": 1,
    }
    assert (status["mergedInserts"], status["mergedUpdates"], status["mergedDeletes"]) == (5, 0, 0)
    assert status["successRate"] == round(5 / 9, 4)
    lines = [json.loads(x) for x in
             lading.jobs.error_file(WS, status_id(status)).read_text().splitlines()]
    assert [e["rowNumber"] for e in lines] == [6, 7, 8, 9]
    assert lines[0]["code"] == "VALIDATION_TYPE_MISMATCH"
    assert lines[0]["errors"][0]["field"] == "email"
    assert lines[0]["sourceRow"]["email"] == "not-an-email"
    records = list(lading.objects.destination.read_records(WS, "contacts", lading.jobs.schema_of(WS, "contacts")))
    assert [r["id"] for r in records] == [1, 2, 3, 4, 5]
    assert records[0]["zip"] == "00001", "strings stay exactly as given"


def status_id(status: dict):
    from uuid import UUID

    return UUID(status["jobId"])


def test_custom_mode_is_reserved_and_refused_with_the_job_left_pending(lading, tmp_path):
    path = write_csv(tmp_path / "a.csv", HEADER, good_rows([1]))
    job_id, _ = lading.jobs.create_job(WS, "contacts", path.name, path.stat().st_size)
    with pytest.raises(DomainError, match="custom") as refused:
        lading.jobs.map(WS, job_id, {"importMode": "custom"})
    assert refused.value.code == "VALIDATION.REQUEST_INVALID"
    assert lading.jobs.status(WS, job_id)["state"] == "pending"


def test_an_empty_file_completes_with_zero_counters_a_success_rate_of_one_and_no_error_summary(lading, tmp_path):
    status = run_import(lading, write_csv(tmp_path / "empty.csv", HEADER, []))
    assert status["state"] == "completed"
    assert (status["readRows"], status["validRows"], status["invalidRows"]) == (0, 0, 0)
    assert (status["successRate"], status["errorSummary"], status["hasErrors"]) == (1.0, None, False)


def test_merged_counts_add_up_to_valid_rows_once_completed(lading, tmp_path):
    run_import(lading, write_csv(tmp_path / "a.csv", HEADER, good_rows(range(1, 4))))
    status = run_import(lading, write_csv(tmp_path / "b.csv", HEADER,
                                          good_rows(range(2, 7)) + [["9", "bad", "0", "x", "free"]]))
    assert (status["mergedInserts"] + status["mergedUpdates"] + status["mergedUnchanged"]
            + status["mergedDeletes"]) == status["validRows"] == 5
    assert sum(status["errorSummary"].values()) == status["invalidRows"] == 1
    assert (status["rowsTotal"], status["rowsImported"], status["rowsRejected"]) == (6, 5, 1)


def test_a_second_import_with_overlapping_keys_counts_inserts_updates_and_unchanged_exactly(
        lading, tmp_path):
    run_import(lading, write_csv(tmp_path / "a.csv", HEADER, good_rows(range(1, 11))))
    changed = [[str(i), f"new{i}@example.com", f"0{i:04d}", "2001-02-03", "pro"] for i in (6, 7)]
    status = run_import(lading, write_csv(tmp_path / "b.csv", HEADER,
                                          changed + good_rows(range(8, 16))))
    assert (status["mergedInserts"], status["mergedUpdates"], status["mergedUnchanged"]) == (5, 2, 3)


def _writes_into_contacts(lading, request, tmp_path):
    """Count the rows the destination really writes into `contacts` from now on."""
    lading.objects.destination.ensure_object(WS, "contacts", lading.jobs.schema_of(WS, "contacts"))
    table = table_name(WS, "contacts")
    if isinstance(lading.objects.destination, SqliteDestination):
        path = database_path(tmp_path / "home" / "destination")

        def sql(statement: str) -> list[tuple]:
            with sqlite3.connect(path) as conn:
                return conn.execute(statement).fetchall()
        return watch_writes("sqlite", sql, table, ["id"])
    url = request.getfixturevalue("postgres_url")  # the one this test's application uses

    def sql(statement: str) -> list[tuple]:
        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []
    return watch_writes("postgres", sql, table, ["id"])


def test_importing_the_same_file_twice_leaves_every_row_unchanged_and_rewrites_none(
        lading, request, tmp_path):
    path = write_csv(tmp_path / "a.csv", HEADER,
                     good_rows(range(1, 41)) + [["41", "bad", "0", "2001-02-03", "free"]])
    first = run_import(lading, path)
    assert (first["mergedInserts"], first["mergedUnchanged"]) == (40, 0)
    writes = _writes_into_contacts(lading, request, tmp_path)
    again = run_import(lading, path)
    assert again["mergedUnchanged"] == again["validRows"] == 40
    assert (again["mergedInserts"], again["mergedUpdates"], again["mergedDeletes"]) == (0, 0, 0)
    assert again["progress"]["rowsMerged"] == 40
    assert writes() == 0, "no row of the destination was rewritten"
    fresh = SqlReadModels(tmp_path / "rebuilt.sqlite")
    rebuild(lading.jobs, fresh)
    assert fresh.get(again["jobId"])["mergedUnchanged"] == 40, "the events carry it"
    fresh.close()


def test_insert_update_and_delete_check_keys_against_the_destination(lading, tmp_path):
    run_import(lading, write_csv(tmp_path / "a.csv", HEADER, good_rows(range(1, 4))))
    inserted = run_import(lading, write_csv(tmp_path / "b.csv", HEADER, good_rows([3, 4])),
                          {"operation": "insert"})
    assert inserted["errorSummary"] == {"KEY_EXISTS": 1} and inserted["mergedInserts"] == 1
    updated = run_import(lading, write_csv(tmp_path / "c.csv", HEADER,
                                           [["4", "four@example.com", "", "", "pro"],
                                            *good_rows([3, 9])]),
                         {"operation": "update"})
    assert updated["errorSummary"] == {"KEY_NOT_FOUND": 1}
    assert (updated["mergedUpdates"], updated["mergedUnchanged"]) == (1, 1)
    deleted = run_import(lading, write_csv(tmp_path / "d.csv", ["id"], [["1"], ["2"], ["99"]]),
                         {"operation": "delete", "fieldMap": {"id": "id"}})
    assert deleted["mergedDeletes"] == 2 and deleted["errorSummary"] == {"KEY_NOT_FOUND": 1}
    schema = lading.jobs.schema_of(WS, "contacts")
    assert [r["id"] for r in lading.objects.destination.read_records(WS, "contacts", schema)] == [3, 4]


def test_a_mapping_to_an_unknown_field_is_refused_and_the_job_stays_pending(lading, tmp_path):
    path = write_csv(tmp_path / "a.csv", HEADER, good_rows([1]))
    job_id, _ = lading.jobs.create_job(WS, "contacts", path.name, path.stat().st_size)
    lading.jobs.attach_file(WS, job_id, path)
    with pytest.raises(UnknownField):
        lading.jobs.map(WS, job_id, {"fieldMap": {"id": "id", "email": "mail"}})
    assert lading.jobs.status(WS, job_id)["state"] == "pending"
    with pytest.raises(TransitionNotAllowed):
        lading.jobs.start(WS, job_id)


def test_a_mapped_column_missing_from_the_file_fails_the_job_with_its_name(lading, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@b.co"]])
    status = run_import(lading, path, {"fieldMap": {"id": "id", "email": "email", "postcode": "zip"}})
    assert status["state"] == "failed"
    assert "postcode" in status["errorMessage"]
    assert status["errorCode"] == "COLUMNS_MISSING"


def test_a_failed_jobs_error_code_comes_from_the_closed_list(lading, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "email", "extra"], [["1", "a@b.co", "x"]])
    status = run_import(lading, path, {"fieldMap": {"id": "id", "email": "email"}, "importMode": "strict"})
    assert (status["state"], status["errorCode"]) == ("failed", "COLUMNS_UNEXPECTED")


def test_another_workspace_cannot_see_the_job(lading, tmp_path):
    status = run_import(lading, write_csv(tmp_path / "a.csv", HEADER, good_rows([1])))
    with pytest.raises(JobNotFound):
        lading.jobs.status("other", status_id(status))


def test_at_most_ten_jobs_are_queued_or_running_per_workspace(lading, tmp_path):
    path = write_csv(tmp_path / "a.csv", HEADER, good_rows([1]))
    ids = []
    for _ in range(11):
        job_id, _ = lading.jobs.create_job(WS, "contacts", path.name, 1)
        lading.jobs.attach_file(WS, job_id, path)
        lading.jobs.map(WS, job_id, {})
        ids.append(job_id)
    for job_id in ids[:10]:
        lading.jobs.start(WS, job_id)
    with pytest.raises(LimitExceeded):
        lading.jobs.start(WS, ids[10])
    lading.jobs.cancel(WS, ids[0])
    lading.jobs.start(WS, ids[10])


def test_an_exclusive_workspace_queues_its_imports_and_runs_one_at_a_time(exclusive, tmp_path):
    path = write_csv(tmp_path / "a.csv", HEADER, good_rows([1, 2]))
    first, second = started(exclusive, WS, path), started(exclusive, WS, path)
    elsewhere = started(exclusive, "other", path)
    # Another worker is running one of acme's imports (it holds the workspace's run claim).
    with exclusive.jobs.queue.claim_workspace_run(WS) as running_elsewhere:
        assert running_elsewhere
        assert exclusive.runner.process(second) is None
        assert exclusive.jobs.status(WS, second)["state"] == "queued"
        assert exclusive.runner.process(elsewhere) == "completed", "other workspaces are not held back"
    assert exclusive.runner.process(first) == "completed"
    assert exclusive.runner.process(second) == "completed"


def test_while_a_worker_runs_an_exclusive_workspace_job_no_other_worker_can(exclusive):
    with exclusive.jobs.queue.claim_workspace_run(WS) as mine:
        with exclusive.jobs.queue.claim_workspace_run(WS) as theirs:
            assert (mine, theirs) == (True, False)
        with exclusive.jobs.queue.claim_workspace_run("other") as unrelated:
            assert unrelated
    with exclusive.jobs.queue.claim_workspace_run(WS) as again:
        assert again, "the claim ends with its holder"


def import_into_list(lading, path: Path, operation: str = "upsert", **list_request) -> dict:
    jobs = lading.jobs
    job_id, _ = jobs.create_job(WS, "contacts", path.name, path.stat().st_size, **list_request)
    jobs.attach_file(WS, job_id, path)
    jobs.map(WS, job_id, {"operation": operation})
    jobs.start(WS, job_id)
    lading.runner.process(job_id)
    return jobs.status(WS, job_id)


def test_create_list_fills_a_new_list_with_exactly_the_merged_keys(lading, tmp_path):
    rows = good_rows([3, 1, 2]) + [["4", "not-an-email", "00004", "2001-02-03", "free"]]
    status = import_into_list(lading, write_csv(tmp_path / "a.csv", HEADER, rows), list_name="Spring")
    list_id = status["listId"]
    info = lading.jobs.find_list(WS, list_id)
    assert (info["name"], info["objectName"], info["memberCount"]) == ("Spring", "contacts", 3)
    assert lading.jobs.list_members(WS, list_id) == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert lading.jobs.list_members(WS, list_id, after='{"id":1}', limit=1) == [{"id": 2}]


def test_a_target_list_gains_the_keys_of_later_imports_once_each(lading, tmp_path):
    first = import_into_list(lading, write_csv(tmp_path / "a.csv", HEADER, good_rows([1, 2])),
                             list_name="Everyone")
    list_id = first["listId"]
    second = import_into_list(lading, write_csv(tmp_path / "b.csv", HEADER, good_rows([2, 3])),
                              target_list_id=list_id)
    assert second["listId"] == list_id
    assert lading.jobs.list_members(WS, list_id) == [{"id": 1}, {"id": 2}, {"id": 3}]
    deleted = import_into_list(lading, write_csv(tmp_path / "c.csv", HEADER, good_rows([3])),
                               operation="delete", target_list_id=list_id)
    assert deleted["mergedDeletes"] == 1
    assert lading.jobs.find_list(WS, list_id)["memberCount"] == 3, "a list is static: deletes add nothing"


def test_a_target_list_must_exist_in_the_workspace_for_the_same_object(lading, tmp_path):
    made = import_into_list(lading, write_csv(tmp_path / "a.csv", HEADER, good_rows([1])), list_name="L")
    with pytest.raises(ListNotFound):
        lading.jobs.create_job(WS, "contacts", "x.csv", 1, target_list_id="no-such-list")
    lading.objects.catalog.add("other", "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    with pytest.raises(ListNotFound):
        lading.jobs.create_job("other", "contacts", "x.csv", 1, target_list_id=made["listId"])
    with pytest.raises(ListNotFound):
        lading.jobs.list_members("other", made["listId"])
    with pytest.raises(DomainError):
        lading.jobs.create_job(WS, "contacts", "x.csv", 1, list_name="A", target_list_id=made["listId"])


def test_the_same_idempotency_key_returns_the_job_and_a_different_payload_conflicts(lading):
    first, created = lading.jobs.create_job(WS, "contacts", "a.csv", 10, idempotency_key="k1")
    again, created_again = lading.jobs.create_job(WS, "contacts", "a.csv", 10, idempotency_key="k1")
    assert created and not created_again and again == first
    with pytest.raises(IdempotencyConflict):
        lading.jobs.create_job(WS, "contacts", "b.csv", 10, idempotency_key="k1")


def test_inline_rows_import_like_a_file(lading):
    rows = [{"id": 1, "email": "a@b.co"}, {"id": 2, "email": "bad"}]
    job_id, _ = lading.jobs.create_job(WS, "contacts", rows=rows)
    lading.jobs.map(WS, job_id, {"fieldMap": {"id": "id", "email": "email"}})
    lading.jobs.start(WS, job_id)
    lading.runner.process(job_id)
    status = lading.jobs.status(WS, job_id)
    assert (status["validRows"], status["invalidRows"]) == (1, 1)


def test_a_review_policy_pauses_with_a_proposal_and_an_approved_fix_completes(lading, tmp_path):
    rows = good_rows([1, 2]) + [["3", "c@d.co", "00003", "2001-02-03", "PRO"]]
    path = write_csv(tmp_path / "a.csv", HEADER, rows)
    job_id, _ = lading.jobs.create_job(WS, "contacts", path.name, 1)
    lading.jobs.attach_file(WS, job_id, path)
    lading.jobs.map(WS, job_id, {"reviewPolicy": "review_on_errors", "importMode": "strict"})
    lading.jobs.start(WS, job_id)
    assert lading.runner.process(job_id) == "needs_attention"
    status = lading.jobs.status(WS, job_id)
    schema = lading.jobs.schema_of(WS, "contacts")
    assert list(lading.objects.destination.read_records(WS, "contacts", schema)) == [], "nothing merged yet"
    change = status["proposal"]["changes"][0]
    assert change["field"] == "tier" and change["enumMap"] == {"PRO": "pro"}
    lading.jobs.approve(WS, job_id)
    assert lading.runner.process(job_id) == "completed"
    status = lading.jobs.status(WS, job_id)
    assert (status["planVersion"], status["validRows"], status["invalidRows"]) == (2, 3, 0)


def test_a_run_revalidated_after_an_approval_never_pauses_again_and_rejects_what_still_fails(
        lading, tmp_path):
    rows = good_rows([1, 2]) + [["3", "c@d.co", "00003", "2001-02-03", "PRO"],
                                ["4", "not-an-email", "00004", "2001-02-03", "free"]]
    path = write_csv(tmp_path / "a.csv", HEADER, rows)
    job_id, _ = lading.jobs.create_job(WS, "contacts", path.name, 1)
    lading.jobs.attach_file(WS, job_id, path)
    lading.jobs.map(WS, job_id, {"reviewPolicy": "review_on_errors", "importMode": "strict"})
    lading.jobs.start(WS, job_id)
    assert lading.runner.process(job_id) == "needs_attention"
    lading.jobs.approve(WS, job_id)
    assert lading.runner.process(job_id) == "completed"
    status = lading.jobs.status(WS, job_id)
    assert (status["planVersion"], status["validRows"], status["invalidRows"]) == (2, 3, 1)


def test_cancelling_a_queued_job_stops_it_before_any_work(lading, tmp_path):
    path = write_csv(tmp_path / "a.csv", HEADER, good_rows([1]))
    job_id, _ = lading.jobs.create_job(WS, "contacts", path.name, 1)
    lading.jobs.attach_file(WS, job_id, path)
    lading.jobs.map(WS, job_id, {})
    lading.jobs.start(WS, job_id)
    lading.jobs.cancel(WS, job_id)
    assert lading.runner.process(job_id) == "cancelled"


def test_events_list_the_history_in_order_and_survive_deletion(lading, tmp_path):
    status = run_import(lading, write_csv(tmp_path / "a.csv", HEADER, good_rows([1, 2])))
    job_id = status_id(status)
    lading.jobs.delete(WS, job_id)
    types = [e["type"] for e in lading.jobs.history(WS, job_id)]
    assert types[:4] == ["Created", "FileReceived", "Mapped", "Started"]
    assert types[-2:] == ["Completed", "Deleted"]
    assert "ChunkMerged" in types and "ChunkValidated" in types
    with pytest.raises(JobNotFound):
        lading.jobs.status(WS, job_id)
    assert not lading.jobs.blobs.exists(f"{WS}/jobs/{job_id}/source")


def test_rebuilding_the_read_models_from_events_gives_the_live_documents(lading, tmp_path):
    run_import(lading, write_csv(tmp_path / "a.csv", HEADER, good_rows(range(1, 5)) + [["x", "", "", "", ""]]))
    run_import(lading, write_csv(tmp_path / "b.csv", HEADER, good_rows(range(3, 8))))
    fresh = SqlReadModels(tmp_path / "fresh.sqlite")
    rebuild(lading.jobs, fresh)
    assert fresh.all_documents() == lading.jobs.read_models.all_documents()
    listed = lading.jobs.list_jobs(JobFilter(workspace=WS))
    assert len(listed) == 2 and listed[0]["createdAt"] >= listed[1]["createdAt"]


def test_a_job_with_thousands_of_events_loads_from_a_snapshot(lading):
    job_id, _ = lading.jobs.create_job(WS, "contacts", rows=[{"id": 1, "email": "a@b.co"}])
    lading.jobs.map(WS, job_id, {})
    lading.jobs.start(WS, job_id)
    job = lading.jobs.repository.get(job_id)
    job.begin_processing()
    for chunk in range(1500):
        job.record_validated_chunk(chunk, 1, 1, {}, {}, None)
    lading.jobs.save(job)
    started = time.perf_counter()
    loaded = lading.jobs.repository.get(job_id)
    elapsed = time.perf_counter() - started
    assert loaded.validated_chunks == 1500
    assert lading.jobs.snapshots is not None
    assert list(lading.jobs.snapshots.get(job_id, desc=True, limit=1)), "a snapshot was taken"
    assert elapsed < 1.0  # generous: replaying 1,500 events without a snapshot is what this guards
