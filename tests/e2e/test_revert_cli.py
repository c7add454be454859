"""SPEC §8 through the real `lading` command: rows a later job changed are conflicts (listed, exit
1) unless --force; `import --dry-run` writes nothing and `jobs apply` runs it; kill -9 during a
revert, then `worker --once`, ends as an uninterrupted revert does (SQLite and PostgreSQL).
tests/integration/test_reverts_application.py covers the rest, faster, on both backends."""

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


def test_revert_prints_the_conflicts_and_exits_1_and_force_restores_over_them(tmp_path):
    lading = _lading(tmp_path / "home", None)
    lading.add_object(tmp_path, "contacts", CONTACTS)
    job = _import(lading, write_csv(tmp_path / "a.csv", HEADER, [["1", "a@x.io", "free"]]))
    later = _import(lading, write_csv(tmp_path / "b.csv", HEADER, [["1", "a@x.io", "pro"]]))
    refused = lading.run("jobs", "revert", job["jobId"], check_code=1)
    assert '{"id": 1}' in refused.stderr and later["jobId"] in refused.stderr
    forced = lading.json("jobs", "revert", job["jobId"], "--force", "--json")
    assert forced["state"] == "reverted" and forced["revert"]["conflicts"] == 1
    assert lading.json("records", "contacts", "--json") == []


def test_a_dry_run_writes_nothing_and_apply_runs_it_for_real(tmp_path):
    lading = _lading(tmp_path / "home", None)
    lading.add_object(tmp_path, "contacts", CONTACTS)
    file = write_csv(tmp_path / "b.csv", HEADER, [["1", "a@x.io", "pro"], ["2", "b@x.io", "pro"]])
    plain = lading.run("import", str(file), "--object", "contacts", "--dry-run").stdout
    assert "would insert 2, update 0" in plain
    dry = lading.json("jobs", "list", "--json")[0]
    assert dry["dryRun"] is True and dry["mergedInserts"] == 0
    assert lading.json("records", "contacts", "--json") == []
    applied = lading.json("jobs", "apply", dry["jobId"], "--json")
    assert applied["dryRunOf"] == dry["jobId"] and applied["mergedInserts"] == 2


ROWS = 30_000
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
