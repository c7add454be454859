"""A real `lading serve` (API and worker) with LADING_BLOBS=s3://… against a moto S3 server:
the client PUTs the file straight to the bucket through a presigned URL, and downloads come
back as redirects to presigned GETs."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from lading.adapters.s3_blob_store import s3_client
from lading.entrypoints.http.jobs import UPLOAD_PATH
from lading.entrypoints.http.signed_urls import UrlSigner
from tests.e2e.http_server import LadingServer, wait_for_state
from tests.s3_server import CREDENTIALS, create_bucket

ROWS = 1000
BAD_EMAILS = {17, 256, 999}  # 0-based row indexes whose email is invalid


def _csv() -> bytes:
    lines = ["id,email,plan"]
    for i in range(ROWS):
        email = "not-an-email" if i in BAD_EMAILS else f"user{i}@example.com"
        lines.append(f"{i},{email},{'pro' if i % 2 else 'free'}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, moto_endpoint):
    bucket = "lading-e2e-object-storage"
    create_bucket(moto_endpoint, bucket)
    server = LadingServer(tmp_path_factory.mktemp("s3home"), LADING_BLOBS=f"s3://{bucket}/blobs",
                          LADING_S3_ENDPOINT_URL=moto_endpoint, **CREDENTIALS)
    server.add_profiles("acme")
    key = server.key("acme")
    server.start()
    s3 = s3_client(moto_endpoint, CREDENTIALS["AWS_REGION"], CREDENTIALS["AWS_ACCESS_KEY_ID"],
                   CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    try:
        yield server, key, s3, bucket, moto_endpoint
    finally:
        server.stop()


def _keys(s3, bucket: str, prefix: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def test_a_file_put_to_the_presigned_url_imports_with_exact_counts_and_downloads_redirect(cluster):
    server, key, s3, bucket, endpoint = cluster
    content = _csv()
    with server.client(key) as c:
        created = c.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                  "fileSize": len(content)})
        assert created.status_code == 201, created.text
        slot = created.json()["data"]
        job_id = slot["jobId"]
        assert slot["uploadUrl"].startswith(f"{endpoint}/{bucket}/blobs/acme/jobs/{job_id}/"), slot
        assert slot["method"] == "PUT" and slot["landingPath"] == f"acme/jobs/{job_id}/source.direct"

        early = c.post(f"/v1/import-jobs/{job_id}/upload-complete")
        assert early.status_code == 409 and early.json()["error"]["code"] == "STATE.CONFLICT"

        put = httpx.put(slot["uploadUrl"], content=content, headers=slot["headers"], timeout=60)
        assert put.status_code == 200, put.text
        done = c.post(f"/v1/import-jobs/{job_id}/upload-complete")
        assert done.status_code == 200, done.text
        assert done.json()["data"]["fileSize"] == len(content)

        assert c.post(f"/v1/import-jobs/{job_id}/mapping", json={}).status_code == 200
        assert c.post(f"/v1/import-jobs/{job_id}/start").status_code == 200
        status = wait_for_state(c, job_id, {"completed", "failed"})
        assert status["state"] == "completed", status
        assert (status["readRows"], status["validRows"], status["invalidRows"]) == (
            ROWS, ROWS - len(BAD_EMAILS), len(BAD_EMAILS))
        assert status["fileSize"] == len(content)

        info = c.get(f"/v1/import-jobs/{job_id}/errors").json()["data"]
        assert info["hasErrors"] and info["errorCount"] == len(BAD_EMAILS)
        redirect = httpx.get(info["errorFileUrl"], follow_redirects=False)
        assert redirect.status_code == 307 and redirect.headers["location"].startswith(endpoint)
        errors = httpx.get(redirect.headers["location"])
        assert errors.status_code == 200
        lines = [json.loads(line) for line in errors.text.splitlines()]
        assert [line["rowNumber"] for line in lines] == [i + 1 for i in sorted(BAD_EMAILS)], lines

        valid = c.get(f"/v1/import-jobs/{job_id}/valid-rows.csv", follow_redirects=True)
        assert valid.status_code == 200 and valid.url.host == "127.0.0.1" and str(valid.url).startswith(endpoint)
        assert len(valid.text.splitlines()) == 1 + ROWS - len(BAD_EMAILS)

        assert c.get("/v1/objects/profiles").json()["data"]["recordCount"] == ROWS - len(BAD_EMAILS)
        stored = _keys(s3, bucket, f"blobs/acme/jobs/{job_id}/")
        assert f"blobs/acme/jobs/{job_id}/source.direct" in stored
        assert any(k.endswith(".jsonl") for k in stored), stored

        results = c.get(f"/v1/import-jobs/{job_id}/results").json()["data"]["resultsFileUrl"]
        redirect = httpx.get(results, follow_redirects=False)
        assert redirect.status_code == 307 and redirect.headers["location"].startswith(endpoint)
        lines = [json.loads(line) for line in httpx.get(redirect.headers["location"]).text.splitlines()]
        assert [line["rowNumber"] for line in lines] == list(range(1, ROWS + 1))
        assert [line["key"] for line in lines if line["outcome"] == "rejected"] == sorted(BAD_EMAILS)
        assert any("/results/v1/part-" in k for k in _keys(s3, bucket, f"blobs/acme/jobs/{job_id}/"))

        assert c.delete(f"/v1/import-jobs/{job_id}").status_code == 200
        assert _keys(s3, bucket, f"blobs/acme/jobs/{job_id}/") == [], "deleting a job purges its blobs"


def test_an_upload_of_the_wrong_size_is_refused_and_the_same_url_takes_the_right_file(cluster):
    server, key, s3, bucket, _ = cluster
    content = b"id,email,plan\n1,a@example.com,pro\n"
    with server.client(key) as c:
        slot = c.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                               "fileSize": len(content)}).json()["data"]
        job_id = slot["jobId"]
        assert httpx.put(slot["uploadUrl"], content=content + b"2,b@example.com,free\n",
                         headers=slot["headers"]).status_code == 200
        wrong = c.post(f"/v1/import-jobs/{job_id}/upload-complete")
        assert wrong.status_code == 400 and "declared fileSize" in wrong.json()["error"]["message"]
        assert httpx.put(slot["uploadUrl"], content=content, headers=slot["headers"]).status_code == 200
        assert c.post(f"/v1/import-jobs/{job_id}/upload-complete").status_code == 200
        again = httpx.put(slot["uploadUrl"], content=b"id,email\n9,z@example.com\n", headers=slot["headers"])
        assert again.status_code == 412, "the file a job took is never replaced in the bucket"
        assert c.post(f"/v1/import-jobs/{job_id}/mapping", json={}).status_code == 200
        assert c.post(f"/v1/import-jobs/{job_id}/start").status_code == 200
        status = wait_for_state(c, job_id, {"completed", "failed"})
        assert (status["state"], status["validRows"]) == ("completed", 1)


def test_the_apis_own_signed_upload_route_streams_into_the_bucket_too(cluster):
    server, key, s3, bucket, _ = cluster
    content = b"id,email,plan\n5,e@example.com,pro\n"
    signer = UrlSigner((server.home / "secret").read_text().strip())
    with server.client(key) as c:
        job_id = c.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                 "fileSize": len(content)}).json()["data"]["jobId"]
        signed = signer.sign("PUT", UPLOAD_PATH.format(job_id=job_id), "acme", 600)
        put = c.put(signed.path_and_query, content=content)
        assert put.status_code == 200, put.text
        assert put.json()["data"]["fileSha256"] == hashlib.sha256(content).hexdigest()
        assert any(k.startswith(f"blobs/acme/jobs/{job_id}/source.") for k in
                   _keys(s3, bucket, f"blobs/acme/jobs/{job_id}/"))
        assert c.post(f"/v1/import-jobs/{job_id}/mapping", json={}).status_code == 200
        assert c.post(f"/v1/import-jobs/{job_id}/start").status_code == 200
        assert wait_for_state(c, job_id, {"completed", "failed"})["validRows"] == 1


def test_a_job_with_inline_rows_takes_no_direct_upload(cluster):
    server, key, *_ = cluster
    with server.client(key) as c:
        slot = c.post("/v1/import-jobs", json={"objectName": "profiles", "rows": [
            {"id": 6, "email": "f@example.com"}]}).json()["data"]
        assert slot["uploadUrl"] is None
        refused = c.post(f"/v1/import-jobs/{slot['jobId']}/upload-complete")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "STATE.CONFLICT"


def test_a_job_created_from_an_object_in_storage_copies_it_and_imports_it(cluster):
    server, key, s3, bucket, endpoint = cluster
    s3.create_bucket(Bucket="lading-e2e-landing")
    s3.put_object(Bucket="lading-e2e-landing", Key="drops/today.csv", Body=_csv())
    with server.client(key) as c:
        created = c.post("/v1/import-jobs", json={
            "objectName": "profiles", "sourceUrl": "s3://lading-e2e-landing/drops/today.csv"})
        assert created.status_code == 201, created.text
        job_id = created.json()["data"]["jobId"]
        status = c.get(f"/v1/import-jobs/{job_id}").json()["data"]
        assert (status["fileName"], status["fileSize"]) == ("today.csv", len(_csv()))
        assert c.post(f"/v1/import-jobs/{job_id}/mapping", json={}).status_code == 200
        assert c.post(f"/v1/import-jobs/{job_id}/start").status_code == 200
        status = wait_for_state(c, job_id, {"completed", "failed"})
        assert (status["state"], status["validRows"], status["invalidRows"]) == (
            "completed", ROWS - len(BAD_EMAILS), len(BAD_EMAILS))
        assert f"blobs/acme/jobs/{job_id}/source.object" in _keys(s3, bucket, f"blobs/acme/jobs/{job_id}/")

        def listed() -> int:
            return len(c.get("/v1/import-jobs", params={"limit": 500}).json()["data"]["items"])

        before = listed()
        missing = c.post("/v1/import-jobs", json={
            "objectName": "profiles", "sourceUrl": "s3://lading-e2e-landing/drops/none.csv"})
        assert missing.status_code == 400, missing.text
        assert "cannot be read" in missing.json()["error"]["message"]
        assert listed() == before, "a refused object leaves no job behind"
        for body in ({"objectName": "profiles", "sourceUrl": "https://example.com/x.csv"},
                     {"objectName": "profiles", "sourceUrl": "s3://b/k", "fileSize": 3}):
            refused = c.post("/v1/import-jobs", json=body)
            assert refused.status_code == 400, refused.text
