"""A Vern Migration API client (SPEC §9.4) against a real `lading serve`, only its base URL
changed: companies, single-use uploads, runs over several files, one run at a time, idempotent
run creation, the needs_attention -> decisions -> re-run path, and export.csv.

The server runs without a worker, so a run stays queued until the test runs `lading worker
--once`: the states a client polls through are the test's to choose, never a race."""

from __future__ import annotations

import csv
import io
import time

import httpx
import pytest

from tests.e2e.compat_files import assert_one_job_everywhere
from tests.e2e.http_server import LadingServer

FIELD_MAP = {"id": "id", "email": "email", "country": "country", "plan": "plan"}
# Two files read as one source: the second has its columns in another order. Known defects:
# row 2 a bad email, row 3 a country breaking its pattern, row 5 a duplicate of id 1.
PART_1 = b"id,email,country,plan\n1,ana@example.com,ES,free\n2,not-an-email,FR,pro\n3,bo@example.com,france,pro\n"
PART_2 = b"plan,country,email,id\nfree,DE,cy@example.com,4\npro,IT,dup@example.com,1\n"
# For review: two rows whose plan is a near miss of an enum value, which a proposal maps.
REVIEW_CSV = b"id,email,plan\n20,p@example.com,free\n21,q@example.com,Enterprize\n22,r@example.com,Enterprize\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = LadingServer(tmp_path_factory.mktemp("vern") / "home", worker=False)
    for workspace in ("acme", "other"):
        server.add_profiles(workspace)
    server.keys = {"acme": server.key("acme"), "other": server.key("other")}
    server.start()
    with server.client(server.keys["acme"]) as native:
        made = native.post("/v1/mapping-templates", json={
            "name": "review", "objectName": "profiles",
            "mapping": {"fieldMap": {"id": "id", "email": "email", "plan": "plan"},
                        "reviewPolicy": "review_on_errors"}})
        assert made.status_code == 201, made.text
        server.review_template = made.json()["data"]["id"]
        plain = native.post("/v1/mapping-templates", json={
            "name": "plain", "objectName": "profiles", "mapping": {"fieldMap": FIELD_MAP}})
        server.plain_template = plain.json()["data"]["id"]
    yield server
    server.stop()


def vern(server, workspace: str = "acme", **headers) -> httpx.Client:
    """A client of 003: its base URL, its lower-case x-api-key header."""
    return httpx.Client(base_url=f"{server.url}/compat/vern", timeout=60,
                        headers={"x-api-key": server.keys[workspace], **headers})


def company(c: httpx.Client, external_id: str, source: str | None) -> str:
    body = {"name": external_id, "external_id": external_id, "template_ids": ["profiles"]}
    made = c.post("/api/v1/companies", json={**body, "source": source} if source else body)
    assert made.status_code in (200, 201), made.text
    return made.json()["company"]["id"]


def upload(c: httpx.Client, company_id: str, name: str, body: bytes) -> str:
    slot = c.post(f"/api/v1/companies/{company_id}/uploads",
                  json={"name": name, "content_type": "text/csv", "size": len(body)})
    assert slot.status_code == 201, slot.text
    put = httpx.put(slot.json()["upload_url"], content=body, headers={"Content-Type": "text/csv"})
    assert put.status_code == 200, put.text
    return slot.json()["upload_ref"]


def work(server) -> None:
    server.cli("worker", "--once")


