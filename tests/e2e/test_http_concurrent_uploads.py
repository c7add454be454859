"""A cap on the uploads one caller streams at once (issue 9.10): real slow uploads hold their
places, one more is 429 at once, and a place is free again when an upload ends."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx

WS = "acme"
SERVER_WORKER = False
SERVER_ENV = {"LADING_MAX_CONCURRENT_UPLOADS_PER_KEY": "2"}
CSV = b"id,email\n1,a@example.com\n"


def slow_upload(server, method: str, target: str, headers: dict[str, str]) -> socket.socket:
    """An upload that sent its headers and the first byte of a 1 MB body, then waits."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
             "Content-Length: 1000000", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + b"i")
    return sock


def refused(response: httpx.Response) -> bool:
    if response.status_code != 429:
        return False
    error = response.json()["error"]
    assert error["code"] == "LIMIT.RATE" and error["details"] == {"limit": "concurrentUploads", "max": 2}
    assert response.headers["Retry-After"] == "1"
    return True


def eventually_accepted(send, timeout: float = 10) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while refused(response := send()):
        assert time.monotonic() < deadline, "the place of an ended upload was never freed"
        time.sleep(0.1)
    return response


def test_a_keys_uploads_beyond_the_cap_are_429_until_one_ends(server, client):
    config = client.post("/v1/import-configurations", json={
        "name": "nightly", "objectName": "profiles", "mapping": {}}).json()["data"]["id"]
    push = f"/v1/import-configurations/{config}/push?fileName=p.csv"
    auth = {"Authorization": client.headers["Authorization"], "Content-Type": "text/csv"}
    held = [slow_upload(server, "POST", push, auth) for _ in range(2)]
    try:
        time.sleep(0.3)  # both are streaming their bodies now
        assert refused(client.post(push, content=CSV, headers={"Content-Type": "text/csv"}))
        assert refused(client.post("/v1/imports", files={"file": ("p.csv", CSV, "text/csv")},
                                   data={"objectName": "profiles"}))
        other = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.key(WS)}"})
        assert other.get("/v1/import-jobs").status_code == 200, "reads are not uploads"
        experiture = client.post("/compat/experiture/public/v1/import-jobs",
                                 json={"objectName": "profiles"})
        assert experiture.status_code != 429, "a JSON call to a compatibility route is no upload"
        pushed = other.post(push, content=CSV, headers={"Content-Type": "text/csv"})
        assert pushed.status_code == 201, "another key has places of its own"
        held.pop().close()
        accepted = eventually_accepted(
            lambda: client.post(push, content=CSV, headers={"Content-Type": "text/csv"}))
        assert accepted.status_code == 201, accepted.text
    finally:
        for sock in held:
            sock.close()


def test_signed_upload_urls_count_against_their_workspace(server, client):
    slots = [client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                  "fileSize": size}).json()["data"]
             for size in (1_000_000, 1_000_000, len(CSV))]
    targets = [urlsplit(s["uploadUrl"]) for s in slots]
    held = [slow_upload(server, "PUT", f"{t.path}?{t.query}", {}) for t in targets[:2]]
    try:
        time.sleep(0.3)
        assert refused(httpx.put(slots[2]["uploadUrl"], content=CSV))
        held.pop().close()
        put = eventually_accepted(lambda: httpx.put(slots[2]["uploadUrl"], content=CSV))
        assert put.status_code == 200, put.text
    finally:
        for sock in held:
            sock.close()
