"""Through a real `lading serve`: dynamic audiences (createAudience), the detailed report (totals,
skipped rows by column adding up to invalidRows, header renames, the profile of a job created
with autoProfileAfterImport) and the CSV exports a person fixes in a spreadsheet (annotated.csv,
errors.csv), their cells neutralised against formula injection."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from tests.e2e.http_server import imported

WS = "acme"
SERVER_WORKSPACES = (WS, "globex")
HEADER = "ID,E-Mail,plan,lifetime_value\n"



@pytest.fixture(scope="module")
def spring(client):
    """Five rows: two rejected (a bad email that is also a formula; a plan out of its enum)."""
    content = (HEADER + "1,a@example.com,free,1.5\n2,=HYPERLINK(1),gold,2\n3,c@example.com,pro,-5\n"
               "4,d@example.com,pro,3\n5,e@example.com,free,4\n").encode()
    status = imported(client, content, createAudience=True, audienceName="Spring",
                      autoProfileAfterImport=True)
    assert (status["state"], status["validRows"], status["invalidRows"]) == ("completed", 3, 2)
    return status


def members(client, audience_id: str) -> list[dict]:
    return client.get(f"/v1/audiences/{audience_id}/members").json()["data"]["members"]


def test_an_audience_holds_the_records_whose_last_write_came_from_its_job(client, spring):
    audience_id = spring["audienceId"]
    info = client.get(f"/v1/audiences/{audience_id}").json()["data"]
    assert info == {"audienceId": audience_id, "name": "Spring", "objectName": "profiles",
                    "jobId": spring["jobId"], "createdAt": info["createdAt"], "memberCount": 3}
    assert members(client, audience_id) == [{"id": 1}, {"id": 4}, {"id": 5}]
    assert audience_id in [a["audienceId"] for a in client.get("/v1/audiences").json()["data"]["items"]]
    later = imported(client, (HEADER + "4,d2@example.com,pro,3\n9,z@example.com,free,1\n").encode())
    assert later["state"] == "completed"
    assert members(client, audience_id) == [{"id": 1}, {"id": 5}], "rewritten by a later job: out"
    assert client.get(f"/v1/audiences/{audience_id}").json()["data"]["memberCount"] == 2


def test_audience_members_page_with_a_cursor_and_stay_in_their_workspace(server, client, spring):
    audience_id = spring["audienceId"]
    first = client.get(f"/v1/audiences/{audience_id}/members", params={"limit": 1}).json()["data"]
    assert len(first["members"]) == 1 and first["nextCursor"]
    rest = client.get(f"/v1/audiences/{audience_id}/members",
                      params={"cursor": first["nextCursor"]}).json()["data"]
    assert first["members"] + rest["members"] == members(client, audience_id)
    with server.client(server.key("globex")) as theirs:
        assert theirs.get(f"/v1/audiences/{audience_id}").status_code == 404
        assert theirs.get(f"/v1/audiences/{audience_id}/members").status_code == 404


def test_audience_options_are_checked_when_the_job_is_created(client):
    def create(**extra):
        return client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                    "fileSize": 1, **extra})
    for body in ({"createAudience": True}, {"audienceName": "a"}):
        refused = create(**body)
        assert refused.status_code == 400
        assert refused.json()["error"]["message"] == "createAudience and audienceName go together"
    assert client.get("/v1/audiences/no-such-audience").json()["error"]["code"] == "NOT_FOUND"


def test_the_report_adds_up_to_the_rejected_rows_and_lists_every_header_rename(client, spring):
    report = client.get(f"/v1/import-jobs/{spring['jobId']}/report").json()["data"]
    assert report["totals"] == {"inserted": 3, "updated": 0, "unchanged": 0, "deleted": 0, "skipped": 2}
    email, plan = report["columns"]["email"], report["columns"]["plan"]
    assert (email["sourceColumn"], email["skipped"], email["reasons"]) == \
        ("E-Mail", 1, {"VALIDATION_TYPE_MISMATCH": 1})
    assert email["samples"] == [{"rowNumber": 2, "value": "=HYPERLINK(1)", "code": "VALIDATION_TYPE_MISMATCH",
                                 "message": "invalid email format"}]
    assert (plan["skipped"], plan["alsoFailing"]) == (0, 1), "row 2 failed plan too, skipped for email"
    skipped = sum(c["skipped"] for c in report["columns"].values()) + report["rowProblems"]["skipped"]
    assert skipped == spring["invalidRows"]
    renames = {(r["column"], r["mappedColumn"], r["reason"]) for r in report["healing"]["headers"]}
    assert renames == {("ID", "id", "normalised"), ("E-Mail", "email", "normalised")}
    assert spring["healing"]["headers"] == {"ID": "id", "E-Mail": "email"}
    events = client.get(f"/v1/import-jobs/{spring['jobId']}/events").json()["data"]
    [validated] = [e for e in events if e["type"] == "ChunkValidated"]
    assert {r["column"] for r in validated["data"]["header_renames"]} == {"ID", "E-Mail"}
    same = client.get(f"/v1/import-jobs/{spring['jobId']}", params={"includeDetailedReport": "true"})
    assert same.json()["data"]["detailedReport"] == report


def test_auto_profile_after_import_puts_the_profile_in_the_report(client, spring):
    profile = client.get(f"/v1/import-jobs/{spring['jobId']}/report").json()["data"]["profile"]
    assert set(profile) == {"source", "merged"}
    assert profile["source"]["plan"]["filled"] == 5 and profile["merged"]["plan"]["filled"] == 3
    assert profile["merged"]["lifetime_value"]["min"] == 1.5
    plain = imported(client, (HEADER + "7,g@example.com,free,1\n").encode())
    assert "profile" not in client.get(f"/v1/import-jobs/{plain['jobId']}/report").json()["data"]


def rows_of(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def test_the_annotated_csv_gives_every_source_row_with_its_outcome(client, spring):
    rows = rows_of(client.get(f"/v1/import-jobs/{spring['jobId']}/annotated.csv"))
    assert rows[0] == ["ID", "E-Mail", "plan", "lifetime_value", "_status", "_errors"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "5"]
    assert rows[2][:5] == ["2", "'=HYPERLINK(1)", "gold", "2", "rejected"]
    assert rows[2][5].startswith("email: invalid email format; plan: ")
    assert rows[3][3:5] == ["-5", "rejected"], "a plain negative number stays a number"


def test_the_error_file_as_csv_names_row_code_and_error_and_is_neutralised(client, spring):
    rows = rows_of(client.get(f"/v1/import-jobs/{spring['jobId']}/errors.csv"))
    assert rows[0] == ["rowNumber", "code", "error", "ID", "E-Mail", "plan", "lifetime_value"]
    assert rows[1] == ["2", "VALIDATION_TYPE_MISMATCH", "email: invalid email format", "2",
                       "'=HYPERLINK(1)", "gold", "2"]
    assert [r[0] for r in rows[1:]] == ["2", "3"]
    links = spring["links"]
    assert (links["annotatedRows"], links["errorsCsv"]) == (
        f"/v1/import-jobs/{spring['jobId']}/annotated.csv", f"/v1/import-jobs/{spring['jobId']}/errors.csv")


def test_exports_of_a_job_not_yet_validated_are_a_conflict(client):
    created = client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                   "fileSize": 10}).json()["data"]
    for name in ("annotated.csv", "errors.csv"):
        refused = client.get(f"/v1/import-jobs/{created['jobId']}/{name}")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "STATE.CONFLICT"
