"""Auth, scopes, tenant isolation and signed URLs, through a real `lading serve`."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import jwt
import pytest

from lading.entrypoints.http.signed_urls import UrlSigner
from tests.e2e.http_server import LadingServer, upload_job

SECRET = "url-signing-secret-for-tests"
JWT_KEY = "jwt-hs256-key-for-tests-0123456789abcdef"
MAX_FILE = 64 * 1024
CSV = (b"id,email,first_name,last_name,country,signup_ts,birth_date,lifetime_value,is_active,plan,notes\n"
       b"1,a@example.com,A,B,US,2020-01-01T00:00:00Z,1990-01-01,1.50,true,free,\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LadingServer(tmp_path_factory.mktemp("http-security"), LADING_SECRET=SECRET,
                       LADING_JWT_KEY=JWT_KEY, LADING_MAX_FILE_SIZE=str(MAX_FILE))
    for ws in ("acme", "globex"):
        srv.add_profiles(ws)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def keys(server):
    return {
        "acme": server.key("acme"),
        "globex": server.key("globex"),
        "reader": server.key("acme", "imports:read"),
        "writer": server.key("acme", "imports:write"),
        "admin": server.key("acme", "admin"),
    }


@pytest.fixture(scope="module")
def acme_job(server, keys):
    with server.client(keys["acme"]) as c:
        return upload_job(c, "profiles", CSV, start=False)


def token(**claims) -> str:
    return jwt.encode({"exp": int(time.time()) + 300, **claims}, JWT_KEY, algorithm="HS256")


def code(response: httpx.Response) -> str:
    body = response.json()
    assert body["success"] is False
    return body["error"]["code"]


# -- authentication ---------------------------------------------------------------------------


def test_a_request_without_a_key_is_401_in_the_envelope(server):
    response = httpx.get(f"{server.url}/v1/import-jobs")
    assert response.status_code == 401
    assert code(response) == "AUTH.UNAUTHORIZED"


@pytest.mark.parametrize("header", ["Authorization: Bearer ldg_0123456789abcdef_nope",
                                    "Authorization: Token garbage", "X-API-Key: ", "Authorization: Basic eA=="])
def test_an_unknown_or_malformed_key_is_401(server, header):
    name, _, value = header.partition(": ")
    response = httpx.get(f"{server.url}/v1/import-jobs", headers={name: value})
    assert response.status_code == 401
    assert code(response) == "AUTH.UNAUTHORIZED"


def test_a_key_made_by_the_cli_opens_the_api_within_its_scopes(server):
    key = server.cli("keys", "create", "--workspace", "acme", "--scopes", "imports:read")
    with server.client(key) as c:
        assert c.get("/v1/import-jobs").status_code == 200
        refused = c.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "a.csv"})
        assert refused.status_code == 403, refused.text


@pytest.mark.parametrize("scheme", ["bearer", "token", "x-api-key"])
def test_a_key_works_in_each_of_the_three_header_forms(server, keys, scheme):
    key = keys["acme"]
    headers = ({"X-API-Key": key} if scheme == "x-api-key"
               else {"Authorization": f"{scheme.title()} {key}"})
    assert httpx.get(f"{server.url}/v1/import-jobs", headers=headers).status_code == 200


def test_scopes_are_enforced_per_route_with_403(server, keys):
    with server.client(keys["reader"]) as reader:
        assert reader.get("/v1/import-jobs").status_code == 200
        refused = reader.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "a.csv",
                                                      "fileSize": 1})
        assert refused.status_code == 403 and code(refused) == "AUTH.FORBIDDEN"
    with server.client(keys["writer"]) as writer:
        assert code(writer.get("/v1/import-jobs")) == "AUTH.FORBIDDEN"
    with server.client(keys["acme"]) as plain:
        refused = plain.post("/v1/objects", json={"name": "orders", "schema": {
            "fields": [{"name": "id", "type": "integer"}], "primaryKey": ["id"]}})
        assert refused.status_code == 403 and code(refused) == "AUTH.FORBIDDEN"


def test_admin_holds_every_scope_and_creates_objects_with_their_tables(server, keys):
    with server.client(keys["admin"]) as admin:
        schema = {"fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "integer"}],
                  "primaryKey": ["sku"]}
        created = admin.post("/v1/objects", json={"name": "stock", "schema": schema})
        assert created.status_code == 201, created.text
        assert created.json()["data"]["recordCount"] == 0
        assert admin.post("/v1/objects", json={"name": "stock", "schema": schema}).status_code == 200
        assert "stock" in [o["name"] for o in admin.get("/v1/objects").json()["data"]]


# -- tenant isolation --------------------------------------------------------------------------


@pytest.mark.parametrize("method,suffix", [
    ("GET", ""), ("GET", "/errors"), ("GET", "/events"), ("GET", "/valid-rows.csv"),
    ("POST", "/mapping"), ("POST", "/start"), ("POST", "/cancel"), ("POST", "/approve"),
    ("PATCH", ""), ("DELETE", ""),
])
def test_another_workspaces_job_is_404_for_every_operation(server, keys, acme_job, method, suffix):
    with server.client(keys["globex"]) as globex:
        body = {"json": {}} if method in ("POST", "PATCH") else {}
        response = globex.request(method, f"/v1/import-jobs/{acme_job}{suffix}", **body)
        assert response.status_code == 404, response.text
        assert code(response) == "NOT_FOUND"
    with server.client(keys["acme"]) as acme:
        assert acme.get(f"/v1/import-jobs/{acme_job}").json()["data"]["state"] == "ready"


def test_lists_and_objects_never_cross_workspaces(server, keys, acme_job):
    with server.client(keys["globex"]) as globex:
        assert acme_job not in [j["jobId"] for j in globex.get("/v1/import-jobs").json()["data"]["items"]]
        assert code(globex.get("/v1/objects/stock")) == "NOT_FOUND"


# -- JWT ---------------------------------------------------------------------------------------


def test_a_signed_jwt_acts_for_the_workspace_and_scopes_in_its_claims(server, acme_job):
    headers = {"Authorization": f"Bearer {token(workspace='acme', scopes=['imports:read'], sub='u1')}"}
    assert httpx.get(f"{server.url}/v1/import-jobs/{acme_job}", headers=headers).status_code == 200
    write = httpx.post(f"{server.url}/v1/import-jobs/{acme_job}/start", headers=headers)
    assert code(write) == "AUTH.FORBIDDEN"
    other = {"Authorization": f"Bearer {token(workspace='globex', scope='imports:read')}"}
    assert code(httpx.get(f"{server.url}/v1/import-jobs/{acme_job}", headers=other)) == "NOT_FOUND"


@pytest.mark.parametrize("bad", ["expired", "wrong-key", "no-workspace", "no-exp"])
def test_an_expired_or_badly_signed_jwt_is_401(server, bad):
    claims = {"workspace": "acme", "scopes": ["imports:read"], "exp": int(time.time()) + 300}
    key = JWT_KEY
    if bad == "expired":
        claims["exp"] = int(time.time()) - 10
    elif bad == "wrong-key":
        key = "some-other-key-entirely-0123456789abcdef"
    elif bad == "no-workspace":
        del claims["workspace"]
    else:
        del claims["exp"]
    headers = {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='HS256')}"}
    response = httpx.get(f"{server.url}/v1/import-jobs", headers=headers)
    assert response.status_code == 401 and code(response) == "AUTH.UNAUTHORIZED"


# -- signed URLs -------------------------------------------------------------------------------


def fresh_slot(server, key: str, size: int = len(CSV)) -> dict:
    with server.client(key) as c:
        created = c.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "a.csv",
                                                  "fileSize": size})
        assert created.status_code == 201, created.text
        return created.json()["data"]


def with_query(url: str, **changes: str) -> str:
    parts = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


@pytest.mark.parametrize("tamper", ["signature", "expires", "workspace", "job", "method", "unsigned"])
def test_a_tampered_upload_url_is_refused_403_signature_invalid(server, keys, tamper):
    slot = fresh_slot(server, keys["acme"])
    url = slot["uploadUrl"]
    method = "PUT"
    if tamper == "signature":
        sig = parse_qs(urlparse(url).query)["signature"][0]
        url = with_query(url, signature=("A" if sig[0] != "A" else "B") + sig[1:])
    elif tamper == "expires":
        url = with_query(url, expires=str(int(time.time()) + 999_999))
    elif tamper == "workspace":
        url = with_query(url, ws="globex")
    elif tamper == "job":
        other = fresh_slot(server, keys["acme"])
        url = url.replace(slot["jobId"], other["jobId"])
    elif tamper == "method":
        method = "GET"
        url = url.replace("/v1/uploads/", "/v1/downloads/").replace("?", "/errors.jsonl?")
    else:
        url = url.split("?")[0]
    response = httpx.request(method, url, content=CSV)
    assert response.status_code == 403, response.text
    assert code(response) == "UPLOAD.SIGNATURE_INVALID"


def test_an_expired_upload_url_is_refused_403_expired(server, keys):
    slot = fresh_slot(server, keys["acme"])
    past = UrlSigner(SECRET, clock=lambda: time.time() - 7200)
    signed = past.sign("PUT", f"/v1/uploads/{slot['jobId']}", "acme", 60)
    response = httpx.put(server.url + signed.path_and_query, content=CSV)
    assert response.status_code == 403
    assert code(response) == "UPLOAD.EXPIRED"


def test_an_upload_must_match_the_declared_file_size(server, keys):
    slot = fresh_slot(server, keys["acme"], size=len(CSV) + 10)
    response = httpx.put(slot["uploadUrl"], content=CSV)
    assert response.status_code == 400 and code(response) == "VALIDATION.REQUEST_INVALID"

    def chunks():  # no Content-Length: the size is checked while streaming
        yield CSV
        yield b"x" * 100

    slot = fresh_slot(server, keys["acme"])
    response = httpx.put(slot["uploadUrl"], content=chunks())
    assert response.status_code == 400 and code(response) == "VALIDATION.REQUEST_INVALID"
    with server.client(keys["acme"]) as c:
        assert c.get(f"/v1/import-jobs/{slot['jobId']}").json()["data"]["fileSha256"] is None


def test_a_file_over_the_size_limit_is_413_at_creation_and_at_upload(server, keys):
    with server.client(keys["acme"]) as c:
        too_big = c.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "big.csv",
                                                  "fileSize": MAX_FILE + 1})
        assert too_big.status_code == 413 and code(too_big) == "LIMIT.PAYLOAD_TOO_LARGE"
    slot = fresh_slot(server, keys["acme"], size=MAX_FILE)
    response = httpx.put(slot["uploadUrl"], content=b"x" * (MAX_FILE * 2))
    assert response.status_code == 413 and code(response) == "LIMIT.PAYLOAD_TOO_LARGE"


def test_a_good_upload_records_size_and_sha256_and_the_job_becomes_ready(server, keys):
    import hashlib

    slot = fresh_slot(server, keys["acme"])
    response = httpx.put(slot["uploadUrl"], content=CSV)
    assert response.status_code == 200
    assert response.json()["data"]["fileSha256"] == hashlib.sha256(CSV).hexdigest()
    with server.client(keys["acme"]) as c:
        status = c.get(f"/v1/import-jobs/{slot['jobId']}").json()["data"]
        assert (status["fileSize"], status["fileSha256"]) == (len(CSV), hashlib.sha256(CSV).hexdigest())


def test_an_upload_after_start_is_a_state_conflict(server, keys, acme_job):
    with server.client(keys["acme"]) as c:
        job_id = upload_job(c, "profiles", CSV)
    signed = UrlSigner(SECRET).sign("PUT", f"/v1/uploads/{job_id}", "acme", 60)
    response = httpx.put(server.url + signed.path_and_query, content=CSV)
    assert response.status_code == 409 and code(response) == "STATE.CONFLICT"


def test_download_urls_are_signed_and_expire(server, keys):
    with server.client(keys["acme"]) as c:
        bad = CSV + b"2,not-an-email,A,B,US,2020-01-01T00:00:00Z,1990-01-01,1.50,true,free,\n"
        job_id = upload_job(c, "profiles", bad)
        from tests.e2e.http_server import wait_for_state

        wait_for_state(c, job_id, {"completed"})
        url = c.get(f"/v1/import-jobs/{job_id}/errors").json()["data"]["errorFileUrl"]
    assert httpx.get(url).status_code == 200
    assert code(httpx.get(with_query(url, ws="globex"))) == "UPLOAD.SIGNATURE_INVALID"
    past = UrlSigner(SECRET, clock=lambda: time.time() - 7200)
    expired = past.sign("GET", f"/v1/downloads/{job_id}/errors.jsonl", "acme", 60)
    assert code(httpx.get(server.url + expired.path_and_query)) == "UPLOAD.EXPIRED"
