"""On PostgreSQL the work queue is procrastinate: starting a job defers one task locked by the
job, `lading worker` processes it, and a worker killed with kill -9 while holding a job has its
task retried by procrastinate's stalled-job recovery, ending exactly like an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from lading.adapters.procrastinate_work_queue import PROCESS_TASK, task_rows
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings
from tests.builders import PROFILES_SCHEMA, generate_profiles
from tests.e2e.cli import CRASH_CHUNK_ENV, Lading, start_worker, stop_worker

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _start_job(home: Path, url: str, source: Path | None = None, rows: list[dict] | None = None,
               object_name: str = "profiles") -> str:
    lading = bootstrap(Settings(home=home, event_store=url, destination=url, chunk_bytes=262144))
    try:
        if lading.objects.catalog.get("default", object_name) is None:
            lading.objects.catalog.add("default", object_name, TableSchema.from_dict(PROFILES_SCHEMA))
        if rows is not None:
            job_id, _ = lading.jobs.create_job("default", object_name, rows=rows)
        else:
            job_id, _ = lading.jobs.create_job("default", object_name, source.name, source.stat().st_size)
            lading.jobs.attach_file("default", job_id, source)
        lading.jobs.map("default", job_id, {})
        lading.jobs.start("default", job_id)
        return str(job_id)
    finally:
        lading.close()


def _worker(home: Path, url: str, concurrency: int = 1) -> subprocess.Popen:
    env = {**os.environ, "LADING_HOME": str(home), "LADING_EVENT_STORE": url, "LADING_DESTINATION": url,
           "LADING_LOG_LEVEL": "INFO", "LADING_WORKER_CONCURRENCY": str(concurrency), **CRASH_CHUNK_ENV}
    env.pop("LADING_BLOBS", None)
    return start_worker(env)


def _state(url: str, job_id: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("select state from lading_job_status where job_id = %s", (job_id,)).fetchone()
    return row[0] if row else "unknown"


def _wait_for(url: str, job_id: str, states: set[str], timeout: float,
              worker: subprocess.Popen | None = None) -> str:
    deadline = time.monotonic() + timeout
    while (state := _state(url, job_id)) not in states:
        if time.monotonic() > deadline:
            log = stop_worker(worker) if worker is not None else ""
            raise AssertionError(f"job {job_id} still {state} after {timeout} s; tasks"
                                 f" {task_rows(url)}; worker log:\n{log[-3000:]}")
        time.sleep(0.2)
    return state


def _events(url: str, topic_suffix: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("select count(*) from importjobs_events where topic like %s",
                            (f"%{topic_suffix}",)).fetchone()[0]


def test_starting_a_job_defers_one_task_locked_by_the_job(tmp_path, postgres_url):
    job_id = _start_job(tmp_path / "home", postgres_url, rows=[{"id": 1, "email": "a@example.com"}])
    tasks = [t for t in task_rows(postgres_url) if t["task"] == PROCESS_TASK]
    assert [(t["status"], t["lock"], t["queueing_lock"], t["args"]) for t in tasks] == [
        ("todo", job_id, job_id, {"job_id": job_id})]
    lading = bootstrap(Settings(home=tmp_path / "home", event_store=postgres_url, destination=postgres_url))
    try:
        from uuid import UUID

        lading.jobs.queue.enqueue(UUID(job_id))
    finally:
        lading.close()
    assert len([t for t in task_rows(postgres_url) if t["task"] == PROCESS_TASK]) == 1, \
        "a task already waiting for the job is enough"


def test_a_procrastinate_worker_processes_started_jobs_and_is_woken_for_new_ones(tmp_path, postgres_url):
    home = tmp_path / "home"
    first = _start_job(home, postgres_url, rows=[{"id": i, "email": f"u{i}@example.com"} for i in range(50)])
    worker = _worker(home, postgres_url)
    try:
        assert _wait_for(postgres_url, first, {"completed", "failed"}, 60) == "completed"
        second = _start_job(home, postgres_url, rows=[{"id": 100, "email": "nope"}])
        assert _wait_for(postgres_url, second, {"completed", "failed"}, 30) == "completed"
    finally:
        log = stop_worker(worker)
    processed = [json.loads(line) for line in log.splitlines() if '"job processed"' in line]
    assert {(p["jobId"], p["state"]) for p in processed} == {(first, "completed"), (second, "completed")}
    tasks = [t for t in task_rows(postgres_url) if t["task"] == PROCESS_TASK]
    assert sorted(t["status"] for t in tasks) == ["succeeded", "succeeded"]


def test_a_worker_with_a_concurrency_of_three_runs_jobs_side_by_side_with_exact_counts(tmp_path, postgres_url):
    home = tmp_path / "home"
    jobs = {}
    for n in range(4):
        data = tmp_path / f"profiles-{n}.csv"
        generate_profiles(5_000, data, seed=n, invalid_rate=0.01)
        # One object per job: the generator's ids overlap between seeds, and each job must
        # compare with a run of its own file alone.
        jobs[_start_job(home, postgres_url, source=data, object_name=f"profiles{n}")] = data
    worker = _worker(home, postgres_url, concurrency=3)
    try:
        for job_id in jobs:
            assert _wait_for(postgres_url, job_id, {"completed", "failed"}, 120, worker) == "completed"
    finally:
        log = stop_worker(worker)
    runs = sorted((line["start_timestamp"], line["end_timestamp"]) for line in map(json.loads, log.splitlines())
                  if line.get("action") == "job_success" and line["job"]["task_name"] == PROCESS_TASK)
    assert len(runs) >= 4
    assert any(later[0] < earlier[1] for earlier, later in zip(runs, runs[1:])), \
        f"no two jobs ran at the same time: {runs}"
    cli = Lading(home, LADING_EVENT_STORE=postgres_url, LADING_DESTINATION=postgres_url)
    for job_id, data in jobs.items():
        status = cli.json("jobs", "show", job_id, "--json")
        reference = Lading(tmp_path / f"ref-{job_id}")
        reference.add_object(tmp_path, "profiles", PROFILES_SCHEMA)
        alone = reference.json("import", str(data), "--object", "profiles", "--json")
        keys = ("readRows", "validRows", "invalidRows", "errorSummary", "mergedInserts",
                "mergedUpdates", "mergedDeletes")
        assert {k: status[k] for k in keys} == {k: alone[k] for k in keys}


def _outcome(lading: Lading) -> tuple[dict, list]:
    status = lading.json("jobs", "list", "--json")[0]
    keys = ("state", "readRows", "validRows", "invalidRows", "errorSummary", "mergedInserts",
            "mergedUpdates", "mergedDeletes")
    return {k: status[k] for k in keys}, lading.json("records", "profiles", "--json")


@pytest.mark.parametrize("topic, at_least", [("ChunkValidated", 3), ("ChunkMerged", 2)],
                         ids=["mid-validation", "mid-merge"])
def test_a_worker_killed_holding_a_job_is_recovered_by_another_with_the_uninterrupted_result(
        tmp_path, postgres_url, crash_reference, topic, at_least):
    data, reference = crash_reference
    expected = _outcome(reference)

    home = tmp_path / "home"
    job_id = _start_job(home, postgres_url, source=data)
    doomed = _worker(home, postgres_url)
    deadline = time.monotonic() + 120
    while _events(postgres_url, topic) < at_least:
        assert doomed.poll() is None and time.monotonic() < deadline, "the worker never got that far"
        time.sleep(0.005)
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait()
    assert _state(postgres_url, job_id) == "running"
    assert [t["status"] for t in task_rows(postgres_url) if t["task"] == PROCESS_TASK] == ["doing"]

    rescuer = _worker(home, postgres_url)
    try:
        state = _wait_for(postgres_url, job_id, {"completed", "failed"}, 90, rescuer)
        assert state == "completed"
    finally:
        log = stop_worker(rescuer)
    assert "retrying a job a dead worker held" in log
    crashed = Lading(home, LADING_EVENT_STORE=postgres_url, LADING_DESTINATION=postgres_url)
    assert _outcome(crashed) == expected
    crashed.run("replay", "--check")
