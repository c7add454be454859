"""Time travel through a real `lading serve`: every status a client polled during a run is
exactly what `?asOfVersion=` answers for that status's version afterwards (SPEC §8)."""

from __future__ import annotations

import time

import pytest

from tests.builders import generate_profiles
from tests.e2e.http_server import upload_job

WS = "acme"
# Small chunks: a few thousand rows make dozens of events, so polls land between them.
SERVER_ENV = {"LADING_CHUNK_BYTES": str(16 * 1024)}


@pytest.fixture(scope="module")
def polled(client, tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "profiles.csv"
    generate_profiles(3000, path)
    job_id = upload_job(client, "profiles", path.read_bytes(), file_name=path.name)
    seen: dict[int, dict] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = client.get(f"/v1/import-jobs/{job_id}").json()["data"]
        seen.setdefault(status["version"], status)
        if status["state"] in ("completed", "failed") and status.get("callback") is None:
            break
    return job_id, seen


def test_every_polled_status_is_what_as_of_version_answers_afterwards(client, polled):
    job_id, seen = polled
    assert list(seen.values())[-1]["state"] == "completed"
    assert len(seen) >= 3, "polls should have landed at several points of the run"
    states = {s["state"] for s in seen.values()}
    assert "running" in states or "queued" in states
    for version, status in seen.items():
        answer = client.get(f"/v1/import-jobs/{job_id}", params={"asOfVersion": version})
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"] == status, version


def test_every_version_from_one_to_the_last_has_a_status_of_that_version(client, polled):
    job_id, seen = polled
    last = max(seen)
    assert len(client.get(f"/v1/import-jobs/{job_id}/events").json()["data"]) == last
    for version in range(1, last + 1):
        data = client.get(f"/v1/import-jobs/{job_id}", params={"asOfVersion": version}).json()["data"]
        assert data["version"] == version
    assert client.get(f"/v1/import-jobs/{job_id}", params={"asOfVersion": 1}).json()["data"][
        "state"] == "pending"


def test_as_of_an_instant_is_the_status_after_the_last_event_at_or_before_it(client, polled):
    job_id, seen = polled
    events = client.get(f"/v1/import-jobs/{job_id}/events").json()["data"]
    # An instant strictly between two events (different microseconds) picks the earlier one.
    for before, after in zip(events, events[1:]):
        if before["timestamp"] != after["timestamp"]:
            data = client.get(f"/v1/import-jobs/{job_id}",
                              params={"asOf": before["timestamp"]}).json()["data"]
            assert data["version"] == before["version"]
            assert data == client.get(f"/v1/import-jobs/{job_id}",
                                      params={"asOfVersion": before["version"]}).json()["data"]
    now = client.get(f"/v1/import-jobs/{job_id}", params={"asOf": "9999-01-01T00:00:00Z"})
    assert now.json()["data"] == client.get(f"/v1/import-jobs/{job_id}").json()["data"]


@pytest.mark.parametrize("params", [
    {"asOfVersion": 0}, {"asOfVersion": 10_000}, {"asOfVersion": -1}, {"asOfVersion": "two"},
    {"asOf": "yesterday"}, {"asOf": "2000-01-01T00:00:00Z"},
    {"asOfVersion": 1, "asOf": "2000-01-01T00:00:00Z"},
    {"asOfVersion": 1, "includeDetailedReport": "true"},
])
def test_a_point_the_job_does_not_have_is_400_with_a_code(client, polled, params):
    job_id, _ = polled
    answer = client.get(f"/v1/import-jobs/{job_id}", params=params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "VALIDATION.REQUEST_INVALID"


def test_another_workspaces_job_is_not_found_at_any_version(server, polled):
    job_id, _ = polled
    with server.client(server.key("other")) as other:
        answer = other.get(f"/v1/import-jobs/{job_id}", params={"asOfVersion": 1})
    assert answer.status_code == 404
