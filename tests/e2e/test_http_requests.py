"""What the API does with odd requests, through a real `lading serve` (no worker, so started
jobs stay queued): malformed bodies, wrong content types, idempotency replays, correlation ids,
and the concurrency limit under 50 simultaneous starts."""

from __future__ import annotations

import asyncio
import http.client
import json
import uuid

import httpx
import pytest


WS = "acme"
SERVER_WORKSPACES = (WS, "limits")
SERVER_WORKER = False
ROW = {"id": 1, "email": "a@example.com", "first_name": "A", "last_name": "B", "country": "US",
       "signup_ts": "2020-01-01T00:00:00Z", "birth_date": "1990-01-01", "lifetime_value": 1.5,
       "is_active": True, "plan": "free", "notes": ""}


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert body["success"] is False and body["correlationId"]
    assert response.headers["X-Correlation-Id"] == body["correlationId"]
    return body["error"]


def test_malformed_json_is_400_request_invalid(client):
    response = client.post("/v1/import-jobs", content=b'{"objectName": ',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "VALIDATION.REQUEST_INVALID"


@pytest.mark.parametrize("body", [b"[]", b"null", b'"text"', b'{"objectName": 5}',
                                  b'{"objectName": "profiles", "fileName": "a", "fileSize": -1}',
                                  b'{"objectName": "profiles", "fileSize": 3, "fileName": "a", "oops": 1}',
                                  b'\xff\xfe\x00garbage'])
def test_bodies_of_the_wrong_shape_are_400_never_500(client, body):
    response = client.post("/v1/import-jobs", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert error_of(response)["code"] == "VALIDATION.REQUEST_INVALID"


@pytest.mark.parametrize("path", ["/v1/import-jobs", "/compat/experiture/public/v1/import-jobs"])
def test_a_one_value_query_parameter_given_twice_is_400_not_one_of_them(client, path):
    response = client.get(path, params=[("objectName", "profiles"), ("objectName", "other")])
    assert response.status_code == 400, response.text
    error = error_of(response)
    # Experiture says it in its own words (CDP_ETL.VALIDATION.REQUEST_INVALID).
    assert error["code"].endswith("VALIDATION.REQUEST_INVALID") and "objectName" in error["message"]


def test_a_list_query_parameter_still_takes_every_value(client):
    response = client.get("/v1/import-jobs", params=[("state", "queued"), ("state", "running")])
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
def test_a_json_endpoint_refuses_another_content_type_with_415(client, content_type):
    response = client.post("/v1/import-jobs", content=json.dumps({"objectName": "profiles"}).encode(),
                           headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert error_of(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_create_requires_a_file_or_rows_and_a_known_object(client):
    assert error_of(client.post("/v1/import-jobs", json={"objectName": "profiles"}))["code"] == \
        "VALIDATION.REQUEST_INVALID"
    missing = client.post("/v1/import-jobs", json={"objectName": "nope", "fileName": "a", "fileSize": 1})
    assert missing.status_code == 404 and error_of(missing)["code"] == "NOT_FOUND"


def test_more_than_10000_inline_rows_is_413_payload_too_large(client):
    rows = [{**ROW, "id": i} for i in range(10_001)]
    response = client.post("/v1/import-jobs", json={"objectName": "profiles", "rows": rows})
    assert response.status_code == 413
    assert error_of(response)["code"] == "LIMIT.PAYLOAD_TOO_LARGE"


def test_a_json_body_over_the_limit_is_refused_413_before_it_is_read(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", "/v1/import-jobs")
    conn.putheader("Authorization", "Bearer " + server.key(WS))
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(1 << 30))
    conn.endheaders()
    conn.send(b'{"objectName": "')
    response = conn.getresponse()
    body = json.loads(response.read())
    assert response.status == 413
    assert body["error"]["code"] == "LIMIT.PAYLOAD_TOO_LARGE"


def test_patch_edits_metadata_only_and_refuses_state(client):
    job_id = client.post("/v1/import-jobs", json={"objectName": "profiles", "rows": [ROW]}).json()["data"]["jobId"]
    edited = client.patch(f"/v1/import-jobs/{job_id}", json={"source": "crm", "labels": ["campaign-7"],
                                                            "fileName": "renamed.ndjson"})
    assert edited.status_code == 200
    data = edited.json()["data"]
    assert (data["source"], data["labels"], data["fileName"]) == ("crm", ["campaign-7"], "renamed.ndjson")
    refused = client.patch(f"/v1/import-jobs/{job_id}", json={"state": "completed"})
    assert refused.status_code == 400
    assert error_of(refused)["code"] == "VALIDATION.REQUEST_INVALID"
    assert client.get(f"/v1/import-jobs/{job_id}").json()["data"]["state"] == "pending"


def test_a_wrong_method_is_405_with_allow_and_an_unknown_path_404(client):
    response = client.put("/v1/import-jobs")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]
    assert error_of(response)["code"] == "METHOD_NOT_ALLOWED"
    for path in ("/v1/nothing-here", "/v1/import-jobs/not-a-uuid", f"/v1/import-jobs/{uuid.uuid4()}"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "NOT_FOUND"


def test_the_correlation_id_is_echoed_or_made_and_is_in_body_and_header(client):
    response = client.get("/v1/import-jobs", headers={"X-Correlation-Id": "req-42.a:b"})
    assert response.headers["X-Correlation-Id"] == "req-42.a:b" == response.json()["correlationId"]
    made = client.get("/v1/import-jobs")
    assert made.headers["X-Correlation-Id"] == made.json()["correlationId"] != "req-42.a:b"
    hostile = client.get("/v1/import-jobs", headers={"X-Correlation-Id": "x" * 500})
    assert hostile.headers["X-Correlation-Id"] == hostile.json()["correlationId"] != "x" * 500
    failed = client.get(f"/v1/import-jobs/{uuid.uuid4()}", headers={"X-Correlation-Id": "trace-1"})
    assert failed.json()["correlationId"] == failed.headers["X-Correlation-Id"] == "trace-1"


def test_the_same_idempotency_key_and_payload_returns_the_job_and_another_payload_conflicts(client):
    body = {"objectName": "profiles", "fileName": "a.csv", "fileSize": 10, "idempotencyKey": "import-1"}
    first = client.post("/v1/import-jobs", json=body)
    again = client.post("/v1/import-jobs", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["data"]["jobId"] == again.json()["data"]["jobId"]
    assert again.json()["data"]["uploadUrl"]
    conflict = client.post("/v1/import-jobs", json={**body, "fileSize": 11})
    assert conflict.status_code == 409
    assert error_of(conflict)["code"] == "IDEMPOTENCY.CONFLICT"


def test_the_idempotency_key_header_works_like_the_body_field(client):
    body = {"objectName": "profiles", "fileName": "b.csv", "fileSize": 10}
    first = client.post("/v1/import-jobs", json=body, headers={"Idempotency-Key": "hdr-1"})
    again = client.post("/v1/import-jobs", json={**body, "idempotencyKey": "hdr-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["data"]["jobId"] == again.json()["data"]["jobId"]
    both = client.post("/v1/import-jobs", json={**body, "idempotencyKey": "other"},
                       headers={"Idempotency-Key": "hdr-1"})
    assert both.status_code == 400


def test_idempotency_keys_are_per_workspace(server, client):
    body = {"objectName": "profiles", "fileName": "c.csv", "fileSize": 10, "idempotencyKey": "shared"}
    mine = client.post("/v1/import-jobs", json=body)
    with server.client(server.key("limits")) as other:
        theirs = other.post("/v1/import-jobs", json=body)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["data"]["jobId"] != theirs.json()["data"]["jobId"]


def test_start_before_the_job_is_ready_is_a_state_conflict(client):
    job_id = client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "a.csv",
                                                  "fileSize": 3}).json()["data"]["jobId"]
    response = client.post(f"/v1/import-jobs/{job_id}/start")
    assert response.status_code == 409
    assert error_of(response)["code"] == "STATE.CONFLICT"


def test_a_mapping_naming_an_unknown_field_is_422_and_the_job_stays_pending(client):
    job_id = client.post("/v1/import-jobs", json={"objectName": "profiles", "rows": [ROW]}).json()["data"]["jobId"]
    response = client.post(f"/v1/import-jobs/{job_id}/mapping",
                           json={"fieldMap": {"id": "id", "email": "no_such_field"}})
    assert response.status_code == 422
    assert error_of(response)["code"] == "VALIDATION.REQUEST_SCHEMA"
    assert client.get(f"/v1/import-jobs/{job_id}").json()["data"]["state"] == "pending"


def test_fifty_concurrent_starts_admit_exactly_ten(server):
    key = server.key("limits")
    with server.client(key) as c:
        ids = []
        for i in range(50):
            job = c.post("/v1/import-jobs", json={"objectName": "profiles", "rows": [{**ROW, "id": i}]})
            job_id = job.json()["data"]["jobId"]
            assert c.post(f"/v1/import-jobs/{job_id}/mapping", json={}).status_code == 200
            ids.append(job_id)

    async def start_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=120,
                                     headers={"Authorization": f"Bearer {key}"},
                                     limits=httpx.Limits(max_connections=50)) as ac:
            return await asyncio.gather(*(ac.post(f"/v1/import-jobs/{j}/start") for j in ids))

    responses = asyncio.run(start_all())
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 10, statuses
    assert statuses.count(409) == 40, statuses
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"LIMIT.CONCURRENCY"}
    with server.client(key) as c:
        queued = c.get("/v1/import-jobs", params={"state": "queued", "limit": 100}).json()["data"]["items"]
        assert len(queued) == 10
