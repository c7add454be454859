"""Issue 9.19: `kill -9` of a real `lading watch` at any point of an import, then a restart,
gives exactly one job and the records of an uninterrupted import (not a second job that
imports the file again). The job is keyed by the file's content; a marker names it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time

import pytest

from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings
from lading.domain.table_schema import TableSchema
from tests.builders import PROFILES_SCHEMA, generate_profiles
from tests.e2e.cli import Lading

ROWS = 30_000
ENV = {"LADING_CHUNK_BYTES": "131072"}  # many chunks, so kills land between chunk merges too
COUNTERS = ("state", "readRows", "validRows", "invalidRows", "errorSummary", "mergedInserts",
            "mergedUpdates", "mergedUnchanged", "mergedDeletes")


def _events(home, topic_suffix: str) -> int:
    try:
        db = sqlite3.connect(home / "events.sqlite", timeout=1)
        try:
            return db.execute("select count(*) from stored_events where topic like ?",
                              (f"%ImportJob.{topic_suffix}",)).fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0


def _configured(home) -> tuple[Lading, str]:
    lading = bootstrap(Settings(home=home))
    lading.objects.catalog.add("default", "profiles", TableSchema.from_dict(PROFILES_SCHEMA))
    config = lading.library.save_configuration("default", "nightly", "profiles", {})
    lading.close()
    return Lading(home, **ENV), config.id


def _watch(cli: Lading, inbox, config_id) -> subprocess.Popen:
    return cli.popen("watch", str(inbox), "--config", config_id, "--polling")


def _outcome(cli: Lading) -> tuple[list[dict], list]:
    jobs = cli.json("jobs", "list", "--json")
    return [{k: j[k] for k in COUNTERS} for j in jobs], cli.json("records", "profiles", "--json",
                                                              "--limit", str(ROWS))


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "profiles.csv"
    generate_profiles(ROWS, path, invalid_rate=0.01)
    old = time.time() - 60  # settled: the watcher takes it at once
    os.utime(path, (old, old))
    return path


@pytest.fixture(scope="module")
def expected(tmp_path_factory, data_file):
    cli, _ = _configured(tmp_path_factory.mktemp("reference"))
    cli.run("import", str(data_file), "--object", "profiles", "--json")
    return _outcome(cli)


@pytest.mark.slow
@pytest.mark.parametrize("topic, at_least", [
    ("Created", 1), ("ChunkValidated", 3), ("ChunkMerged", 2), ("Completed", 1)],
    ids=["submitting", "mid-validation", "mid-merge", "finishing"])
def test_a_watcher_killed_and_restarted_resumes_its_one_job(tmp_path, data_file, expected, topic,
                                                            at_least):
    home = tmp_path / "home"
    cli, config_id = _configured(home)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    dropped = inbox / data_file.name
    dropped.write_bytes(data_file.read_bytes())
    os.utime(dropped, (time.time() - 60, time.time() - 60))

    watcher = _watch(cli, inbox, config_id)
    deadline = time.monotonic() + 120
    while _events(home, topic) < at_least:
        assert watcher.poll() is None, watcher.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    watcher.kill()  # SIGKILL: no clean-up runs
    watcher.wait()

    status_file = inbox / "processed" / f"{data_file.name}.job.json"
    restarted = _watch(cli, inbox, config_id)
    try:
        deadline = time.monotonic() + 120
        while not status_file.exists():
            assert restarted.poll() is None, restarted.communicate()
            assert time.monotonic() < deadline, "the restarted watcher never finished the file"
            time.sleep(0.05)
    finally:
        restarted.kill()
        restarted.wait()

    assert _events(home, "Created") == 1, "one job, never a second import of the same file"
    assert _outcome(cli) == expected
    assert sorted(p.name for p in inbox.iterdir()) == ["failed", "processed"], "no marker left"
