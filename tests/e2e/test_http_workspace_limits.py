"""Each workspace's own limits, set with `lading workspaces set`, enforced by a real server (no
worker: started jobs stay queued, so they count as active)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.http_server import upload_job

SERVER_WORKER = False
SERVER_WORKSPACES = ("acme", "slots", "small", "chatty")
CSV = b"id,email\n1,ann@example.com\n2,bob@example.com\n"


@pytest.fixture(scope="module")
def limited(server):
    """Limits set before the server first reads each workspace's (it keeps them a few seconds)."""
    server.cli("workspaces", "set", "slots", "--max-active-jobs", "1")
    server.cli("workspaces", "set", "small", "--max-file-size", "40")
    server.cli("workspaces", "set", "chatty", "--rate-limit", "3")
    return server


def client_of(server, workspace: str) -> httpx.Client:
    return server.client(server.key(workspace))


def test_a_start_over_the_workspaces_active_jobs_is_refused_and_others_are_not(limited, client):
    with client_of(limited, "slots") as slots:
        upload_job(slots, "profiles", CSV)
        second = upload_job(slots, "profiles", CSV, start=False)
        refused = slots.post(f"/v1/import-jobs/{second}/start")
        assert refused.status_code == 409, refused.text
        assert "already has 1 jobs queued or running" in refused.json()["error"]["message"]
    for _ in range(2):  # acme keeps the server's default (10)
        upload_job(client, "profiles", CSV)


def test_a_file_over_the_workspaces_size_is_refused_and_other_workspaces_keep_theirs(limited, client):
    with client_of(limited, "small") as small:
        created = small.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                      "fileSize": 41})
        assert created.status_code == 413, created.text
        assert "over the limit of 40 bytes" in created.json()["error"]["message"]
        config = limited.home / "nightly.json"
        config.write_text(json.dumps({"name": "nightly", "objectName": "profiles", "mapping": {"importMode": "balanced"}}))
        config_id = limited.cli("configurations", "create", str(config), "--workspace", "small")

        def streamed():  # no Content-Length: the size is known only as the bytes arrive
            yield CSV

        pushed = small.post(f"/v1/import-configurations/{config_id}/push", content=streamed())
        assert pushed.status_code == 413, pushed.text
    upload_job(client, "profiles", CSV)


def test_the_workspaces_rate_limit_applies_per_key_and_only_to_it(limited, client):
    with client_of(limited, "chatty") as chatty:
        answers = [chatty.get("/v1/import-jobs").status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        assert chatty.get("/v1/import-jobs").headers.get("RateLimit-Limit") == "3"
    assert all(client.get("/v1/import-jobs").status_code == 200 for _ in range(5))
