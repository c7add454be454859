"""A job's files through a real server (issue 9.13): after `lading purge` its status says they
are gone and its download URLs answer 404 with when; a replaced or aborted upload leaves no
bytes behind."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx

from tests.e2e.http_server import upload_job, wait_for_state

WS = "acme"
HEADER = "id,email,first_name,last_name,country,signup_ts,birth_date,lifetime_value,is_active,plan,notes\n"
ROWS = ("1,a@example.com,A,B,US,2020-01-01T00:00:00Z,1990-01-01,1.50,true,free,\n"
        "2,not-an-email,A,B,US,2020-01-01T00:00:00Z,1990-01-01,1.50,true,free,\n")


def test_a_purged_job_reports_purged_at_and_its_download_urls_answer_404_with_it(server, client):
    job_id = upload_job(client, "profiles", (HEADER + ROWS).encode())
    done = wait_for_state(client, job_id, {"completed", "failed"})
    assert (done["state"], done["hasErrors"]) == ("completed", True)
    links = client.get(f"/v1/import-jobs/{job_id}/errors").json()["data"]
    assert httpx.get(links["errorFileUrl"]).status_code == 200
    abandoned = upload_job(client, "profiles", (HEADER + ROWS).encode(), start=False)

    server.cli("purge", "--older-than", "0", "--pending-older-than", "0s", "--workspace", WS)

    status = client.get(f"/v1/import-jobs/{job_id}").json()["data"]
    assert status["hasErrors"] is False and status["purgedAt"] and status["invalidRows"] == 1
    after = client.get(f"/v1/import-jobs/{job_id}/errors").json()["data"]
    assert after["hasErrors"] is False and after["errorFileUrl"] is None and after["validRowsUrl"] is None
    for url in (links["errorFileUrl"], links["validRowsUrl"]):
        gone = httpx.get(url)
        assert gone.status_code == 404, gone.text
        assert gone.json()["error"]["code"] == "NOT_FOUND"
        assert gone.json()["error"]["details"]["purgedAt"] == status["purgedAt"]
    assert client.get(f"/v1/import-jobs/{job_id}/valid-rows.csv").status_code == 404
    events = [e["type"] for e in client.get(f"/v1/import-jobs/{job_id}/events").json()["data"]]
    assert events[-1] == "BlobsPurged"
    pending = client.get(f"/v1/import-jobs/{abandoned}").json()["data"]
    assert (pending["state"], pending["fileSha256"]) == ("pending", None) and pending["purgedAt"]


def test_a_second_put_to_the_upload_slot_removes_the_file_it_replaced(server, client):
    created = client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                    "fileSize": len(HEADER + ROWS)})
    assert created.status_code == 201, created.text
    slot = created.json()["data"]
    for body in (HEADER + ROWS.replace("A,B", "C,D"), HEADER + ROWS):  # the same size
        put = httpx.put(slot["uploadUrl"], content=body.encode(), headers=slot["headers"])
        assert put.status_code == 200, put.text
    job_dir = server.home / "blobs" / WS / "jobs" / slot["jobId"]
    kept = [p for p in job_dir.rglob("*") if p.is_file()]
    assert len(kept) == 1 and kept[0].read_text() == HEADER + ROWS


def test_an_upload_the_client_abandons_half_way_leaves_no_bytes_behind(server, client):
    slot = client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                "fileSize": 1_000_000}).json()["data"]
    target = urlsplit(slot["uploadUrl"])
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(f"PUT {target.path}?{target.query} HTTP/1.1\r\nHost: x\r\n"
                     "Content-Length: 1000000\r\n\r\n".encode() + b"x" * 300_000)
        job_dir = server.home / "blobs" / WS / "jobs" / slot["jobId"]
        deadline = time.monotonic() + 10
        while not (job_dir.exists() and list(job_dir.glob(".*.tmp"))):
            assert time.monotonic() < deadline, "the upload never reached a temporary file"
            time.sleep(0.05)
    deadline = time.monotonic() + 10
    while job_dir.exists() and any(job_dir.rglob("*")):
        assert time.monotonic() < deadline, list(job_dir.rglob("*"))
        time.sleep(0.1)
    status = client.get(f"/v1/import-jobs/{slot['jobId']}").json()["data"]
    assert (status["state"], status["fileSha256"]) == ("pending", None)
