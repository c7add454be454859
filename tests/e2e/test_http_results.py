"""The per-row results file through a real `lading serve` (SPEC §8): a signed URL serving
one line per source row, in source order, as JSON Lines or CSV."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from tests.e2e.http_server import upload_job, wait_for_state

WS = "acme"
HEADER = "id,email,first_name,country\n"


def imported(client, body: str) -> str:
    job_id = upload_job(client, "profiles", (HEADER + body).encode())
    assert wait_for_state(client, job_id, {"completed", "failed"})["state"] == "completed"
    return job_id


@pytest.fixture(scope="module")
def second_job(client):
    imported(client, "1,a@x.co,Ann,FR\n2,b@x.co,Bob,DE\n")
    return imported(client, "2,b@x.co,Bob,DE\n9,bad-email,Eve,FR\n1,a@x.co,Anne,FR\n"
                            "7,g@x.co,Gus,US\n7,h@x.co,Hal,US\n")


def download(client, job_id: str, **params) -> httpx.Response:
    info = client.get(f"/v1/import-jobs/{job_id}/results", params=params)
    assert info.status_code == 200, info.text
    data = info.json()["data"]
    assert set(data) == {"resultsFileUrl", "expiresAt"}
    answer = httpx.get(data["resultsFileUrl"], follow_redirects=True)
    assert answer.status_code == 200, answer.text
    return answer


def test_the_results_file_has_each_rows_outcome_in_source_order(client, second_job):
    answer = download(client, second_job)
    assert answer.headers["content-type"].startswith("application/jsonl")
    assert [json.loads(line) for line in answer.text.splitlines()] == [
        {"rowNumber": 1, "outcome": "unchanged", "key": 2},
        {"rowNumber": 2, "outcome": "rejected", "key": 9, "code": "VALIDATION_TYPE_MISMATCH"},
        {"rowNumber": 3, "outcome": "updated", "key": 1},
        {"rowNumber": 4, "outcome": "inserted", "key": 7},
        {"rowNumber": 5, "outcome": "rejected", "key": 7, "code": "DUPLICATE_KEY"},
    ]


def test_format_csv_serves_the_same_rows_as_csv(client, second_job):
    answer = download(client, second_job, format="csv")
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["rowNumber", "outcome", "key", "code"]
    assert rows[1:] == [["1", "unchanged", "2", ""], ["2", "rejected", "9", "VALIDATION_TYPE_MISMATCH"],
                        ["3", "updated", "1", ""], ["4", "inserted", "7", ""],
                        ["5", "rejected", "7", "DUPLICATE_KEY"]]


def test_a_job_that_has_not_completed_has_no_results_yet(client):
    job_id = upload_job(client, "profiles", (HEADER + "1,a@x.co,A,FR\n").encode(), start=False)
    answer = client.get(f"/v1/import-jobs/{job_id}/results")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "STATE.CONFLICT"


def test_an_unknown_format_is_400_and_another_workspaces_job_404(server, client, second_job):
    answer = client.get(f"/v1/import-jobs/{second_job}/results", params={"format": "xml"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "VALIDATION.REQUEST_INVALID"
    with server.client(server.key("other")) as other:
        assert other.get(f"/v1/import-jobs/{second_job}/results").status_code == 404


def test_the_url_is_signed_for_its_job_and_format(client, second_job):
    url = client.get(f"/v1/import-jobs/{second_job}/results").json()["data"]["resultsFileUrl"]
    tampered = httpx.get(url.replace("results.jsonl", "results.csv"))
    assert tampered.status_code == 403
    assert tampered.json()["error"]["code"] == "UPLOAD.SIGNATURE_INVALID"


def test_the_openapi_document_describes_the_results_routes(client):
    document = client.get("/schema/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    results = paths["/v1/import-jobs/{job_id}/results"]["get"]
    assert {p["name"] for p in results["parameters"]} >= {"job_id", "format"}
    envelope = results["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    data = schemas[envelope.rsplit("/", 1)[-1]]["properties"]["data"]
    info = data.get("$ref") or data["allOf"][0]["$ref"]  # allOf when the field is described
    assert set(schemas[info.rsplit("/", 1)[-1]]["properties"]) == {"resultsFileUrl", "expiresAt"}
    assert "409" in results["responses"]
    assert {"/v1/downloads/{job_id}/results.jsonl", "/v1/downloads/{job_id}/results.csv"} <= set(paths)
    status = paths["/v1/import-jobs/{job_id}"]["get"]
    assert {p["name"] for p in status["parameters"]} >= {"asOfVersion", "asOf"}
    assert "version" in schemas["JobStatus"]["required"]
