"""Refusals say what to do next, in the user's words (issue 16.3), and a workspace's row limit
fails a job (16.9), through a real server."""

from __future__ import annotations

import httpx

from tests.e2e.http_server import upload_job, wait_for_state

CSV = b"id,email\n1,ann@example.com\n"
SERVER_WORKSPACES = ("acme", "tiny")


def test_start_before_the_upload_says_to_upload_the_file(client):
    created = client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                   "fileSize": len(CSV)})
    started = client.post(f"/v1/import-jobs/{created.json()['data']['jobId']}/start")
    assert started.status_code == 409
    assert "upload the file" in started.json()["error"]["message"]


def test_start_before_the_mapping_says_to_set_a_mapping(client):
    created = client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                   "fileSize": len(CSV)}).json()["data"]
    assert httpx.put(created["uploadUrl"], content=CSV, headers=created["headers"]).status_code == 200
    started = client.post(f"/v1/import-jobs/{created['jobId']}/start")
    assert started.status_code == 409
    assert "set a mapping first" in started.json()["error"]["message"]


def test_approving_a_finished_job_speaks_no_internal_command_name(client):
    job_id = upload_job(client, "profiles", CSV)
    wait_for_state(client, job_id, {"completed"})
    approved = client.post(f"/v1/import-jobs/{job_id}/approve", json={})
    assert approved.status_code == 409
    message = approved.json()["error"]["message"]
    assert "approve a proposal for a job that is completed" in message and "_" not in message


def test_a_job_over_its_workspaces_row_limit_fails_with_limit_rows(server):
    server.cli("workspaces", "set", "tiny", "--max-rows", "2")
    with server.client(server.key("tiny")) as tiny:
        job_id = upload_job(tiny, "profiles", CSV + b"2,bob@example.com\n3,cy@example.com\n")
        status = wait_for_state(tiny, job_id, {"completed", "failed"})
    assert (status["state"], status["errorCode"]) == ("failed", "LIMIT_ROWS")
    assert "more than 2 rows" in status["errorMessage"]
