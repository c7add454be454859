"""SPEC §9.1: an Experiture (002) client works against /compat/experiture unchanged, through a
real `lading serve` (no in-process worker: `lading worker --once` runs the queued jobs, so each
status word is observed, not raced)."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest

from tests.e2e.compat_files import (
    DEFECTS_CSV,
    DEFECTS_SUMMARY,
    FIELD_MAP,
    STORED,
    assert_one_job_everywhere,
    stored_records,
)
from tests.e2e.http_server import LadingServer

WS = "acme"
JWT_KEY = "experiture-test-hmac-secret-of-32-bytes!"
SERVER_WORKSPACES = (WS, "other")
SERVER_WORKER = False
SERVER_ENV = {"LADING_JWT_KEY": JWT_KEY, "LADING_MAX_ACTIVE_JOBS": "2",
              "LADING_MAX_FILE_SIZE": str(10 * 1024 * 1024)}
BASE = "/compat/experiture/public/v1/import-jobs"


@pytest.fixture(scope="module")
def key(server):
    return server.key(WS)


@pytest.fixture(scope="module")
def client(server, key):
    with server.client(key) as c:
        yield c


def token(*scopes: str, sub: str = "svc-etl") -> str:
    return jwt.encode({"workspace": WS, "scope": " ".join(scopes), "sub": sub,
                       "exp": int(time.time()) + 300}, JWT_KEY, algorithm="HS256")


def create(client: httpx.Client, content: bytes = DEFECTS_CSV, **extra) -> dict:
    response = client.post(BASE, json={"objectName": "profiles", "fileName": "defects.csv",
                                       "fileSize": len(content), **extra})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def status(client: httpx.Client, job_id: str) -> dict:
    response = client.get(f"{BASE}/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_the_documented_flow_answers_in_002s_words_from_create_to_error_file(server, key, client):
    slot = create(client, idempotencyKey="exp-flow-1")
    job_id = slot["jobId"]
    assert set(slot) == {"jobId", "uploadUrl", "expiresAt", "landingPath", "method", "headers",
                         "requestedBy"}
    assert slot["requestedBy"] == "_".join(key.split("_")[:2])  # the key's public part
    assert slot["uploadUrl"].startswith(f"{server.url}/compat/experiture/public/v1/uploads/{job_id}?")
    assert slot["method"] == "PUT"
    assert (status(client, job_id)["state"], status(client, job_id)["stage"]) == ("pending", "upload")

    put = httpx.put(slot["uploadUrl"], content=DEFECTS_CSV, headers=slot["headers"])
    assert put.status_code == 200, put.text
    mapped = client.post(f"{BASE}/{job_id}/mapping", json={"fieldMap": FIELD_MAP})
    assert (mapped.status_code, mapped.json()["data"]) == (200, {"ok": True})
    assert (status(client, job_id)["state"], status(client, job_id)["stage"]) == ("ready", "upload")

    started = client.post(f"{BASE}/{job_id}/start")
    assert started.status_code == 200
    assert started.json()["data"] == {"status": "started", "jobId": job_id, "lane": "standard",
                                      "message": "Job queued for processing"}
    # Queued reads `running` in 002, and the stage stays `upload` until the job runs.
    assert (status(client, job_id)["state"], status(client, job_id)["stage"]) == ("running", "upload")

    server.cli("worker", "--once", "--workspace", WS)
    done = status(client, job_id)
    assert (done["state"], done["stage"]) == ("completed", "merge")
    assert {k: done[k] for k in ("readRows", "validRows", "invalidRows", "mergedInserts",
                                 "mergedUpdates", "mergedDeletes", "rowsTotal", "rowsImported",
                                 "rowsRejected", "successRate")} == {
        "readRows": 9, "validRows": 2, "invalidRows": 7, "mergedInserts": 2, "mergedUpdates": 0,
        "mergedDeletes": 0, "rowsTotal": 9, "rowsImported": 2, "rowsRejected": 7,
        "successRate": 0.2222}
    assert done["errorSummary"] == DEFECTS_SUMMARY
    assert stored_records(client) == STORED

    errors = client.get(f"{BASE}/{job_id}/errors").json()["data"]
    assert set(errors) == {"hasErrors", "errorFileUrl", "expiresAt", "errorCount"}
    assert (errors["hasErrors"], errors["errorCount"]) == (True, 7)
    assert errors["errorFileUrl"].startswith(f"{server.url}/compat/experiture/")
    lines = [json.loads(line) for line in httpx.get(errors["errorFileUrl"]).text.splitlines()]
    assert [(e["rowNumber"], e["code"]) for e in lines] == [
        (2, "VALIDATION_TYPE_MISMATCH"), (3, "VALIDATION_CONSTRAINT_VIOLATION"),
        (4, "REQUIRED_FIELD_MISSING"), (5, "DUPLICATE_KEY"), (6, "VALIDATION_CONSTRAINT_VIOLATION"),
        (7, "VALIDATION_TYPE_MISMATCH"), (8, "MALFORMED_ROW")]

    # The same job, natively: the compat import is a Lading job.
    native = assert_one_job_everywhere(server, client, job_id, WS)
    assert (native["state"], native["readRows"], native["invalidRows"]) == ("completed", 9, 7)


def test_a_job_without_rejected_rows_reports_only_has_errors_false(client, server):
    clean = b"id,email\n20,z@example.com\n"
    slot = create(client, clean)
    assert httpx.put(slot["uploadUrl"], content=clean).status_code == 200
    client.post(f"{BASE}/{slot['jobId']}/mapping", json={"fieldMap": {"id": "id", "email": "email"}})
    client.post(f"{BASE}/{slot['jobId']}/start")
    server.cli("worker", "--once", "--workspace", WS)
    assert client.get(f"{BASE}/{slot['jobId']}/errors").json()["data"] == {"hasErrors": False}


def test_an_unknown_destination_field_is_422_and_the_job_stays_pending(client):
    slot = create(client)
    httpx.put(slot["uploadUrl"], content=DEFECTS_CSV)
    refused = client.post(f"{BASE}/{slot['jobId']}/mapping", json={"fieldMap": {"email": "e_mail"}})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "CDP_ETL.VALIDATION.REQUEST_SCHEMA"
    assert status(client, slot["jobId"])["state"] == "pending"


def test_a_cancelled_job_reads_failed_with_an_error_message(client):
    slot = create(client)
    assert client.post(f"/v1/import-jobs/{slot['jobId']}/cancel").status_code == 200
    cancelled = status(client, slot["jobId"])
    assert cancelled["state"] == "failed" and cancelled["errorMessage"]


def test_the_native_list_cancel_and_approve_answer_in_002s_words_too(server, client):
    server.cli("worker", "--once", "--workspace", WS)  # nothing left queued by earlier tests
    review = create(client)
    assert httpx.put(review["uploadUrl"], content=DEFECTS_CSV, headers=review["headers"]).status_code == 200
    client.post(f"{BASE}/{review['jobId']}/mapping", json={"fieldMap": FIELD_MAP,
                                                           "reviewPolicy": "review_on_errors"})
    client.post(f"{BASE}/{review['jobId']}/start")
    server.cli("worker", "--once", "--workspace", WS)
    assert client.get(f"/v1/import-jobs/{review['jobId']}").json()["data"]["state"] == "needs_attention"
    assert status(client, review["jobId"])["state"] == "running"  # needs_attention reads running

    doomed = create(client)
    cancelled = client.post(f"{BASE}/{doomed['jobId']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["data"]["state"], bool(cancelled.json()["data"]["errorMessage"])) == ("failed", True)
    again = client.post(f"{BASE}/{doomed['jobId']}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "CDP_ETL.STATE.CONFLICT"
    assert client.post(f"{BASE}/{doomed['jobId']}/approve").json()["error"]["code"] == "CDP_ETL.STATE.CONFLICT"

    failed = client.get(BASE, params={"state": "failed", "limit": 500}).json()["data"]
    assert doomed["jobId"] in [j["jobId"] for j in failed["items"]]
    assert {j["state"] for j in failed["items"]} == {"failed"}
    running = [j["jobId"] for j in client.get(BASE, params={"state": "running"}).json()["data"]["items"]]
    assert review["jobId"] in running and doomed["jobId"] not in running
    first = client.get(BASE, params={"limit": 1}).json()["data"]
    assert [j["jobId"] for j in first["items"]] == [doomed["jobId"]] and first["nextCursor"]
    second = client.get(BASE, params={"limit": 1, "cursor": first["nextCursor"]}).json()["data"]
    assert [j["jobId"] for j in second["items"]] == [review["jobId"]]
    bad = client.get(BASE, params={"state": "queued"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "CDP_ETL.VALIDATION.REQUEST_INVALID"

    approved = client.post(f"{BASE}/{review['jobId']}/approve", json={"proposal": {"changes": []}})
    assert approved.status_code == 200, approved.text
    assert approved.json()["data"]["state"] == "running"
    server.cli("worker", "--once", "--workspace", WS)
    done = status(client, review["jobId"])
    assert (done["state"], done["validRows"], done["invalidRows"]) == ("completed", 2, 7)


def test_jwts_with_cdp_scopes_act_as_lading_scopes_and_requested_by_is_the_sub(server):
    writer = {"Authorization": f"Bearer {token('cdp:imports:write', 'cdp:imports:read')}"}
    with httpx.Client(base_url=server.url, headers=writer) as c:
        slot = create(c)
        assert slot["requestedBy"] == "svc-etl"
        assert status(c, slot["jobId"])["state"] == "pending"
    reader = {"Authorization": f"Bearer {token('cdp:imports:read')}"}
    refused = httpx.post(f"{server.url}{BASE}", headers=reader,
                         json={"objectName": "profiles", "fileName": "a.csv", "fileSize": 3})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "CDP_ETL.AUTH.FORBIDDEN"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer ldg_0000000000000000_nope"},
                                     {"Authorization": "Token not-a-bearer"}],
                         ids=["none", "unknown key", "not bearer"])
def test_a_missing_or_bad_credential_is_401_in_the_cdp_etl_envelope(server, headers):
    response = httpx.get(f"{server.url}{BASE}/00000000-0000-0000-0000-000000000000",
                         headers={**headers, "X-Correlation-Id": "corr-401"})
    assert response.status_code == 401
    body = response.json()
    assert (body["success"], body["error"]["code"]) == (False, "CDP_ETL.AUTH.UNAUTHORIZED")
    assert body["correlationId"] == response.headers["X-Correlation-Id"] == "corr-401"


def test_each_refusal_carries_its_cdp_etl_code(server, client):
    other = server.client(server.key("other"))
    foreign = create(other)["jobId"]

    def code(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["code"]

    assert code(client.get(f"{BASE}/{foreign}")) == (404, "CDP_ETL.NOT_FOUND")
    assert code(client.get(f"{BASE}/not-a-uuid")) == (404, "CDP_ETL.NOT_FOUND")
    pending = create(client)["jobId"]
    assert code(client.post(f"{BASE}/{pending}/start")) == (409, "CDP_ETL.STATE.CONFLICT")
    assert code(client.post(BASE, content=b"{not json", headers={"Content-Type": "application/json"})
                ) == (400, "CDP_ETL.VALIDATION.REQUEST_INVALID")
    several = client.post(BASE, json={"objectName": "profiles", "files": [{"fileName": "a.csv", "fileSize": 3}]})
    assert code(several) == (400, "CDP_ETL.VALIDATION.REQUEST_INVALID")  # 002 has no several files
    assert code(client.post(BASE, json={"objectName": "profiles"})) == (
        400, "CDP_ETL.VALIDATION.REQUEST_INVALID")
    assert code(client.post(BASE, json={"objectName": "profiles", "fileName": "big.csv",
                                        "fileSize": 10**12})) == (413, "CDP_ETL.LIMIT.PAYLOAD_TOO_LARGE")
    create(client, idempotencyKey="exp-idem")
    assert code(client.post(BASE, json={"objectName": "profiles", "fileName": "other.csv",
                                        "fileSize": 5, "idempotencyKey": "exp-idem"})
                ) == (409, "CDP_ETL.IDEMPOTENCY.CONFLICT")
    replay = client.post(BASE, json={"objectName": "profiles", "fileName": "defects.csv",
                                     "fileSize": len(DEFECTS_CSV), "idempotencyKey": "exp-idem"})
    assert replay.status_code == 200


def test_more_active_jobs_than_the_limit_is_cdp_etl_limit_concurrency(server, client):
    server.cli("worker", "--once", "--workspace", WS)  # nothing left queued by earlier tests
    codes = []
    for _ in range(3):
        slot = create(client)
        httpx.put(slot["uploadUrl"], content=DEFECTS_CSV)
        client.post(f"{BASE}/{slot['jobId']}/mapping", json={"fieldMap": FIELD_MAP})
        started = client.post(f"{BASE}/{slot['jobId']}/start")
        codes.append(started.status_code if started.status_code == 200
                     else (started.status_code, started.json()["error"]["code"]))
    assert codes == [200, 200, (409, "CDP_ETL.LIMIT.CONCURRENCY")]
    server.cli("worker", "--once", "--workspace", WS)


def test_a_rate_limited_call_is_429_with_retry_after_in_the_cdp_etl_envelope(tmp_path):
    srv = LadingServer(tmp_path / "rate", worker=False, LADING_RATE_LIMIT="2")
    key = srv.key(WS)
    srv.start()
    try:
        url = f"{srv.url}{BASE}/00000000-0000-0000-0000-000000000000"
        answers = [httpx.get(url, headers={"Authorization": f"Bearer {key}"}) for _ in range(3)]
        assert [a.status_code for a in answers] == [404, 404, 429]
        assert answers[2].json()["error"]["code"] == "CDP_ETL.LIMIT.RATE"
        assert int(answers[2].headers["Retry-After"]) >= 1
    finally:
        srv.stop()


def test_every_experiture_route_is_in_the_openapi_document_under_its_tag(server):
    spec = httpx.get(f"{server.url}/schema/openapi.json").json()
    operations = {(path, method): op for path, item in spec["paths"].items()
                  for method, op in item.items() if path.startswith("/compat/experiture/")}
    assert {(p.removeprefix("/compat/experiture/public/v1"), m) for p, m in operations} == {
        ("/import-jobs", "post"), ("/import-jobs/{job_id}/mapping", "post"),
        ("/import-jobs/{job_id}/start", "post"), ("/import-jobs/{job_id}", "get"),
        ("/import-jobs/{job_id}/errors", "get"), ("/uploads/{job_id}", "put"),
        ("/downloads/{job_id}/errors.jsonl", "get"), ("/import-jobs", "get"),
        ("/import-jobs/{job_id}/cancel", "post"), ("/import-jobs/{job_id}/approve", "post")}
    assert all(op["tags"] == ["compat: Experiture"] for op in operations.values())
    create_op = operations[("/compat/experiture/public/v1/import-jobs", "post")]
    assert "application/json" in create_op["requestBody"]["content"]
