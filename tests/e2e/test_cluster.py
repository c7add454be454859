"""The cluster as processes on this machine: PostgreSQL (event store, destination, procrastinate
queue), a moto S3 server, Redis, two `lading serve --no-worker` nodes and three `lading worker`s,
each with its own LADING_HOME (as if on its own machine). A client uploads a 1M-row file through
a presigned PUT and polls both nodes; the file's chunks are validated and merged by all three
workers at once (ADR 0055). Then kill -9 of a worker holding a chunk, three times, still gives
exactly the result of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pyarrow.csv as pacsv
import pytest

from lading.adapters.sql_naming import quote_ident, table_name
from tests.builders import PROFILES_SCHEMA, generate_profiles
from tests.e2e.http_server import LadingServer
from tests.s3_server import CREDENTIALS, create_bucket

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROWS = 1_000_000
TRIAL_ROWS = 100_000  # the kill trials: enough chunks (2 MiB each) that a kill lands inside the job
UNIT_LOCKS = 0x4C55  # PostgresLockWorkQueue's namespace for one chunk of a shared job
JOB_LOCKS = 0x4C41
COUNTERS = ("state", "readRows", "validRows", "invalidRows", "errorSummary", "mergedInserts",
            "mergedUpdates", "mergedDeletes", "mergedUnchanged")


class Cluster:
    def __init__(self, tmp_path: Path, shared: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.shared = shared
        self.workers: list[subprocess.Popen] = []
        self.started = 0

    def start_worker(self) -> subprocess.Popen:
        home = self.tmp_path / f"worker-{self.started}"  # a machine of its own
        self.started += 1
        env = {**os.environ, **self.shared, "LADING_HOME": str(home)}
        worker = subprocess.Popen([sys.executable, "-m", "lading.entrypoints.cli", "worker"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        self.workers.append(worker)
        return worker

    def kill(self, pid: int) -> None:
        worker = next(w for w in self.workers if w.pid == pid)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        self.workers.remove(worker)

    def stop(self) -> None:
        for worker in self.workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in self.workers:
            worker.wait(timeout=30)


def _holders(url: str, namespace: int) -> set[int]:
    """The worker processes holding an advisory lock of `namespace` (named by their pid)."""
    with psycopg.connect(url) as conn:
        names = conn.execute(
            "select a.application_name from pg_locks l join pg_stat_activity a using (pid)"
            " where l.locktype = 'advisory' and l.granted and l.classid = %s",
            (namespace,)).fetchall()
    return {int(name.split()[-1]) for (name,) in names if name.startswith("lading pid ")}


def _submit(client: httpx.Client, other: httpx.Client, object_name: str, data: Path) -> str:
    slot = client.post("/v1/import-jobs", json={"objectName": object_name, "fileName": data.name,
                                                "fileSize": data.stat().st_size}).json()["data"]
    assert slot["uploadUrl"].startswith("http") and "/v1/" not in slot["uploadUrl"], \
        "the file goes straight to the bucket"
    with open(data, "rb") as fh:
        put = httpx.put(slot["uploadUrl"], content=fh, headers=slot["headers"], timeout=120)
    assert put.status_code == 200, put.text
    job_id = slot["jobId"]
    assert other.post(f"/v1/import-jobs/{job_id}/upload-complete").status_code == 200
    assert client.post(f"/v1/import-jobs/{job_id}/mapping", json={}).status_code == 200
    assert other.post(f"/v1/import-jobs/{job_id}/start").status_code == 200
    return job_id


def _wait(clients: tuple[httpx.Client, ...], job_id: str, timeout: float = 240,
          until=lambda status: status["state"] in ("completed", "failed")) -> dict:
    deadline = time.monotonic() + timeout
    polls = 0
    while True:
        status = clients[polls % len(clients)].get(f"/v1/import-jobs/{job_id}").json()["data"]
        polls += 1
        if until(status) or status["state"] in ("completed", "failed"):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def _error_file(client: httpx.Client, job_id: str) -> bytes:
    url = client.get(f"/v1/import-jobs/{job_id}/errors").json()["data"]["errorFileUrl"]
    return httpx.get(url, follow_redirects=True, timeout=60).content


def _records_digest(url: str, object_name: str) -> tuple[int, str]:
    table = quote_ident(table_name("acme", object_name))
    with psycopg.connect(url) as conn:
        return conn.execute(f"select count(*), md5(coalesce(string_agg(row_to_json(t)::text, ','"
                            f" order by id), '')) from {table} t").fetchone()


def test_two_api_nodes_and_three_workers_share_one_large_file(tmp_path, postgres_url, moto_endpoint,
                                                              redis_url):
    bucket = "lading-e2e-cluster"
    create_bucket(moto_endpoint, bucket)
    shared = {"LADING_EVENT_STORE": postgres_url, "LADING_DESTINATION": postgres_url,
              "LADING_BLOBS": f"s3://{bucket}/blobs", "LADING_S3_ENDPOINT_URL": moto_endpoint,
              "LADING_REDIS_URL": redis_url, "LADING_SECRET": "one-secret-for-every-node",
              "LADING_SPLIT_BYTES": "0", **CREDENTIALS}
    nodes = [LadingServer(tmp_path / f"api-{i}", worker=False, **shared) for i in range(2)]
    nodes[0].add_profiles("acme")
    for trial in ("uninterrupted", "kill-0", "kill-1", "kill-2"):
        spec = tmp_path / f"{trial}.json"
        spec.write_text(json.dumps({"name": trial, "schema": PROFILES_SCHEMA}))
        nodes[0].cli("objects", "add", str(spec), "--workspace", "acme")
    key = nodes[0].key("acme")
    data = tmp_path / "profiles.csv"
    expected = generate_profiles(ROWS, data, invalid_rate=0.01)
    trial_data = tmp_path / "trial.csv"
    generate_profiles(TRIAL_ROWS, trial_data, invalid_rate=0.02, seed=7)
    cluster = Cluster(tmp_path, {**shared, "LADING_CHUNK_BYTES": str(2 << 20)})
    try:
        for node in nodes:
            node.start()
        for _ in range(3):
            cluster.start_worker()
        a, b = (node.client(key) for node in nodes)

        began = time.monotonic()
        job_id = _submit(a, b, "profiles", data)
        status = _wait((a, b), job_id)
        print(f"{ROWS} rows through the cluster in {time.monotonic() - began:.1f} s")
        assert status["state"] == "completed", status
        errors = [json.loads(line) for line in _error_file(b, job_id).splitlines()]
        rejected = [e["rowNumber"] for e in errors]
        assert status["readRows"] == ROWS
        assert status["invalidRows"] == len(rejected) == len(set(rejected))
        assert rejected == sorted(rejected), "the error file is in source order"
        assert sum(status["errorSummary"].values()) == status["invalidRows"]
        # The generator's duplicates copy an earlier row's id; when that row is itself invalid
        # the copy is the key's first valid row and is kept.
        assert expected["invalid_rows"] - expected["by_kind"]["dup_id"] <= status["invalidRows"] \
            <= expected["invalid_rows"]
        # The records are the source's rows less the rejected ones; a rejected duplicate's key
        # belongs to an earlier row that was kept.
        source = pacsv.read_csv(data, parse_options=pacsv.ParseOptions(newlines_in_values=True),
                                convert_options=pacsv.ConvertOptions(
            column_types={"id": "string", "email": "string"}, include_columns=["id", "email"]))
        ids = source.column("id").to_pylist()
        skip = set(rejected)
        kept_at = {}
        for number, (id_, email) in enumerate(zip(ids, source.column("email").to_pylist()), start=1):
            if number not in skip:
                assert id_ not in kept_at, f"row {number} repeats the key of row {kept_at[id_][0]}"
                kept_at[id_] = (number, email)
        for entry in errors:
            if entry["code"] == "DUPLICATE_KEY":
                first = kept_at[ids[entry["rowNumber"] - 1]][0]
                assert first < entry["rowNumber"]
        with psycopg.connect(postgres_url) as conn:
            stored = conn.execute(f"select id, email from {quote_ident(table_name('acme', 'profiles'))}"
                                  " order by id").fetchall()
        assert stored == sorted((int(i), email) for i, (_, email) in kept_at.items())
        assert status["validRows"] == status["mergedInserts"] == len(stored)

        # kill -9 of a worker holding a chunk: twice a helper (validating, then merging), once
        # the worker that runs the job itself while it reads and settles the file (it seldom
        # holds a chunk: its helpers validate and correct most); each time a fresh worker joins.
        reference_id = _submit(a, b, "uninterrupted", trial_data)
        reference = _wait((a, b), reference_id)
        assert reference["state"] == "completed", reference
        outcome = ({k: reference[k] for k in COUNTERS}, _error_file(a, reference_id),
                   _records_digest(postgres_url, "uninterrupted"))
        for trial, stage, victim in ((0, "validating", "helper"), (1, "merging", "helper"),
                                     (2, "validating", "coordinator")):
            job = _submit(b, a, f"kill-{trial}", trial_data)
            killed = None
            deadline = time.monotonic() + 60
            while killed is None:
                status = _wait((a, b), job, until=lambda s: s.get("stage") == stage)
                assert status["state"] == "running", f"trial {trial} ended before its kill"
                coordinators = _holders(postgres_url, JOB_LOCKS)
                holders = _holders(postgres_url, UNIT_LOCKS)
                targets = coordinators if victim == "coordinator" else holders - coordinators
                # A worker killed in an earlier trial can still be listed until its server
                # session notices the closed socket: only a live worker is a target.
                targets &= {w.pid for w in cluster.workers}
                if targets:
                    killed = next(iter(targets))
                    cluster.kill(killed)
                    cluster.start_worker()
                assert time.monotonic() < deadline, "no worker was seen holding a chunk"
            status = _wait((a, b), job)
            assert status["state"] == "completed", (trial, status)
            assert ({k: status[k] for k in COUNTERS}, _error_file(b, job),
                    _records_digest(postgres_url, f"kill-{trial}")) == outcome, trial
        for client in (a, b):
            assert client.get("/readyz").json()["data"]["checks"] == {
                "eventStore": "ok", "destination": "ok", "blobStorage": "ok", "redis": "ok"}
        a.close()
        b.close()
    finally:
        cluster.stop()
        for node in nodes:
            node.stop()
