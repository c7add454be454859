"""A job below the split size, with blobs in S3 (a moto server): its worker is killed with kill -9
mid-merge and its whole LADING_HOME deleted (the machine is gone); a worker with a home of its
own finishes the job from the stored copies of the staged chunks (ADR 0122), with exactly the
counters, records and per-row results of an uninterrupted run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import load_settings
from tests.builders import PROFILES_SCHEMA
from tests.e2e.cli import CRASH_CHUNK_ENV, Lading, start_worker, stop_worker
from tests.e2e.test_procrastinate_workers import _events, _state, _wait_for
from tests.s3_server import CREDENTIALS

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _env(home: Path, shared: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **shared, "LADING_HOME": str(home), "LADING_LOG_LEVEL": "INFO"}
    env.pop("LADING_WORKSPACE", None)
    return env


def _worker(home: Path, shared: dict[str, str]) -> subprocess.Popen:
    return start_worker(_env(home, shared))


def _outcome(lading: Lading, job_id: str | None = None) -> tuple[dict, list, list]:
    status = lading.json("jobs", "list", "--json")[0]
    keys = ("state", "readRows", "validRows", "invalidRows", "errorSummary", "mergedInserts",
            "mergedUpdates", "mergedDeletes", "mergedUnchanged")
    results = lading.run("jobs", "results", job_id or status["jobId"]).stdout.splitlines()
    return ({k: status[k] for k in keys}, lading.json("records", "profiles", "--json"),
            [json.loads(line) for line in results])


def test_a_small_job_killed_mid_merge_is_finished_on_another_machine(
        tmp_path, postgres_url, moto_endpoint, s3_bucket, crash_reference):
    data, reference = crash_reference
    expected = _outcome(reference)

    shared = {"LADING_EVENT_STORE": postgres_url, "LADING_DESTINATION": postgres_url,
              "LADING_BLOBS": f"s3://{s3_bucket}/blobs", "LADING_S3_ENDPOINT_URL": moto_endpoint,
              **CREDENTIALS, **CRASH_CHUNK_ENV}
    first_machine, second_machine = tmp_path / "machine-a", tmp_path / "machine-b"
    lading = bootstrap(load_settings(_env(first_machine, shared)))
    try:
        assert data.stat().st_size < load_settings(_env(first_machine, shared)).split_bytes
        lading.objects.catalog.add("default", "profiles", TableSchema.from_dict(PROFILES_SCHEMA))
        job, _ = lading.jobs.create_job("default", "profiles", data.name, data.stat().st_size)
        lading.jobs.attach_file("default", job, data)
        lading.jobs.map("default", job, {})
        lading.jobs.start("default", job)
    finally:
        lading.close()
    job_id = str(job)

    doomed = _worker(first_machine, shared)
    deadline = time.monotonic() + 120
    while _events(postgres_url, "ChunkMerged") < 2:
        assert doomed.poll() is None and time.monotonic() < deadline, "the worker never got that far"
        time.sleep(0.005)
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait()
    assert _state(postgres_url, job_id) == "running"
    assert _events(postgres_url, "ChunkMerged") < _events(postgres_url, "ChunkValidated"), \
        "the kill came after the last merge"
    shutil.rmtree(first_machine)  # its staged chunks, blob cache and all

    rescuer = _worker(second_machine, shared)
    try:
        assert _wait_for(postgres_url, job_id, {"completed", "failed"}, 90, rescuer) == "completed"
    finally:
        log = stop_worker(rescuer)
    assert "retrying a job a dead worker held" in log
    assert not (second_machine / "work" / job_id / "v1" / "chunk-000000.arrow").exists(), \
        "the rescuer validated again instead of merging the stored chunks"
    elsewhere = Lading(tmp_path / "machine-c", **shared)
    assert _outcome(elsewhere, job_id) == expected
    elsewhere.run("replay", "--check")
