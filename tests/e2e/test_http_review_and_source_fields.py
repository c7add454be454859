"""Through a real `lading serve` (issue 10 "Done when" and points 1, 6): a review run with one
unfixable row pauses once, is approved once and completes with exactly that row rejected; two
equally likely header columns pause with remap choices instead of failing; sourceFields are
checked (400) and a column declared `number` gets its decimal commas healed."""

from __future__ import annotations

from tests.e2e.http_server import upload_job, wait_for_state

WS = "acme"
FINAL = {"completed", "failed", "needs_attention"}


def events(client, job_id: str) -> list[str]:
    return [e["type"] for e in client.get(f"/v1/import-jobs/{job_id}/events").json()["data"]]


def test_one_unfixable_row_pauses_once_is_approved_once_and_completes_with_one_rejected(client):
    content = ("id,email,plan\n1,a@example.com,free\n2,b@example.com,PRO\n3,not an email,free\n"
               "4,d@example.com,pro\n").encode()
    job_id = upload_job(client, "profiles", content, mapping={"reviewPolicy": "review_on_errors"})
    paused = wait_for_state(client, job_id, FINAL)
    assert (paused["state"], paused["invalidRows"]) == ("needs_attention", 2)
    assert client.post(f"/v1/import-jobs/{job_id}/approve").status_code == 200
    done = wait_for_state(client, job_id, {"completed", "failed"})
    assert (done["state"], done["planVersion"], done["validRows"], done["invalidRows"]) == ("completed", 2, 3, 1)
    assert done["errorSummary"] == {"VALIDATION_TYPE_MISMATCH": 1}
    history = events(client, job_id)
    assert (history.count("AttentionNeeded"), history.count("FixApproved")) == (1, 1)


def test_two_equally_likely_columns_become_a_proposal_a_person_decides(client):
    content = b"id,Work Email,Home Email\n1,w@example.com,h@example.com\n"
    job_id = upload_job(client, "profiles", content, mapping={
        "fieldMap": {"id": "id", "email": "email"}, "reviewPolicy": "review_on_errors"})
    paused = wait_for_state(client, job_id, FINAL)
    assert paused["state"] == "needs_attention", paused["errorMessage"]
    changes = paused["proposal"]["changes"]
    assert [c["sourceColumn"] for c in changes] == ["Work Email", "Home Email"]
    both = client.post(f"/v1/import-jobs/{job_id}/approve")
    assert both.status_code == 400 and "keep the one to use" in both.json()["error"]["message"]
    chosen = client.post(f"/v1/import-jobs/{job_id}/approve", json={"proposal": {"changes": [changes[0]]}})
    assert chosen.status_code == 200, chosen.text
    done = wait_for_state(client, job_id, {"completed", "failed"})
    assert (done["state"], done["validRows"]) == ("completed", 1)
    records = client.get("/v1/objects/profiles/records").json()["data"]
    assert [r["email"] for r in records["records"] if r["id"] == 1] == ["w@example.com"]


def test_source_fields_are_checked_and_a_declared_number_column_is_healed(client):
    content = ("id,email,lifetime_value\n11,a@example.com,\"1.234,50\"\n12,b@example.com,\"2,5\"\n"
               "13,c@example.com,unknown\n").encode()
    created = upload_job(client, "profiles", content, start=False)
    for source_fields, message in (({"email": "banana"}, "sourceFields.email: unknown type 'banana'"),
                                   ({"lifetime_value": "date"},
                                    "sourceFields.lifetime_value: a date column cannot feed the number field")):
        refused = client.post(f"/v1/import-jobs/{created}/mapping", json={"sourceFields": source_fields})
        assert refused.status_code == 400 and message in refused.json()["error"]["message"]
    undeclared = wait_for_state(client, upload_job(client, "profiles", content), {"completed", "failed"})
    assert undeclared["validRows"] == 0, "two of three values share a layout: not 90 %"
    declared = wait_for_state(client, upload_job(client, "profiles", content, mapping={
        "sourceFields": {"lifetime_value": "number"}}), {"completed", "failed"})
    assert (declared["validRows"], declared["invalidRows"]) == (2, 1)
    assert declared["healing"]["columnFormats"]["lifetime_value"]
