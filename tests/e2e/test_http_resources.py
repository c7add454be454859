"""Every other endpoint through a real `lading serve`: one-shot multipart imports, templates,
configurations and pushes, records, cancel/approve/delete, listing with filters and cursors."""

from __future__ import annotations

import json
import time

import httpx

from tests.e2e.http_server import upload_job, wait_for_state

WS = "acme"
HEADER = "id,email,first_name,last_name,country,signup_ts,birth_date,lifetime_value,is_active,plan,notes\n"


def line(i: int, email: str | None = None, plan: str = "free") -> str:
    email = f"user{i}@example.com" if email is None else email
    return f"{i},{email},F{i},L{i},US,2020-01-0{1 + i % 9}T00:00:00Z,1990-01-01,{i}.50,true,{plan},\n"


GOOD = (HEADER + "".join(line(i) for i in range(1, 6))).encode()
RENAMED = GOOD.replace(b"email,", b"e_mail,", 1)


def test_health_needs_no_key(server):
    import httpx

    response = httpx.get(f"{server.url}/healthz")
    assert response.status_code == 200 and response.json()["data"] == {"status": "ok"}


def test_the_openapi_document_and_an_offline_docs_page_need_no_key(server):
    import httpx

    doc = httpx.get(f"{server.url}/schema/openapi.json").json()
    assert {"apiKey", "bearer"} <= set(doc["components"]["securitySchemes"])
    assert doc["paths"]["/v1/import-jobs"]["post"]["responses"]["409"]["content"]
    page = httpx.get(f"{server.url}/schema")
    assert page.status_code == 200 and "/schema/assets/swagger-ui-bundle.js" in page.text
    start = httpx.get(f"{server.url}/schema/assets/docs.js")
    assert start.status_code == 200 and "/schema/openapi.json" in start.text
    for text in (page.text, start.text):
        assert "https://" not in text, "the docs page must not load anything from the network"


def test_a_one_shot_multipart_import_is_created_mapped_and_started(client):
    response = client.post("/v1/imports", files={"file": ("people.csv", RENAMED, "text/csv")},
                           data={"objectName": "profiles",
                                 "fieldMap": json.dumps({h: h for h in HEADER.strip().split(",") if h != "email"}
                                                        | {"e_mail": "email"})})
    assert response.status_code == 201, response.text
    job = response.json()["data"]
    assert job["state"] in ("queued", "running", "completed")
    assert job["fileName"] == "people.csv"
    done = wait_for_state(client, job["jobId"], {"completed", "failed"})
    assert (done["state"], done["validRows"], done["invalidRows"]) == ("completed", 5, 0)


