"""An SDR-agent client (SPEC §9.3) against a real `lading serve`, only its base URL changed:
cohorts created without data whose status the client sets, then bulk uploads that Lading runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests.e2e.compat_files import assert_one_job_everywhere
from tests.e2e.http_server import LadingServer

CAMPAIGN = "3f2b8c1e-9a4d-4e2f-8b7a-1c2d3e4f5a6b"
# Six contacts with known defects: a bad email, a country breaking its pattern, a duplicate id.
CONTACTS = [
    {"id": 1, "email": "ana@example.com", "country": "ES"},
    {"id": 2, "email": "not-an-email", "country": "FR"},
    {"id": 3, "email": "bo@example.com", "country": "france"},
    {"id": 4, "email": "cy@example.com", "country": "DE"},
    {"id": 1, "email": "dup@example.com", "country": "IT"},
    {"id": 5, "email": "di@example.com"},
]


FIELD_MAP = {"id": "id", "email": "email", "country": "country"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("sdragent")
    server = LadingServer(home / "home")
    server.add_profiles("acme")
    server.add_profiles("other")
    server.keys = {"acme": server.key("acme"), "other": server.key("other"),
                   "reader": server.key("acme", "imports:read")}
    server.start()
    server.configs = {}
    for workspace in ("acme", "other"):
        with server.client(server.keys[workspace]) as c:
            made = c.post("/v1/import-configurations", json={"name": "sdr", "objectName": "profiles",
                                                             "mapping": {"fieldMap": FIELD_MAP}})
            assert made.status_code == 201, made.text
            server.configs[workspace] = made.json()["data"]["id"]
    yield server
    server.stop()


def sdr(server, workspace: str = "acme", **headers) -> httpx.Client:
    """A client of 001: its base URL, its X-API-Key header."""
    base = f"{server.url}/compat/sdragent/{server.configs[workspace]}"
    return httpx.Client(base_url=base, timeout=60,
                        headers={"X-API-Key": server.keys[workspace], **headers})


def wait_for(client: httpx.Client, import_id: str, words: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = client.get(f"/imports/{import_id}")
        assert found.status_code == 200, found.text
        if found.json()["status"] in words:
            return found.json()
        assert time.monotonic() < deadline, found.json()
        time.sleep(0.1)


def test_a_cohort_is_created_without_data_and_its_status_is_the_clients_until_data_arrives(server):
    with sdr(server) as c:
        created = c.post("/imports/", json={"source": "linkedin", "file_name": "leads.csv",
                                            "campaign_id": CAMPAIGN, "status": "pending",
                                            "total_rows": 6})
        assert created.status_code == 201, created.text
        cohort = created.json()
        assert set(cohort) == {"id", "org_id", "campaign_id", "source", "file_name", "status",
                               "total_rows", "created_at", "updated_at"}
        assert cohort["org_id"] == str(uuid.uuid5(uuid.NAMESPACE_URL, "lading:workspace:acme"))
        assert (cohort["campaign_id"], cohort["source"], cohort["file_name"], cohort["status"],
                cohort["total_rows"]) == (CAMPAIGN, "linkedin", "leads.csv", "pending", 6)
        # "Hard updates": the client sets any status while there is no data; each is an event.
        for word in ("processing", "completed", "pending"):
            updated = c.put(f"/imports/{cohort['id']}", json={"status": word})
            assert updated.status_code == 200 and updated.json()["status"] == word
        assert c.put(f"/imports/{cohort['id']}", json={"total_rows": 7}).json()["total_rows"] == 7

        uploaded = c.post("/contacts/bulk-upload", json={"import_id": cohort["id"], "contacts": CONTACTS})
        assert uploaded.status_code == 202, uploaded.text
        assert uploaded.json()["status"] in ("pending", "processing", "completed")
        done = wait_for(c, cohort["id"], {"completed", "failed"})
        assert (done["status"], done["total_rows"]) == ("completed", 6)  # now the rows read

        # Once data is attached the status is Lading's: repeating it is fine, another word is 409.
        assert c.put(f"/imports/{cohort['id']}", json={"status": "completed"}).status_code == 200
        refused = c.put(f"/imports/{cohort['id']}", json={"status": "pending"})
        assert refused.status_code == 409 and set(refused.json()) == {"detail"}
        again = c.post("/contacts/bulk-upload", json={"import_id": cohort["id"], "contacts": CONTACTS})
        assert again.status_code == 409 and "already has data" in again.json()["detail"]

    with server.client(server.keys["acme"]) as native:
        status = native.get(f"/v1/import-jobs/{cohort['id']}").json()["data"]
        assert (status["readRows"], status["validRows"], status["invalidRows"]) == (6, 3, 3)
        assert status["errorSummary"] == {"VALIDATION_TYPE_MISMATCH": 1,
                                          "VALIDATION_CONSTRAINT_VIOLATION": 1, "DUPLICATE_KEY": 1}
        assert f"campaign:{CAMPAIGN}" in status["labels"]
        records = native.get("/v1/objects/profiles/records").json()["data"]["records"]
        assert {(r["id"], r["email"], r["country"]) for r in records} >= {
            (1, "ana@example.com", "ES"), (4, "cy@example.com", "DE"), (5, "di@example.com", None)}
        events = [e["type"] for e in native.get(f"/v1/import-jobs/{cohort['id']}/events").json()["data"]]
        assert events[:6] == ["Created", "StatusDeclared", "StatusDeclared", "StatusDeclared",
                              "StatusDeclared", "StatusDeclared"]
        assert "FileReceived" in events and events[-1] == "Completed"
        assert assert_one_job_everywhere(server, native, cohort["id"], "acme") == status


def test_a_multipart_file_upload_fills_a_cohort_and_a_put_of_failed_cancels_it(server):
    with sdr(server) as c:
        cohort = c.post("/imports/", json={"source": "csv"}).json()
        assert (cohort["status"], cohort["total_rows"], cohort["campaign_id"]) == ("pending", None, None)
        csv = b"id,email,country\n10,x@example.com,PT\n11,y@example.com,\n"
        uploaded = c.post("/contacts/bulk-upload", data={"import_id": cohort["id"]},
                          files={"file": ("people.csv", csv, "text/csv")})
        assert uploaded.status_code == 202, uploaded.text
        assert uploaded.json()["file_name"] == "people.csv"
        assert wait_for(c, cohort["id"], {"completed"})["total_rows"] == 2

        pending = c.post("/imports/", json={"source": "later"}).json()
        cancelled = c.post("/imports/", json={"source": "cancel-me"}).json()
        c.post("/contacts/bulk-upload", json={"import_id": cancelled["id"], "contacts": CONTACTS})
        put = c.put(f"/imports/{cancelled['id']}", json={"status": "failed"})
        assert put.status_code == 200 and put.json()["status"] == "failed"

        listed = c.get("/imports/").json()
        assert [i["id"] for i in listed][:3] == [cancelled["id"], pending["id"], cohort["id"]]
        assert [i["id"] for i in c.get("/imports/", params={"status": "failed"}).json()] == [cancelled["id"]]
        by_campaign = c.get("/imports/", params={"campaign_id": CAMPAIGN}).json()
        assert by_campaign and all(i["campaign_id"] == CAMPAIGN for i in by_campaign)

        removed = c.delete(f"/imports/{pending['id']}")
        assert removed.status_code == 200
        assert removed.json() == {"message": f"Import {pending['id']} eliminado"}
        assert c.get(f"/imports/{pending['id']}").status_code == 404


def test_sdragent_errors_are_detail_bodies_with_001s_words(server):
    with sdr(server, **{"X-Correlation-Id": "sdr-1"}) as c:
        missing = c.post("/imports/", json={"file_name": "x.csv"})
        assert missing.status_code == 400
        assert missing.json() == {"detail": "Validation error: source field is required"}
        assert missing.headers["X-Correlation-Id"] == "sdr-1"
        bad_campaign = c.post("/imports/", json={"source": "x", "campaign_id": "not-a-uuid"})
        assert bad_campaign.status_code == 400
        assert bad_campaign.json()["detail"].startswith("Validation error: campaign_id")
        assert c.post("/imports/", content=b"{nope", headers={"Content-Type": "application/json"}).status_code == 400
        nobody = uuid.uuid4()
        absent = c.get(f"/imports/{nobody}")
        assert absent.status_code == 404 and absent.json() == {"detail": f"import job {nobody} not found"}
        assert c.get("/imports/not-an-id").status_code == 404
        unknown = c.post("/contacts/bulk-upload", json={"import_id": str(uuid.uuid4()), "contacts": []})
        assert unknown.status_code == 404 and set(unknown.json()) == {"detail"}
        assert c.post("/contacts/bulk-upload", json={"contacts": []}).status_code == 400

    for headers in ({}, {"X-API-Key": "ldg_nope_nope"}, {"Authorization": "Bearer nope"}):
        r = httpx.get(f"{server.url}/compat/sdragent/{server.configs['acme']}/imports/", headers=headers)
        assert r.status_code == 401
        assert r.json() == {"detail": "Invalid or missing authentication credentials"}

    # Another workspace's cohort and configuration are 404 in 001's body.
    with sdr(server) as c:
        mine = c.post("/imports/", json={"source": "mine"}).json()
    with sdr(server, "other") as theirs:
        assert theirs.get(f"/imports/{mine['id']}").status_code == 404
        assert theirs.put(f"/imports/{mine['id']}", json={"status": "failed"}).status_code == 404
    foreign = httpx.get(f"{server.url}/compat/sdragent/{server.configs['other']}/imports/",
                        headers={"X-API-Key": server.keys["acme"]})
    assert foreign.status_code == 404 and set(foreign.json()) == {"detail"}
    reader = httpx.post(f"{server.url}/compat/sdragent/{server.configs['acme']}/imports/",
                        json={"source": "x"}, headers={"X-API-Key": server.keys["reader"]})
    assert reader.status_code == 403 and set(reader.json()) == {"detail"}


def test_the_sdragent_routes_are_in_the_openapi_document_under_their_tag(server):
    document = httpx.get(f"{server.url}/schema/openapi.json").json()
    paths = {p: ops for p, ops in document["paths"].items() if p.startswith("/compat/sdragent/")}
    assert set(paths) == {"/compat/sdragent/{configuration_id}/imports",
                          "/compat/sdragent/{configuration_id}/imports/{import_id}",
                          "/compat/sdragent/{configuration_id}/contacts/bulk-upload"}
    for ops in paths.values():
        for op in ops.values():
            if isinstance(op, dict) and "tags" in op:
                assert op["tags"] == ["compat: SDR agent"]
    create = paths["/compat/sdragent/{configuration_id}/imports"]["post"]
    assert "requestBody" in create and "201" in create["responses"]


def test_a_cohorts_status_is_declared_natively_too_through_v1_and_the_cli(server):
    with sdr(server) as c, server.client(server.keys["acme"]) as native:
        cohort = c.post("/imports/", json={"source": "native"}).json()
        declared = native.post(f"/v1/import-jobs/{cohort['id']}/declared-status",
                               json={"status": "processing", "expectedRows": 3})
        assert declared.status_code == 200, declared.text
        assert (declared.json()["data"]["declaredStatus"], declared.json()["data"]["expectedRows"],
                declared.json()["data"]["state"]) == ("processing", 3, "pending")
        assert (c.get(f"/imports/{cohort['id']}").json()["status"], c.get(f"/imports/{cohort['id']}")
                .json()["total_rows"]) == ("processing", 3)
        shown = json.loads(server.cli("jobs", "declare", cohort["id"], "--status", "completed",
                                      "--workspace", "acme", "--json"))
        assert (shown["declaredStatus"], shown["expectedRows"]) == ("completed", 3)
        assert c.get(f"/imports/{cohort['id']}").json()["status"] == "completed"
        empty = native.post(f"/v1/import-jobs/{cohort['id']}/declared-status", json={})
        assert empty.status_code == 400 and empty.json()["error"]["code"] == "VALIDATION.REQUEST_INVALID"

        c.post("/contacts/bulk-upload", json={"import_id": cohort["id"], "contacts": CONTACTS[:1]})
        wait_for(c, cohort["id"], {"completed"})
        refused = native.post(f"/v1/import-jobs/{cohort['id']}/declared-status", json={"status": "x"})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "STATE.CONFLICT"
        events = [e["type"] for e in native.get(f"/v1/import-jobs/{cohort['id']}/events").json()["data"]]
        assert events[:3] == ["Created", "StatusDeclared", "StatusDeclared"]
    cli = subprocess.run([sys.executable, "-m", "lading.entrypoints.cli", "jobs", "declare", cohort["id"],
                          "--status", "pending", "--workspace", "acme"], env=server.env,
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 2 and "job that is completed" in cli.stderr and "Traceback" not in cli.stderr
