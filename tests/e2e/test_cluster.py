"""The cluster as processes on this machine: PostgreSQL (event store, destination, procrastinate
queue), a moto S3 server, Redis, two `lading serve --no-worker` nodes with their own
LADING_HOMEs and two `lading worker`s. A client uploads through a presigned PUT and uses both
nodes as one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.builders import PROFILES_SCHEMA, generate_profiles
from tests.e2e.cli import Lading
from tests.e2e.http_server import LadingServer
from tests.s3_server import CREDENTIALS, create_bucket

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROWS = 200_000


def test_two_api_nodes_and_two_workers_behave_as_one(tmp_path, postgres_url, moto_endpoint, redis_url):
    bucket = "lading-e2e-cluster"
    create_bucket(moto_endpoint, bucket)
    shared = {"LADING_EVENT_STORE": postgres_url, "LADING_DESTINATION": postgres_url,
              "LADING_BLOBS": f"s3://{bucket}/blobs", "LADING_S3_ENDPOINT_URL": moto_endpoint,
              "LADING_REDIS_URL": redis_url, "LADING_SECRET": "one-secret-for-every-node",
              "LADING_CHUNK_BYTES": str(1 << 20), **CREDENTIALS}
    nodes = [LadingServer(tmp_path / f"api-{i}", worker=False, **shared) for i in range(2)]
    nodes[0].add_profiles("acme")
    key = nodes[0].key("acme")
    worker_env = {**os.environ, **shared, "LADING_HOME": str(tmp_path / "workers")}
    workers = []
    data = tmp_path / "profiles.csv"
    generate_profiles(ROWS, data, invalid_rate=0.01)
    content_size = data.stat().st_size
    reference = Lading(tmp_path / "reference")  # one process, embedded default
    reference.add_object(tmp_path, "profiles", PROFILES_SCHEMA)
    expected = reference.json("import", str(data), "--object", "profiles", "--json", check_code=None)
    assert expected["state"] == "completed"
    try:
        for node in nodes:
            node.start()
        workers = [subprocess.Popen([sys.executable, "-m", "lading.entrypoints.cli", "worker"],
                                    env=worker_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    text=True, start_new_session=True) for _ in range(2)]
        a, b = (node.client(key) for node in nodes)
        slot = a.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "profiles.csv",
                                               "fileSize": content_size}).json()["data"]
        job_id = slot["jobId"]
        assert slot["uploadUrl"].startswith(moto_endpoint), "the file goes straight to the bucket"
        with open(data, "rb") as fh:
            put = httpx.put(slot["uploadUrl"], content=fh, headers=slot["headers"], timeout=120)
        assert put.status_code == 200, put.text
        assert b.post(f"/v1/import-jobs/{job_id}/upload-complete").status_code == 200
        assert a.post(f"/v1/import-jobs/{job_id}/mapping", json={}).status_code == 200
        assert b.post(f"/v1/import-jobs/{job_id}/start").status_code == 200

        deadline = time.monotonic() + 240
        polls = 0
        while True:
            status = (a, b)[polls % 2].get(f"/v1/import-jobs/{job_id}").json()["data"]
            polls += 1
            if status["state"] in ("completed", "failed"):
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        assert status["state"] == "completed", status
        counters = ("readRows", "validRows", "invalidRows", "errorSummary", "mergedInserts",
                    "mergedUpdates", "mergedDeletes")
        assert {k: status[k] for k in counters} == {k: expected[k] for k in counters}
        assert status["readRows"] == ROWS
        assert b.get("/v1/objects/profiles").json()["data"]["recordCount"] == expected["validRows"]

        info = a.get(f"/v1/import-jobs/{job_id}/errors").json()["data"]
        minted_by_a = info["errorFileUrl"].replace(nodes[0].url, nodes[1].url)
        redirect = httpx.get(minted_by_a, follow_redirects=False)
        assert redirect.status_code == 307, "a URL one node signed works on the other"
        errors = httpx.get(redirect.headers["location"], timeout=60)
        rows = [json.loads(line)["rowNumber"] for line in errors.text.splitlines()]
        assert len(rows) == expected["invalidRows"] and rows == sorted(rows)
        for client in (a, b):
            assert client.get("/readyz").json()["data"]["checks"] == {
                "eventStore": "ok", "destination": "ok", "blobStorage": "ok", "redis": "ok"}
        a.close()
        b.close()
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        for node in nodes:
            node.stop()