def test_a_one_shot_import_of_several_files_reads_them_in_order_as_one_source(client, server):
    first = b"id,email,plan\n801,a@example.com,free\n802,not-an-email,pro\n"
    second = b"plan,id,email\npro,803,c@example.com\nfree,801,d@example.com\n"  # 801 again
    parts = [("file", ("a.csv", first, "text/csv")), ("file", ("b.csv", second, "text/csv"))]
    made = client.post("/v1/imports", files=parts, data={"objectName": "profiles",
                                                         "idempotencyKey": "two-files-1"})
    assert made.status_code == 201, made.text
    job = made.json()["data"]
    assert (job["fileName"], job["fileSize"]) == ("a.csv", len(first) + len(second))
    assert [(f["fileName"], f["fileSize"]) for f in job["sourceFiles"]] == [
        ("a.csv", len(first)), ("b.csv", len(second))]
    done = wait_for_state(client, job["jobId"], {"completed", "failed"})
    assert (done["state"], done["readRows"], done["validRows"], done["invalidRows"]) == (
        "completed", 4, 2, 2)
    errors = httpx.get(client.get(f"/v1/import-jobs/{job['jobId']}/errors").json()["data"]["errorFileUrl"])
    assert [(e["rowNumber"], e["file"], e["code"]) for e in map(json.loads, errors.text.splitlines())] == [
        (2, "a.csv", "VALIDATION_TYPE_MISMATCH"), (4, "b.csv", "DUPLICATE_KEY")]
    events = [e["type"] for e in client.get(f"/v1/import-jobs/{job['jobId']}/events").json()["data"]]
    assert "FilesReceived" in events and "FileReceived" not in events
    # The same files again under the same key are the same job; other files are a conflict.
    again = client.post("/v1/imports", files=parts, data={"objectName": "profiles",
                                                          "idempotencyKey": "two-files-1"})
    assert again.status_code == 200 and again.json()["data"]["jobId"] == job["jobId"]
    other = client.post("/v1/imports", files=parts[:1], data={"objectName": "profiles",
                                                              "idempotencyKey": "two-files-1"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "IDEMPOTENCY.CONFLICT"
    shown = json.loads(server.cli("jobs", "show", job["jobId"], "--workspace", WS, "--json"))
    assert shown["sourceFiles"] == done["sourceFiles"]


def test_a_job_of_several_files_takes_each_at_its_own_signed_url_in_any_order(client, server):
    first = b"id,email,plan\n811,a@example.com,free\n812,not-an-email,pro\n"
    second = b"plan,id,email\npro,813,c@example.com\nfree,811,d@example.com\n"  # 811 again
    body = {"objectName": "profiles", "idempotencyKey": "announced-1",
            "files": [{"fileName": "a.csv", "fileSize": len(first)},
                      {"fileName": "b.csv", "fileSize": len(second)}]}
    made = client.post("/v1/import-jobs", json=body)
    assert made.status_code == 201, made.text
    slot = made.json()["data"]
    assert slot["uploadUrl"] is None and [u["fileName"] for u in slot["uploads"]] == ["a.csv", "b.csv"]
    assert all(u["uploadUrl"].startswith(f"{server.url}/v1/uploads/{slot['jobId']}/files/")
               for u in slot["uploads"])
    job = f"/v1/import-jobs/{slot['jobId']}"
    a, b = slot["uploads"]
    assert httpx.put(b["uploadUrl"], content=second, headers=b["headers"]).status_code == 200
    waiting = client.get(job).json()["data"]
    assert [f["received"] for f in waiting["expectedFiles"]] == [False, True]
    assert (waiting["state"], waiting["sourceFiles"], waiting["fileSha256"]) == ("pending", None, None)
    assert client.post(f"{job}/start").status_code == 409  # not all of its source is in
    short = httpx.put(a["uploadUrl"], content=first[:-1], headers=a["headers"])
    assert short.status_code == 400 and "declared fileSize" in short.json()["error"]["message"]
    assert httpx.put(a["uploadUrl"], content=first, headers=a["headers"]).status_code == 200
    held = client.get(job).json()["data"]
    assert [(f["fileName"], f["fileSize"]) for f in held["sourceFiles"]] == [
        ("a.csv", len(first)), ("b.csv", len(second))]
    assert held["fileSize"] == len(first) + len(second)

    assert client.post(f"{job}/mapping", json={"importMode": "balanced"}).status_code == 200
    assert client.post(f"{job}/start").status_code == 200
    done = wait_for_state(client, slot["jobId"], {"completed", "failed"})
    assert (done["state"], done["readRows"], done["validRows"], done["invalidRows"]) == (
        "completed", 4, 2, 2)
    errors = httpx.get(client.get(f"{job}/errors").json()["data"]["errorFileUrl"])
    assert [(e["rowNumber"], e["file"], e["code"]) for e in map(json.loads, errors.text.splitlines())] == [
        (2, "a.csv", "VALIDATION_TYPE_MISMATCH"), (4, "b.csv", "DUPLICATE_KEY")]
    events = [e["type"] for e in client.get(f"{job}/events").json()["data"]]
    assert events.count("FilePartReceived") == 2 and "FilesReceived" not in events

    again = client.post("/v1/import-jobs", json=body)
    assert again.status_code == 200 and again.json()["data"]["jobId"] == slot["jobId"]
    other = client.post("/v1/import-jobs", json={**body, "files": body["files"][:1]})
    assert other.status_code == 409 and other.json()["error"]["code"] == "IDEMPOTENCY.CONFLICT"
    both = client.post("/v1/import-jobs", json={**body, "idempotencyKey": None, "fileName": "x.csv"})
    assert both.status_code == 400
    assert server.cli("replay", "--check") == "read models match the event history"


def test_a_one_shot_import_refuses_a_bad_field_map_without_creating_a_job(client):
    before = len(client.get("/v1/import-jobs", params={"limit": 500}).json()["data"]["items"])
    for field_map, status in (("{not json", 400), (json.dumps({"id": "nope"}), 422)):
        response = client.post("/v1/imports", files={"file": ("p.csv", GOOD, "text/csv")},
                               data={"objectName": "profiles", "fieldMap": field_map})
        assert response.status_code == status, response.text
    missing = client.post("/v1/imports", files={"file": ("p.csv", GOOD, "text/csv")})
    assert missing.status_code == 400
    assert len(client.get("/v1/import-jobs", params={"limit": 500}).json()["data"]["items"]) == before


def test_templates_are_saved_listed_used_and_deleted(client):
    fmap = {h: h for h in HEADER.strip().split(",") if h != "email"} | {"e_mail": "email"}
    created = client.post("/v1/mapping-templates", json={"name": "renamed email", "objectName": "profiles",
                                                         "mapping": {"fieldMap": fmap, "importMode": "strict"}})
    assert created.status_code == 201, created.text
    template = created.json()["data"]
    assert template["mapping"]["importMode"] == "strict"
    assert client.get(f"/v1/mapping-templates/{template['id']}").json()["data"] == template
    assert template["id"] in [t["id"] for t in client.get("/v1/mapping-templates").json()["data"]]
    job_id = upload_job(client, "profiles", RENAMED, mapping={"templateId": template["id"],
                                                             "importMode": "balanced"})
    done = wait_for_state(client, job_id, {"completed", "failed"})
    assert (done["state"], done["validRows"], done["importMode"]) == ("completed", 5, "balanced")
    assert client.delete(f"/v1/mapping-templates/{template['id']}").status_code == 200
    assert client.get(f"/v1/mapping-templates/{template['id']}").status_code == 404
    assert client.delete(f"/v1/mapping-templates/{template['id']}").status_code == 404


def test_a_mapping_can_be_saved_as_a_template(client):
    job_id = client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "x.csv",
                                                  "fileSize": 5}).json()["data"]["jobId"]
    mapped = client.post(f"/v1/import-jobs/{job_id}/mapping",
                         json={"operation": "insert", "saveAsTemplate": True, "templateName": "inserts"})
    template_id = mapped.json()["data"]["templateId"]
    template = client.get(f"/v1/mapping-templates/{template_id}").json()["data"]
    assert (template["name"], template["mapping"]["operation"]) == ("inserts", "insert")
    bad = client.post("/v1/mapping-templates", json={"name": "x", "objectName": "profiles",
                                                    "mapping": {"fieldMap": {"id": "nope"}}})
    assert bad.status_code == 422


