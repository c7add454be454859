"""SPEC §9.2: a Userpilot (000) bulk-import client works against
/compat/userpilot/{configurationId} unchanged, through a real `lading serve` whose jobs run only
when `lading worker --once` is called, so every status word is observed."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.compat_files import DEFECTS_CSV, STORED, configuration, stored_records
from tests.e2e.http_server import LadingServer

WS = "acme"
SERVER_WORKSPACES = (WS, "other")
SERVER_WORKER = False
ACCEPTED_KEYS = {"job_id", "status", "filename", "file_size", "total_rows", "start_time",
                 "end_time", "links"}


@pytest.fixture(scope="module")
def key(server):
    return server.key(WS)


@pytest.fixture(scope="module")
def native(server, key):
    with server.client(key) as c:
        yield c


@pytest.fixture(scope="module")
def config_id(native):
    return configuration(native)


def userpilot(server, key: str, config_id: str) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/compat/userpilot/{config_id}",
                        headers={"Authorization": f"Token {key}"}, timeout=60)


def upload(client: httpx.Client, content: bytes = DEFECTS_CSV, name: str = "users.csv",
           media: str = "text/csv") -> httpx.Response:
    return client.post("/v1/imports", files={"file": (name, content, media)})


def test_an_upload_is_polled_as_a_background_job_through_its_status_words(server, key, native, config_id):
    with userpilot(server, key, config_id) as up:
        accepted = upload(up)
        assert accepted.status_code == 200, accepted.text
        body = accepted.json()
        assert set(body) == ACCEPTED_KEYS and all(isinstance(v, str) for v in body.values())
        job_id = body["job_id"]
        assert body["status"] == "queued"
        assert (body["filename"], body["file_size"]) == ("users.csv", str(len(DEFECTS_CSV)))
        assert (body["total_rows"], body["end_time"]) == ("", "")  # not known yet
        assert body["start_time"].endswith("Z")
        poll_url = f"{server.url}/compat/userpilot/{config_id}/v1/background_jobs/{job_id}"
        assert body["links"] == poll_url

        queued = up.get(poll_url).json()
        assert (queued["status"], queued["type"], queued["completed_rows"]) == ("queued", "profiles", 0)
        assert queued["end_time"] == ""

        server.cli("worker", "--once", "--workspace", WS)
        done = up.get(poll_url).json()
        assert set(done) == {"job_id", "status", "type", "filename", "file_size", "total_rows",
                             "completed_rows", "elapsed_time", "start_time", "end_time", "links"}
        assert (done["status"], done["file_size"], done["total_rows"], done["completed_rows"]) == (
            "completed", len(DEFECTS_CSV), 9, 2)
        assert isinstance(done["elapsed_time"], (int, float)) and done["elapsed_time"] >= 0
        assert done["end_time"] >= done["start_time"] != ""
    assert stored_records(native) == STORED
    as_native = native.get(f"/v1/import-jobs/{job_id}").json()["data"]
    assert (as_native["state"], as_native["invalidRows"]) == ("completed", 7)
    shown = json.loads(server.cli("jobs", "show", job_id, "--workspace", WS, "--json"))
    assert (shown["state"], shown["validRows"], shown["concurrencyScope"]) == (
        "completed", 2, as_native["concurrencyScope"])
    assert "read models match" in server.cli("replay", "--check")


def test_a_second_upload_by_the_same_key_is_409_until_its_import_ends(server, key, config_id):
    other_key = server.key(WS)
    with userpilot(server, key, config_id) as up, userpilot(server, other_key, config_id) as up2:
        first = upload(up)
        assert first.status_code == 200
        second = upload(up)
        assert second.status_code == 409
        error = second.json()["errors"][0]
        assert (error["error_code"], error["details"]["jobId"]) == ("LIMIT.CONCURRENCY", first.json()["job_id"])
        assert set(error) == {"error", "error_code", "message", "details"}
        # Another key of the workspace is not held back by this key's import.
        assert upload(up2).status_code == 200
        server.cli("worker", "--once", "--workspace", WS)
        assert upload(up).status_code == 200
        server.cli("worker", "--once", "--workspace", WS)


def test_a_cancelled_import_reads_failed_and_frees_the_key(server, key, native, config_id):
    with userpilot(server, key, config_id) as up:
        job_id = upload(up).json()["job_id"]
        assert native.post(f"/v1/import-jobs/{job_id}/cancel").status_code == 200
        assert up.get(f"/v1/background_jobs/{job_id}").json()["status"] == "failed"
        assert upload(up).status_code == 200
        server.cli("worker", "--once", "--workspace", WS)


def test_an_ndjson_file_is_imported_too(server, key, config_id):
    lines = (b'{"id": 30, "email": "n@example.com", "first_name": "N", "country": "US", "plan": "pro"}\n'
             b'{"id": 31, "email": "bad", "first_name": "O", "country": "US", "plan": "pro"}\n')
    with userpilot(server, key, config_id) as up:
        job_id = upload(up, lines, "users.ndjson", "application/x-ndjson").json()["job_id"]
        server.cli("worker", "--once", "--workspace", WS)
        done = up.get(f"/v1/background_jobs/{job_id}").json()
        assert (done["status"], done["total_rows"], done["completed_rows"]) == ("completed", 2, 1)


@pytest.mark.parametrize("authorization", [None, "Bearer {key}", "Token ldg_0000000000000000_nope"],
                         ids=["none", "bearer instead of token", "unknown key"])
def test_a_missing_or_bad_token_is_401_in_userpilots_error_list(server, key, config_id, authorization):
    headers = {"Authorization": authorization.format(key=key)} if authorization else {}
    response = httpx.post(f"{server.url}/compat/userpilot/{config_id}/v1/imports", headers=headers,
                          files={"file": ("a.csv", b"id\n1\n", "text/csv")})
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert (error["error"], error["error_code"]) == ("Unauthorized", "AUTH.UNAUTHORIZED")


def test_other_workspaces_ids_and_malformed_uploads_get_userpilots_errors(server, key, config_id):
    other_key = server.key("other")
    foreign_config = configuration(server.client(other_key))
    with userpilot(server, other_key, foreign_config) as theirs:
        foreign_job = upload(theirs).json()["job_id"]
    with userpilot(server, key, config_id) as up:
        not_found = up.get(f"/v1/background_jobs/{foreign_job}")
        assert (not_found.status_code, not_found.json()["errors"][0]["error_code"]) == (404, "NOT_FOUND")
    with userpilot(server, key, foreign_config) as up:
        assert upload(up).status_code == 404
    with userpilot(server, key, config_id) as up:
        no_file = up.post("/v1/imports", data={"note": "no file"})
        assert no_file.status_code == 400 and no_file.json()["errors"][0]["error_code"]
        not_multipart = up.post("/v1/imports", content=b"id\n1\n", headers={"Content-Type": "text/csv"})
        assert 400 <= not_multipart.status_code < 500 and "errors" in not_multipart.json()
        bad_id = up.get("/v1/background_jobs/not-a-job")
        assert bad_id.status_code == 404 and "errors" in bad_id.json()


def test_every_userpilot_route_is_in_the_openapi_document_under_its_tag(server):
    spec = httpx.get(f"{server.url}/schema/openapi.json").json()
    ops = {(p, m): op for p, item in spec["paths"].items() for m, op in item.items()
           if p.startswith("/compat/userpilot/")}
    assert set(ops) == {("/compat/userpilot/{configuration_id}/v1/imports", "post"),
                        ("/compat/userpilot/{configuration_id}/v1/background_jobs/{job_id}", "get")}
    assert all(op["tags"] == ["compat: Userpilot"] for op in ops.values())
    upload_op = ops[("/compat/userpilot/{configuration_id}/v1/imports", "post")]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]


def test_a_rate_limited_call_is_429_with_retry_after_in_userpilots_error_list(tmp_path):
    srv = LadingServer(tmp_path / "rate", worker=False, LADING_RATE_LIMIT="1")
    key = srv.key(WS)
    srv.start()
    try:
        url = f"{srv.url}/compat/userpilot/any/v1/background_jobs/00000000-0000-0000-0000-000000000000"
        answers = [httpx.get(url, headers={"Authorization": f"Token {key}"}) for _ in range(2)]
        assert [a.status_code for a in answers] == [404, 429]
        [error] = answers[1].json()["errors"]
        assert (error["error"], error["error_code"]) == ("Too Many Requests", "LIMIT.RATE")
        assert int(answers[1].headers["Retry-After"]) >= 1
    finally:
        srv.stop()
