"""Hostile requests get 400 with the error envelope, never a 500 (issue 9.7, 9.8), in process."""

from __future__ import annotations

import time

import jwt
import pytest
from litestar.testing import TestClient

from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.http import create_app
from lading.entrypoints.samples import profiles_object
from lading.entrypoints.settings import Settings

JWT_KEY = "k" * 32
WS = "acme"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    lading = bootstrap(Settings(home=tmp_path_factory.mktemp("hostile"), rate_limit_per_minute=0,
                                jwt_key=JWT_KEY))
    lading.objects.catalog.add(WS, "profiles", TableSchema.from_dict(profiles_object()["schema"]))
    key = lading.keys.create(WS, frozenset({"admin"}))
    with TestClient(create_app(lading)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client
    lading.close()


def bad_request(response) -> dict:
    assert response.status_code == 400, (response.status_code, response.text[:300])
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "VALIDATION.REQUEST_INVALID"
    return body["error"]


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("path", ["/v1/import-jobs", "/v1/objects/profiles/records"])
def test_invalid_utf8_inside_a_json_string_is_400(app, path):
    body = b'{"objectName": "pro\xff\xfefiles", "fileName": "a.csv", "fileSize": 3, "records": ["\xc3"]}'
    bad_request(app.post(path, content=body, headers=JSON))


def test_invalid_utf8_inside_a_mapping_is_400(app):
    job = app.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "a.csv",
                                              "fileSize": 3}).json()["data"]["jobId"]
    bad_request(app.post(f"/v1/import-jobs/{job}/mapping",
                        content=b'{"fieldMap": {"e\xffmail": "email"}}', headers=JSON))


@pytest.mark.parametrize("path,method", [("/v1/import-jobs", "post"), ("/v1/mapping-templates", "post")])
def test_json_nested_thousands_deep_is_400(app, path, method):
    body = b'{"objectName": "profiles", "labels": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    bad_request(getattr(app, method)(path, content=body, headers=JSON))


@pytest.mark.parametrize("bound", ["createdFrom=0001-01-01T00:00:00%2B01:00",
                                   "createdTo=9999-12-31T23:59:59-01:00",
                                   "createdFrom=9999-12-31T23:59:59.999999-14:00"])
def test_dates_at_the_ends_of_the_calendar_are_400(app, bound):
    bad_request(app.get(f"/v1/import-jobs?{bound}"))


@pytest.mark.parametrize("workspace", ["..", "w" * 5000, "a\x00b", "a/b"])
def test_a_jwt_whose_workspace_claim_is_not_a_name_is_400(app, workspace):
    token = jwt.encode({"workspace": workspace, "scopes": ["admin"], "exp": int(time.time()) + 60},
                       JWT_KEY, algorithm="HS256")
    error = bad_request(app.get("/v1/import-jobs", headers={"Authorization": f"Bearer {token}"}))
    assert len(error["message"]) < 300


def test_non_utf8_multipart_text_fields_are_400(app):
    body = (b'--XX\r\nContent-Disposition: form-data; name="objectName"\r\n\r\npro\xfffiles\r\n'
            b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\nid\n1\n\r\n--XX--\r\n")
    bad_request(app.post("/v1/imports", content=body,
                         headers={"Content-Type": "multipart/form-data; boundary=XX"}))


@pytest.mark.parametrize("field", ["objectName", "source", "mapping"])
def test_long_multipart_text_fields_are_refused_without_being_echoed(app, field):
    files = {"file": ("a.csv", b"id\n1\n", "text/csv")}
    data = {"objectName": "profiles", field: "x" * 200_000}
    response = app.post("/v1/imports", files=files, data=data)
    assert response.status_code in (400, 413), response.status_code
    assert len(response.content) < 2000


def test_an_oversized_multipart_text_field_is_refused_before_it_is_read_whole(tmp_path):
    """Issue 9.8: the field is refused after about its limit, not after all of its 200 MB."""
    import anyio

    from lading.entrypoints.http.multipart_limits import MAX_TEXT_FIELD_BYTES

    lading = bootstrap(Settings(home=tmp_path / "home", rate_limit_per_minute=0))
    key = lading.keys.create(WS, frozenset({"admin"}))
    asgi = create_app(lading)
    chunk, field_size = b"x" * 65536, 200 * 1024 * 1024
    head = b'--XX\r\nContent-Disposition: form-data; name="objectName"\r\n\r\n'
    pulled = 0

    async def receive():
        nonlocal pulled
        body = head if pulled == 0 else chunk
        pulled += len(body)
        return {"type": "http.request", "body": body, "more_body": pulled < field_size}

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/v1/imports", "raw_path": b"/v1/imports", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
             "headers": [(b"content-type", b"multipart/form-data; boundary=XX"),
                         (b"content-length", str(field_size + 200).encode()),
                         (b"authorization", f"Bearer {key}".encode())]}
    try:
        anyio.run(asgi, scope, receive, send)
    finally:
        lading.close()
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 413, body[:300]
    assert b"LIMIT.PAYLOAD_TOO_LARGE" in body and len(body) < 2000
    assert pulled <= MAX_TEXT_FIELD_BYTES + 2 * len(chunk), f"read {pulled} bytes of the field"