def test_a_file_pushed_to_a_configuration_runs_with_its_mapping(client):
    fmap = {h: h for h in HEADER.strip().split(",") if h != "email"} | {"e_mail": "email"}
    created = client.post("/v1/import-configurations", json={
        "name": "crm drop", "objectName": "profiles", "mapping": {"fieldMap": fmap},
        "source": "crm", "labels": ["nightly"]})
    assert created.status_code == 201, created.text
    config = created.json()["data"]
    assert config["pushUrl"].endswith(f"/v1/import-configurations/{config['id']}/push")
    assert client.get(f"/v1/import-configurations/{config['id']}").json()["data"] == config
    assert config["id"] in [c["id"] for c in client.get("/v1/import-configurations").json()["data"]]
    pushed = client.post(f"/v1/import-configurations/{config['id']}/push", content=RENAMED,
                         params={"fileName": "drop.csv"}, headers={"Content-Type": "text/csv"})
    assert pushed.status_code == 201, pushed.text
    job = pushed.json()["data"]
    assert (job["source"], job["labels"], job["fileName"]) == ("crm", ["nightly"], "drop.csv")
    assert wait_for_state(client, job["jobId"], {"completed", "failed"})["validRows"] == 5
    via_form = client.post("/v1/imports", files={"file": ("again.csv", RENAMED, "text/csv")},
                           data={"configurationId": config["id"]})
    assert via_form.status_code == 201, via_form.text
    assert client.post("/v1/import-configurations/nope/push", content=b"x").status_code == 404


def test_records_are_written_inline_as_a_job_and_read_back(client):
    rows = [{"id": 900 + i, "email": f"r{i}@example.com", "plan": "pro"} for i in range(3)]
    rows.append({"id": 999, "email": "broken"})
    written = client.post("/v1/objects/profiles/records", json={"rows": rows})
    assert written.status_code == 202, written.text
    done = wait_for_state(client, written.json()["data"]["jobId"], {"completed", "failed"})
    assert (done["validRows"], done["invalidRows"]) == (3, 1)
    records = client.get("/v1/objects/profiles/records", params={"limit": 10_000}).json()["data"]["records"]
    by_id = {r["id"]: r for r in records}
    assert by_id[901]["email"] == "r1@example.com" and by_id[901]["plan"] == "pro"
    assert 999 not in by_id
    too_many = client.post("/v1/objects/profiles/records", json={"rows": [{"id": 1}] * 10_001})
    assert too_many.status_code == 413
    assert client.get("/v1/objects/nope/records").status_code == 404


