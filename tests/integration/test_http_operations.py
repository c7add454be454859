"""Operations: /readyz checks every server the node needs, /metrics exposes request latency
and the jobs' state to Prometheus; neither needs a key."""

from __future__ import annotations

import logging

from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from lading.adapters.sqlite_destination import database_path
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.http import create_app
from lading.entrypoints.samples import profiles_object
from lading.entrypoints.settings import S3Settings, Settings
from tests.s3_server import CREDENTIALS, free_port

logging.getLogger("httpx").setLevel(logging.WARNING)


def _lading(tmp_path, **settings):
    return bootstrap(Settings(home=tmp_path / "home", rate_limit_per_minute=0, **settings),
                     eventsourcing={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_readyz_answers_ready_with_each_check_when_everything_is_reachable(tmp_path):
    lading = _lading(tmp_path)
    with TestClient(create_app(lading)) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["data"] == {"status": "ready", "checks": {
        "eventStore": "ok", "destination": "ok", "blobStorage": "ok"}}
    lading.close()


def test_readyz_is_503_naming_the_destination_when_its_database_is_gone(tmp_path):
    lading = _lading(tmp_path)
    database_path(tmp_path / "home" / "destination").unlink()
    with TestClient(create_app(lading)) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "NOT_READY" and "destination" in error["message"]
    assert error["details"]["checks"]["destination"] != "ok"
    assert error["details"]["checks"]["eventStore"] == "ok"
    lading.close()


def test_readyz_is_503_naming_blob_storage_when_the_bucket_is_missing(tmp_path, moto_endpoint):
    s3 = S3Settings(url="s3://lading-bucket-nobody-made", endpoint_url=moto_endpoint,
                    region=CREDENTIALS["AWS_REGION"], access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    lading = _lading(tmp_path, s3=s3)
    with TestClient(create_app(lading)) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["error"]["details"]["checks"]
    assert checks["blobStorage"] != "ok" and checks["destination"] == "ok"
    lading.close()


def test_readyz_checks_redis_when_one_is_configured(tmp_path):
    lading = _lading(tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    report = lading.readiness.report()
    assert set(report) == {"eventStore", "destination", "blobStorage", "redis"}
    assert report["redis"] != "ok" and report["blobStorage"] == "ok"
    lading.close()


def test_metrics_show_jobs_by_state_rows_queue_depth_and_request_latency(tmp_path):
    lading = _lading(tmp_path)
    lading.objects.catalog.add("acme", "profiles", TableSchema.from_dict(profiles_object()["schema"]))
    key = lading.keys.create("acme", frozenset({"imports:read", "imports:write"}))
    jobs = lading.jobs
    done, _ = jobs.create_job("acme", "profiles", rows=[
        {"id": 1, "email": "a@example.com"}, {"id": 2, "email": "nope"}, {"id": 3, "email": "c@example.com"}])
    jobs.map("acme", done, {})
    jobs.start("acme", done)
    lading.runner.process(done)
    waiting, _ = jobs.create_job("acme", "profiles", rows=[{"id": 9, "email": "z@example.com"}])
    jobs.map("acme", waiting, {})
    jobs.start("acme", waiting)
    with TestClient(create_app(lading)) as client:
        before = _samples(client.get("/metrics").text)  # request metrics are the process's
        assert client.get(f"/v1/import-jobs/{done}", headers={"X-API-Key": key}).status_code == 200
        assert client.get(f"/v1/import-jobs/{done}").status_code == 401
        scraped = client.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    samples = _samples(scraped.text)
    assert samples[("lading_jobs", (("state", "completed"),))] == 1
    assert samples[("lading_jobs", (("state", "queued"),))] == 1
    assert samples[("lading_queue_depth", ())] == 1
    assert samples[("lading_jobs_active", ())] == 1
    assert samples[("lading_job_rows", (("kind", "read"),))] == 3
    assert samples[("lading_job_rows", (("kind", "invalid"),))] == 1
    assert samples[("lading_job_rows", (("kind", "merged"),))] == 2
    by_status = {dict(labels)["status_code"]: value - before.get((name, labels), 0)
                 for (name, labels), value in samples.items()
                 if name == "lading_http_request_duration_seconds_count"
                 and dict(labels)["path"] == "/v1/import-jobs/{job_id}"}
    assert {k: v for k, v in by_status.items() if v} == {"200": 1, "401": 1}, \
        "latency per route template and status, not per job id"
    lading.close()