def poll(c: httpx.Client, url: str, words: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = c.get(url)
        assert found.status_code == 200, found.text
        if found.json()["status"] in words:
            return found.json()
        assert time.monotonic() < deadline, found.json()
        time.sleep(0.1)


def rows_of(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def test_a_company_is_an_import_configuration_provisioned_once_per_external_id(server):
    with vern(server) as c:
        made = c.post("/api/v1/companies", json={"name": "Acme GmbH", "source": server.plain_template,
                                                 "external_id": "crm-42", "template_ids": ["profiles"]})
        assert made.status_code == 201, made.text
        body = made.json()
        assert set(body) == {"company", "workbook_id", "sheets", "magic_link_url"}
        assert body["company"]["external_id"] == "crm-42"
        # The magic link is the console's new import through this company, on the server's address.
        assert body["magic_link_url"] == (f"{server.url}/console/imports/new?configuration="
                                          f"{body['company']['id']}")
        assert [(s["name"], s["template_id"]) for s in body["sheets"]] == [("profiles", "profiles")]
        again = c.post("/api/v1/companies", json={"name": "renamed", "external_id": "crm-42",
                                                  "template_ids": ["profiles"]})
        assert again.status_code == 200 and again.json() == body
    with server.client(server.keys["acme"]) as native:
        config = native.get(f"/v1/import-configurations/{body['company']['id']}").json()["data"]
        assert config["objectName"] == "profiles" and config["mapping"]["fieldMap"] == FIELD_MAP
        assert config["externalId"] == "crm-42"
        # Natively too, a configuration is provisioned once per externalId.
        same = native.post("/v1/import-configurations", json={"name": "n", "objectName": "profiles",
                                                               "externalId": "crm-42"})
        assert same.status_code == 200 and same.json()["data"]["id"] == body["company"]["id"]
        fresh = native.post("/v1/import-configurations", json={"name": "n", "objectName": "profiles",
                                                                "externalId": "crm-43"})
        assert fresh.status_code == 201 and fresh.json()["data"]["externalId"] == "crm-43"
    with vern(server, "other") as theirs:
        missing = theirs.post(f"/api/v1/companies/{body['company']['id']}/uploads",
                              json={"name": "a.csv", "content_type": "text/csv", "size": 3})
        assert missing.status_code == 404 and set(missing.json()) == {"error"}
        # The same external id in another workspace is another company.
        assert company(theirs, "crm-42", None) != body["company"]["id"]


def test_a_run_reads_several_uploaded_files_as_one_source_one_run_at_a_time(server):
    with vern(server, **{"X-Correlation-Id": "vern-7"}) as c:
        company_id = company(c, "files-co", server.plain_template)
        first, second = upload(c, company_id, "part-1.csv", PART_1), upload(c, company_id, "part-2.csv", PART_2)
        files = [{"name": "part-1.csv", "upload_ref": first}, {"name": "part-2.csv", "upload_ref": second}]
        started = c.post(f"/api/v1/companies/{company_id}/imports",
                         json={"files": files, "idempotency_key": "nightly-1"})
        assert started.status_code == 201, started.text
        run = started.json()
        assert set(run) == {"run_id", "status", "poll_url"} and run["status"] == "queued"
        assert run["poll_url"] == f"{server.url}/compat/vern/api/v1/companies/{company_id}/imports/{run['run_id']}"
        queued = c.get(run["poll_url"]).json()
        assert queued["status"] == "queued" and queued["progress_message"]

        # The same key and payload: the same run (200). Another payload: 409. Another run: 409.
        replay = c.post(f"/api/v1/companies/{company_id}/imports", json={"files": files, "idempotency_key": "nightly-1"})
        assert replay.status_code == 200 and replay.json()["run_id"] == run["run_id"]
        conflict = c.post(f"/api/v1/companies/{company_id}/imports",
                          json={"files": files[:1], "idempotency_key": "nightly-1"})
        assert conflict.status_code == 409 and set(conflict.json()) == {"error"}
        busy = c.post(f"/api/v1/companies/{company_id}/imports", json={"rows": [{"id": 9, "email": "z@example.com"}]})
        assert busy.status_code == 409 and busy.json()["run_id"] == run["run_id"]
        assert busy.headers["X-Correlation-Id"] == "vern-7"

        work(server)
        done = poll(c, run["poll_url"], {"completed", "failed"})
        assert done["status"] == "completed", done
        sheet = c.post("/api/v1/companies", json={"name": "x", "external_id": "files-co",
                                                  "template_ids": ["profiles"]}).json()["sheets"][0]["id"]
        assert done["report"] == {"inserted": 2, "invalidCellCount": 3, "coverage": None,
                                  "perSheet": [{"templateName": "profiles", "sheetId": sheet, "rowCount": 5}]}

        valid = rows_of(c.get(f"/api/v1/companies/{company_id}/export.csv"))
        assert valid[0][:3] == ["id", "email", "country"]
        assert [r[:3] for r in valid[1:]] == [["1", "ana@example.com", "ES"], ["4", "cy@example.com", "DE"]]
        invalid = rows_of(c.get(f"/api/v1/companies/{company_id}/export.csv",
                                params={"filter": "invalid", "sheet_id": sheet}))
        assert invalid[0] == ["id", "email", "country", "plan", "_errors"]
        assert [(r[0], r[1]) for r in invalid[1:]] == [("2", "not-an-email"), ("3", "bo@example.com"),
                                                       ("1", "dup@example.com")]
        assert invalid[1][4].startswith("email: ") and invalid[2][4].startswith("country: ")
        every = rows_of(c.get(f"/api/v1/companies/{company_id}/export.csv", params={"filter": "all"}))
        assert every[0] == ["id", "email", "country", "plan", "_status", "_errors"]
        assert [(r[0], r[4]) for r in every[1:]] == [("1", "valid"), ("2", "rejected"), ("3", "rejected"),
                                                     ("4", "valid"), ("1", "rejected")]
        assert every[1][5] == "" and every[5][5] == invalid[3][4]
        assert c.get(f"/api/v1/companies/{company_id}/export.csv",
                     params={"sheet_id": "not-its-sheet"}).status_code == 400

        # Once it ended, the next run is welcome; an upload URL is single use.
        nxt = c.post(f"/api/v1/companies/{company_id}/imports", json={"rows": [{"id": 9, "email": "z@example.com"}]})
        assert nxt.status_code == 201, nxt.text

    with server.client(server.keys["acme"]) as native:
        status = native.get(f"/v1/import-jobs/{run['run_id']}").json()["data"]
        assert (status["readRows"], status["validRows"], status["invalidRows"]) == (5, 2, 3)
        assert status["errorSummary"] == {"VALIDATION_TYPE_MISMATCH": 1,
                                          "VALIDATION_CONSTRAINT_VIOLATION": 1, "DUPLICATE_KEY": 1}
        assert [f["fileName"] for f in status["sourceFiles"]] == ["part-1.csv", "part-2.csv"]
        errors = httpx.get(native.get(f"/v1/import-jobs/{run['run_id']}/errors").json()["data"]["errorFileUrl"])
        lines = [__import__("json").loads(x) for x in errors.text.splitlines()]
        assert [(e["rowNumber"], e["file"]) for e in lines] == [(2, "part-1.csv"), (3, "part-1.csv"),
                                                                (5, "part-2.csv")]
        records = native.get("/v1/objects/profiles/records").json()["data"]["records"]
        assert {(r["id"], r["email"]) for r in records} >= {(1, "ana@example.com"), (4, "cy@example.com")}
        work(server)
        assert assert_one_job_everywhere(server, native, run["run_id"], "acme")["readRows"] == 5


def test_needs_attention_asks_questions_from_the_proposal_and_decisions_rerun_it(server):
    with vern(server) as c:
        company_id = company(c, "review-co", server.review_template)
        ref = upload(c, company_id, "review.csv", REVIEW_CSV)
        run = c.post(f"/api/v1/companies/{company_id}/imports",
                     json={"files": [{"name": "review.csv", "upload_ref": ref}]}).json()
        work(server)
        paused = poll(c, run["poll_url"], {"needs_attention", "completed", "failed"})
        assert paused["status"] == "needs_attention", paused
        assert paused["report"]["inserted"] == 0 and paused["report"]["invalidCellCount"] == 2
        (question,) = paused["needs_attention"]["questions"]
        assert question["id"] == "plan" and question["relevant_columns"] == ["plan"]
        assert question["target"]["affected_count"] == 2
        assert question["target"]["sample_values"] == ["Enterprize"]
        assert [o["id"] for o in question["options"]][-1] == "skip" and question["allow_custom"]
        actions = paused["needs_attention"]["proposed_patch"]["actions"]
        mapped = [a for a in actions if a["action"] == "map_values"]
        assert mapped and mapped[0]["column"] == "plan" and mapped[0]["mapping"] == {"Enterprize": "enterprise"}

        # A second run is refused while this one waits for a decision.
        busy = c.post(f"/api/v1/companies/{company_id}/imports", json={"rows": [{"id": 30, "email": "s@example.com"}]})
        assert busy.status_code == 409 and busy.json()["run_id"] == run["run_id"]

        decided = c.post(f"{run['poll_url']}/decisions", json={"accept": True})
        assert decided.status_code == 200 and decided.json() == {"run_id": run["run_id"], "status": "queued"}
        again = c.post(f"{run['poll_url']}/decisions", json={"accept": True})
        assert again.status_code == 409 and set(again.json()) == {"error"}
        work(server)
        done = poll(c, run["poll_url"], {"completed", "failed"})
        assert done["status"] == "completed" and done["report"]["inserted"] == 3
        assert done["report"]["invalidCellCount"] == 0

        # Answers choose an option; reject completes the run with the flagged rows left out.
        for decision, inserted in (({"answers": [{"id": "plan", "option_id": question["options"][0]["id"]}]}, 3),
                                   ({"reject": True}, 1)):
            ref = upload(c, company_id, "review.csv", REVIEW_CSV)
            nxt = c.post(f"/api/v1/companies/{company_id}/imports",
                         json={"files": [{"name": "review.csv", "upload_ref": ref}]}).json()
            work(server)
            assert poll(c, nxt["poll_url"], {"needs_attention"})["status"] == "needs_attention"
            assert c.post(f"{nxt['poll_url']}/decisions", json=decision).status_code == 200
            work(server)
            finished = poll(c, nxt["poll_url"], {"completed", "failed"})
            assert (finished["status"], finished["report"]["inserted"]) == ("completed", inserted)

    with server.client(server.keys["acme"]) as native:
        events = [e["type"] for e in native.get(f"/v1/import-jobs/{run['run_id']}/events").json()["data"]]
        assert "AttentionNeeded" in events and "FixApproved" in events and events[-1] == "Completed"
        assert native.get(f"/v1/import-jobs/{run['run_id']}").json()["data"]["planVersion"] == 2


def test_vern_errors_are_error_bodies(server):
    with vern(server) as c:
        company_id = company(c, "errors-co", server.plain_template)
        for body in ({}, {"files": [], "rows": []}):
            r = c.post(f"/api/v1/companies/{company_id}/imports", json=body)
            assert r.status_code == 400 and set(r.json()) == {"error"}, r.text
        unknown = c.post(f"/api/v1/companies/{company_id}/imports",
                         json={"files": [{"name": "a.csv", "upload_ref": "0123abcd"}]})
        assert unknown.status_code == 404 and set(unknown.json()) == {"error"}
        assert c.post("/api/v1/companies", json={"name": "x"}).status_code == 400
        assert c.post("/api/v1/companies", content=b"[", headers={"Content-Type": "application/json"}).status_code == 400
        no_object = c.post("/api/v1/companies", json={"name": "x", "external_id": "y", "template_ids": ["nope"]})
        assert no_object.status_code == 404 and set(no_object.json()) == {"error"}
        assert c.get(f"/api/v1/companies/{company_id}/imports/not-a-run").status_code == 404
        assert c.get(f"/api/v1/companies/{company_id}/export.csv").status_code == 404  # no completed run
        decided = c.post(f"/api/v1/companies/{company_id}/imports/{company_id}/decisions", json={"reject": True})
        assert decided.status_code == 404
        assert c.get("/api/v1/nothing-here").json().keys() == {"error"}

        # The upload URL takes the declared Content-Type only, once, and only when signed.
        slot = c.post(f"/api/v1/companies/{company_id}/uploads",
                      json={"name": "a.csv", "content_type": "text/csv", "size": 4}).json()
        wrong = httpx.put(slot["upload_url"], content=b"id\n1", headers={"Content-Type": "application/json"})
        assert wrong.status_code == 400 and set(wrong.json()) == {"error"}
        assert httpx.put(slot["upload_url"], content=b"id\n1", headers={"Content-Type": "text/csv"}).status_code == 200
        assert httpx.put(slot["upload_url"], content=b"id\n1", headers={"Content-Type": "text/csv"}).status_code == 409
        tampered = httpx.put(slot["upload_url"].replace("signature=", "signature=x"), content=b"id\n1",
                             headers={"Content-Type": "text/csv"})
        assert tampered.status_code == 403 and set(tampered.json()) == {"error"}
        assert slot["upload_url"].startswith(f"{server.url}/compat/vern/")

    for headers in ({}, {"x-api-key": "ldg_nope_nope"}, {"Authorization": f"Bearer {server.keys['acme']}"}):
        r = httpx.get(f"{server.url}/compat/vern/api/v1/companies/x/imports/y", headers=headers)
        assert r.status_code == 401 and r.json() == {"error": "Invalid or missing x-api-key"}


def test_vern_rate_limits_answer_too_many_requests(tmp_path):
    server = LadingServer(tmp_path / "home", worker=False, LADING_RATE_LIMIT="2")
    key = server.key("acme")
    server.start()
    try:
        with httpx.Client(base_url=f"{server.url}/compat/vern", headers={"x-api-key": key}) as c:
            answers = [c.get("/api/v1/companies/x/export.csv") for _ in range(4)]
        limited = [r for r in answers if r.status_code == 429]
        assert limited and limited[0].json() == {"error": "Too many requests"}
        assert int(limited[0].headers["Retry-After"]) >= 1
    finally:
        server.stop()


def test_the_vern_routes_are_in_the_openapi_document_under_their_tag(server):
    document = httpx.get(f"{server.url}/schema/openapi.json").json()
    paths = {p: ops for p, ops in document["paths"].items() if p.startswith("/compat/vern/")}
    assert len(paths) == 7
    tags = {op["tags"][0] for ops in paths.values() for op in ops.values() if isinstance(op, dict) and "tags" in op}
    assert tags == {"compat: Vern"}
    create = paths["/compat/vern/api/v1/companies/{company_id}/imports"]["post"]
    assert "requestBody" in create and {"200", "201", "409"} <= set(create["responses"])
    assert "requestBody" in paths["/compat/vern/uploads/{company_id}/{ref}"]["put"]
