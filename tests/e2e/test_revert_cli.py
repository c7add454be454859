"""SPEC §8 revert through the real `lading` command, on SQLite and PostgreSQL: after a revert the
object holds exactly what it held before the job; rows a later job changed are conflicts (exit 1,
listed) unless --force; kill -9 during a revert, then `worker --once`, ends as an uninterrupted
revert does."""

from __future__ import annotations

import time

import pytest

from tests.builders import PROFILES_SCHEMA, generate_profiles, write_csv
from tests.e2e.cli import Lading
from tests.e2e.test_crash_recovery import _events_of_type

CONTACTS = {"fields": [{"name": "id", "type": "integer"}, {"name": "email", "type": "string"},
                       {"name": "tier", "type": "string"}], "primaryKey": ["id"]}
HEADER = ["id", "email", "tier"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request):
    return request.getfixturevalue("postgres_url") if request.param == "postgres" else None


def _lading(home, pg_url, **env):
    if pg_url:
        env.update(LADING_EVENT_STORE=pg_url, LADING_DESTINATION=pg_url)
    return Lading(home, **env)


def _import(lading: Lading, path, obj: str = "contacts", *more: str) -> dict:
    return lading.json("import", str(path), "--object", obj, "--json", *more)


def test_a_reverted_import_leaves_the_object_as_it_was_and_later_changes_are_conflicts(
        tmp_path, backend):
    lading = _lading(tmp_path / "home", backend)
    lading.add_object(tmp_path, "contacts", CONTACTS)
    _import(lading, write_csv(tmp_path / "a.csv", HEADER, [["1", "a@x.io", "free"],
                                                            ["2", "b@x.io", "free"]]))
    before = lading.json("records", "contacts", "--json")
    job = _import(lading, write_csv(tmp_path / "b.csv", HEADER, [
        ["1", "a@x.io", "pro"], ["2", "b@x.io", "free"], ["3", "c@x.io", "pro"]]))
    later = _import(lading, write_csv(tmp_path / "c.csv", HEADER, [["3", "c@x.io", "free"]]))

    refused = lading.run("jobs", "revert", job["jobId"], check_code=1)
    assert '{"id": 3}' in refused.stderr and later["jobId"] in refused.stderr
    assert lading.json("jobs", "show", job["jobId"], "--json")["state"] == "completed"

    lading.json("jobs", "revert", later["jobId"], "--json")  # a reverted later job is no conflict
    reverted = lading.json("jobs", "revert", job["jobId"], "--json")
    assert reverted["state"] == "reverted" and reverted["revertedAt"]
    assert reverted["revert"]["removed"] == 1 and reverted["revert"]["restored"] == 1
    assert reverted["mergedInserts"] == 1 and reverted["mergedUpdates"] == 1  # counters are kept
    assert lading.json("records", "contacts", "--json") == before
    types = [e["type"] for e in lading.json("jobs", "events", job["jobId"], "--json")]
    assert types[-3:] == ["RevertStarted", "ChunkReverted", "Reverted"]
    lading.run("jobs", "revert", job["jobId"], check_code=2)  # once reverted, for good
    lading.run("replay", "--check")


def test_force_restores_the_before_image_over_a_later_change(tmp_path):
    lading = _lading(tmp_path / "home", None)
    lading.add_object(tmp_path, "contacts", CONTACTS)
    job = _import(lading, write_csv(tmp_path / "a.csv", HEADER, [["1", "a@x.io", "free"]]))
    _import(lading, write_csv(tmp_path / "b.csv", HEADER, [["1", "a@x.io", "pro"]]))
    assert lading.json("jobs", "revert", job["jobId"], "--force", "--json")["revert"]["conflicts"] == 1
    assert lading.json("records", "contacts", "--json") == []


def test_a_dry_run_writes_nothing_and_apply_runs_it_for_real(tmp_path):
    lading = _lading(tmp_path / "home", None)
    lading.add_object(tmp_path, "contacts", CONTACTS)
    _import(lading, write_csv(tmp_path / "a.csv", HEADER, [["1", "a@x.io", "free"]]))
    file = write_csv(tmp_path / "b.csv", HEADER, [["1", "a@x.io", "pro"], ["2", "b@x.io", "pro"]])
    dry = _import(lading, file, "contacts", "--dry-run")
    assert dry["dryRun"] is True and dry["mergedUpdates"] == 0
    assert {k: dry["diff"][k] for k in ("inserted", "updated", "unchanged")} == {
        "inserted": 1, "updated": 1, "unchanged": 0}
    assert dry["diff"]["samples"]["updated"] == [
        {"key": {"id": 1}, "before": {"tier": "free"}, "after": {"tier": "pro"}}]
    assert lading.json("records", "contacts", "--json") == [
        {"id": 1, "email": "a@x.io", "tier": "free"}]
    plain = lading.run("import", str(file), "--object", "contacts", "--dry-run").stdout
    assert "would insert 1, update 1" in plain
    applied = lading.json("jobs", "apply", dry["jobId"], "--json")
    assert applied["dryRunOf"] == dry["jobId"] and applied["mergedInserts"] == 1
    assert len(lading.json("records", "contacts", "--json")) == 2


ROWS = 40_000
CHUNK_ENV = {"LADING_CHUNK_BYTES": "262144"}  # many chunks, so a kill lands between reverts


@pytest.mark.slow
def test_kill_9_during_a_revert_then_worker_once_ends_as_an_uninterrupted_revert(tmp_path, backend):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    generate_profiles(ROWS // 2, first, seed=1)
    generate_profiles(ROWS, second, seed=2)  # overlapping ids, other values: updates and inserts
    lading = _lading(tmp_path / "home", backend, **CHUNK_ENV)
    lading.add_object(tmp_path, "profiles", PROFILES_SCHEMA)
    _import(lading, first, "profiles")
    before = lading.json("records", "profiles", "--json")
    job = _import(lading, second, "profiles")
    assert job["mergedUpdates"] > 0 and job["mergedInserts"] > 0

    proc = lading.popen("jobs", "revert", job["jobId"])
    deadline = time.monotonic() + 120
    while _events_of_type(lading, backend, "ChunkReverted") < 2:
        assert proc.poll() is None, f"the revert ended before it could be killed: {proc.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    assert lading.json("jobs", "show", job["jobId"], "--json")["state"] == "reverting"
    lading.run("worker", "--once")
    reverted = lading.json("jobs", "show", job["jobId"], "--json")
    assert reverted["state"] == "reverted"
    assert (reverted["revert"]["removed"], reverted["revert"]["restored"]) == (
        job["mergedInserts"], job["mergedUpdates"])
    assert lading.json("records", "profiles", "--json") == before
    lading.run("replay", "--check")