def test_an_inline_rows_job_runs_like_a_file(client):
    created = client.post("/v1/import-jobs", json={"objectName": "profiles",
                                                   "rows": [{"id": 950, "email": "i@example.com"}]})
    assert created.status_code == 201
    assert created.json()["data"]["uploadUrl"] is None
    job_id = created.json()["data"]["jobId"]
    assert client.post(f"/v1/import-jobs/{job_id}/mapping", json={}).status_code == 200
    assert client.post(f"/v1/import-jobs/{job_id}/start").status_code == 200
    assert wait_for_state(client, job_id, {"completed"})["mergedInserts"] + \
        wait_for_state(client, job_id, {"completed"})["mergedUpdates"] == 1


def test_a_review_pauses_at_needs_attention_and_approve_finishes_it(client):
    content = (HEADER + line(1) + line(2, plan="enterprize")).encode()
    job_id = upload_job(client, "profiles", content, mapping={"reviewPolicy": "review_on_errors"})
    paused = wait_for_state(client, job_id, {"needs_attention", "completed", "failed"})
    assert paused["state"] == "needs_attention"
    assert paused["proposal"]["changes"][0]["enumMap"] == {"enterprize": "enterprise"}
    approved = client.post(f"/v1/import-jobs/{job_id}/approve")
    assert approved.status_code == 200, approved.text
    done = wait_for_state(client, job_id, {"completed", "failed"})
    assert (done["state"], done["planVersion"], done["validRows"]) == ("completed", 2, 2)
    assert client.post(f"/v1/import-jobs/{job_id}/approve").status_code == 409


def test_cancel_ends_a_job_and_delete_purges_it_but_keeps_its_history(client):
    job_id = client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "c.csv",
                                                  "fileSize": 3}).json()["data"]["jobId"]
    cancelled = client.post(f"/v1/import-jobs/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["data"]["state"] == "cancelled"
    assert client.post(f"/v1/import-jobs/{job_id}/cancel").status_code == 409
    deleted = client.delete(f"/v1/import-jobs/{job_id}")
    assert deleted.status_code == 200 and deleted.json()["data"] == {"jobId": job_id, "deleted": True}
    assert client.get(f"/v1/import-jobs/{job_id}").status_code == 404
    events = client.get(f"/v1/import-jobs/{job_id}/events").json()["data"]
    assert [e["type"] for e in events][-2:] == ["Cancelled", "Deleted"]


def test_listing_filters_by_state_object_source_label_and_created_range(client):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))
    ids = []
    for i, (source, labels) in enumerate([("web", ["spring"]), ("web", ["autumn"]), ("api", ["spring"])]):
        ids.append(client.post("/v1/import-jobs", json={
            "objectName": "profiles", "fileName": f"{i}.csv", "fileSize": 1, "source": source,
            "labels": labels}).json()["data"]["jobId"])

    def listed(**params) -> list[str]:
        return [j["jobId"] for j in client.get("/v1/import-jobs", params={"limit": 500, **params})
                .json()["data"]["items"] if j["jobId"] in ids]

    assert listed() == ids[::-1], "newest first"
    assert listed(source="web") == [ids[1], ids[0]]
    assert listed(label="spring") == [ids[2], ids[0]]
    assert listed(state="pending", objectName="profiles") == ids[::-1]
    assert listed(state="completed") == []
    assert listed(createdFrom=stamp) == ids[::-1]
    assert listed(createdTo=stamp) == []
    assert client.get("/v1/import-jobs", params={"createdFrom": "yesterday"}).status_code == 400


def test_listing_pages_with_an_opaque_cursor(client):
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/import-jobs", params=params).json()["data"]
        assert len(page["items"]) <= 2
        seen += [j["jobId"] for j in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    everything = [j["jobId"] for j in client.get("/v1/import-jobs", params={"limit": 500}).json()["data"]["items"]]
    assert seen == everything and len(set(seen)) == len(seen)
    assert client.get("/v1/import-jobs", params={"cursor": "not-a-cursor"}).status_code == 400
