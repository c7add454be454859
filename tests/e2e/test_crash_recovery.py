"""SPEC §3 crash safety: `kill -9` of a real `lading import` mid-merge (and mid-validation), then
`lading worker --once`, ends with the counters and destination contents of an uninterrupted run.
On SQLite (the embedded default) and on PostgreSQL."""

from __future__ import annotations

import sqlite3
import time

import psycopg
import pytest

from tests.builders import PROFILES_SCHEMA
from tests.e2e.cli import CRASH_CHUNK_ENV, Lading


def _events_of_type(lading: Lading, pg_url: str | None, topic_suffix: str) -> int:
    try:
        if pg_url:
            with psycopg.connect(pg_url) as conn:
                return conn.execute(
                    "select count(*) from importjobs_events where topic like %s", (f"%{topic_suffix}",)
                ).fetchone()[0]
        db = sqlite3.connect(lading.home / "events.sqlite", timeout=1)
        try:
            return db.execute("select count(*) from stored_events where topic like ?",
                              (f"%{topic_suffix}",)).fetchone()[0]
        finally:
            db.close()
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
        return 0


def _kill_when(lading: Lading, pg_url: str | None, file, topic: str, at_least: int) -> None:
    proc = lading.popen("import", str(file), "--object", "profiles", "--json")
    deadline = time.monotonic() + 120
    while _events_of_type(lading, pg_url, topic) < at_least:
        assert proc.poll() is None, f"import ended before it could be killed: {proc.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.kill()  # SIGKILL: no cleanup, no finally blocks
    proc.wait()


def _outcome(lading: Lading) -> tuple[dict, list]:
    status = lading.json("jobs", "list", "--json")[0]
    keys = ("state", "readRows", "validRows", "invalidRows", "errorSummary", "mergedInserts",
            "mergedUpdates", "mergedUnchanged", "mergedDeletes")
    return {k: status[k] for k in keys}, lading.json("records", "profiles", "--json")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request):
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return None


@pytest.fixture(scope="module")
def expected(crash_reference) -> tuple[dict, list]:
    return _outcome(crash_reference[1])


def _lading(home, pg_url):
    env = dict(CRASH_CHUNK_ENV)
    if pg_url:
        env.update(LADING_EVENT_STORE=pg_url, LADING_DESTINATION=pg_url)
    return Lading(home, **env)


@pytest.mark.slow
@pytest.mark.parametrize("topic, at_least", [("ChunkMerged", 2), ("ChunkValidated", 3)],
                         ids=["mid-merge", "mid-validation"])
def test_kill_9_then_worker_once_equals_an_uninterrupted_run(tmp_path, backend, crash_reference,
                                                            expected, topic, at_least):
    crashed = _lading(tmp_path / "crashed", backend)
    crashed.add_object(tmp_path, "profiles", PROFILES_SCHEMA)
    _kill_when(crashed, backend, crash_reference[0], topic, at_least)
    assert crashed.json("jobs", "list", "--json")[0]["state"] == "running"
    crashed.run("worker", "--once")
    assert _outcome(crashed) == expected
    crashed.run("replay", "--check")
