"""Dry run, apply and revert through a real `lading serve` (SPEC §8): start {"dryRun": true}
writes nothing (no row, no list member) and shows a diff; apply answers 201 with the new job;
revert answers 202, is refused 409 REVERT.CONFLICT with the conflicts listed, unless forced."""

from __future__ import annotations

import httpx

from tests.e2e.http_server import wait_for_state

WS = "acme"
HEADER = "id,email,first_name,last_name,country,signup_ts,birth_date,lifetime_value,is_active,plan,notes\n"


def csv_of(rows: dict[int, str]) -> bytes:
    return (HEADER + "".join(f"{i},u{i}@example.com,F,L,US,2020-01-01T00:00:00Z,1990-01-01,1.50,"
                             f"true,{plan},\n" for i, plan in rows.items())).encode()


def started(client: httpx.Client, content: bytes, start: dict | None = None, **create) -> dict:
    made = client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                "fileSize": len(content), **create})
    slot = made.json()["data"]
    assert httpx.put(slot["uploadUrl"], content=content, headers=slot["headers"]).status_code == 200
    assert client.post(f"/v1/import-jobs/{slot['jobId']}/mapping", json={}).status_code == 200
    answer = client.post(f"/v1/import-jobs/{slot['jobId']}/start", json=start)
    assert answer.status_code == 200, answer.text
    return wait_for_state(client, slot["jobId"], {"completed", "failed"})


def records(client: httpx.Client) -> list[dict]:
    return client.get("/v1/objects/profiles/records").json()["data"]["records"]


def test_a_dry_run_shows_its_diff_writes_nothing_and_apply_makes_it_real(client):
    base = started(client, csv_of({1: "free", 2: "free"}))
    before = records(client)
    dry = started(client, csv_of({2: "pro", 3: "pro"}), {"dryRun": True}, createList=True,
                  listName="dry")
    assert dry["dryRun"] is True and dry["mergedInserts"] == dry["mergedUpdates"] == 0
    diff = dry["diff"]
    assert {k: diff[k] for k in ("inserted", "updated", "unchanged", "deleted", "rejected")} == {
        "inserted": 1, "updated": 1, "unchanged": 0, "deleted": 0, "rejected": 0}
    assert diff["samples"]["updated"] == [{"key": {"id": 2}, "before": {"plan": "free"},
                                           "after": {"plan": "pro"}}]
    assert [s["key"] for s in diff["samples"]["inserted"]] == [{"id": 3}]
    assert records(client) == before
    assert client.get(f"/v1/lists/{dry['listId']}").json()["data"]["memberCount"] == 0

    applied = client.post(f"/v1/import-jobs/{dry['jobId']}/apply")
    assert applied.status_code == 201, applied.text
    real = wait_for_state(client, applied.json()["data"]["jobId"], {"completed", "failed"})
    assert real["dryRunOf"] == dry["jobId"] and not real["dryRun"]
    assert (real["mergedInserts"], real["mergedUpdates"]) == (1, 1)
    again = client.post(f"/v1/import-jobs/{base['jobId']}/apply")
    assert again.status_code == 409 and again.json()["error"]["code"] == "STATE.CONFLICT"


def test_revert_is_refused_with_the_conflicts_then_forced(client):
    job = started(client, csv_of({10: "free", 11: "free"}))
    later = started(client, csv_of({11: "pro"}))
    refused = client.post(f"/v1/import-jobs/{job['jobId']}/revert")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "REVERT.CONFLICT"
    assert error["details"] == {"conflicts": [{"key": {"id": 11}, "jobId": later["jobId"]}],
                                "count": 1}
    accepted = client.post(f"/v1/import-jobs/{job['jobId']}/revert", json={"force": True})
    assert accepted.status_code == 202 and accepted.json()["data"]["state"] == "reverting"
    done = wait_for_state(client, job["jobId"], {"reverted"})
    assert done["revertedAt"] and done["revert"]["conflicts"] == 1
    assert not {r["id"] for r in records(client)} & {10, 11}
    wrong = client.post(f"/v1/import-jobs/{job['jobId']}/revert", json={"forse": True})
    assert wrong.status_code == 400
