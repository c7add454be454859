"""SPEC §9.5: a Pigment (004) client works against /compat/pigment unchanged (push, trigger,
status with the detailed report, the legacy ApiPush), through a real `lading serve` whose jobs
run when `lading worker --once` is called."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.e2e.compat_files import DEFECTS_CSV, STORED, assert_one_job_everywhere, configuration, stored_records
from tests.e2e.http_server import LadingServer

WS = "acme"
DAILY = b"id,email,first_name,country,plan\n40,d1@example.com,D1,US,pro\n41,oops,D2,US,pro\n"


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sources")
    (folder / "feeds").mkdir()
    (folder / "feeds" / "daily.csv").write_bytes(DAILY)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory, sources):
    srv = LadingServer(tmp_path_factory.mktemp("pigment"), worker=False,
                       LADING_SOURCES_DIR=str(sources))
    srv.add_profiles(WS)
    srv.add_profiles("other")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def key(server):
    return server.key(WS)


@pytest.fixture(scope="module")
def native(server, key):
    with server.client(key) as c:
        yield c


@pytest.fixture(scope="module")
def pigment(server, key):
    with httpx.Client(base_url=f"{server.url}/compat/pigment",
                      headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def config_id(native):
    return configuration(native, sourceUrl="feeds/daily.csv")


def push(pigment: httpx.Client, config_id: str, content: bytes = DEFECTS_CSV, v1: bool = True) -> str:
    path = "/api/v1/import/push/csv" if v1 else "/api/import/push/csv"
    response = pigment.post(path, params={"configurationId": config_id}, content=content,
                            headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"importId"}
    return response.json()["importId"]


def status(pigment: httpx.Client, import_id: str, report: bool = False, v1: bool = True) -> dict:
    path = f"/api/v1/import/{import_id}/status" if v1 else f"/api/import/{import_id}/status"
    response = pigment.get(path, params={"includedDetailedReport": "true"} if report else {})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_pushed_csv_is_in_progress_then_completed_with_a_detailed_report_that_adds_up(
        server, native, pigment, config_id):
    import_id = push(pigment, config_id)
    running = status(pigment, import_id)
    assert running == {"importId": import_id, "createdAt": running["createdAt"], "completedAt": None,
                       "importStatus": "InProgress", "errorsDetails": []}

    server.cli("worker", "--once", "--workspace", WS)
    done = status(pigment, import_id, report=True)
    assert (done["importStatus"], done["errorsDetails"]) == ("Completed", [])
    assert done["completedAt"] >= done["createdAt"]
    report = done["detailedReport"]
    assert report["blockType"] == "List" and report["autoCreatedDimensionModalities"] == []
    assert report["summary"] == {"insertedCount": 2, "updatedCount": 0, "deletedCount": 0,
                                 "skippedCount": 7}
    [block] = report["impactedBlocks"]
    assert block["scenarioId"] is None
    assert (block["insertedCount"], block["updatedCount"], block["deletedCount"]) == (2, 0, 0)
    skipped = {(s["sourceColumnName"], s["reason"]): (s["count"], s["samples"])
               for s in block["skippedData"]}
    assert {k: v[0] for k, v in skipped.items()} == {
        ("email", "ParsingError"): 1, ("country", "InvalidValue"): 1, ("email", "MissingValue"): 1,
        ("id", "DuplicateKey"): 1, ("plan", "InvalidValue"): 1, ("id", "ParsingError"): 1,
        (None, "MalformedRow"): 1}
    assert sum(s["count"] for s in block["skippedData"]) == report["summary"]["skippedCount"]
    assert skipped[("email", "ParsingError")][1] == ["not-an-email"]
    assert skipped[("country", "InvalidValue")][1] == ["usa"]
    assert skipped[("plan", "InvalidValue")][1] == ["gold"]
    assert all(1 <= len(s["samples"]) <= 5 for s in block["skippedData"])
    assert stored_records(native) == STORED
    # The block is the object's stable id: the same for every import into it.
    again = push(pigment, config_id, b"id,email,first_name,country,plan\n1,ann@example.com,Ann,US,pro\n",
                 v1=False)
    server.cli("worker", "--once", "--workspace", WS)
    later = status(pigment, again, report=True, v1=False)["detailedReport"]
    assert later["impactedBlocks"][0]["blockId"] == block["blockId"]
    assert assert_one_job_everywhere(server, native, import_id, WS)["state"] == "completed"


def test_trigger_imports_the_configurations_source_url_as_it_is_now(server, pigment, config_id, native):
    triggered = pigment.post("/api/v1/import/trigger", params={"configurationId": config_id})
    assert triggered.status_code == 200, triggered.text
    import_id = triggered.json()["importId"]
    server.cli("worker", "--once", "--workspace", WS)
    assert status(pigment, import_id)["importStatus"] == "Completed"
    job = native.get(f"/v1/import-jobs/{import_id}").json()["data"]
    assert (job["fileName"], job["readRows"], job["validRows"]) == ("daily.csv", 2, 1)
    # Natively, and from the CLI without a file, the same configuration runs the same way.
    natively = native.post(f"/v1/import-configurations/{config_id}/trigger")
    assert natively.status_code == 201 and natively.json()["data"]["state"] == "queued"
    server.cli("worker", "--once", "--workspace", WS)
    cli = subprocess.run([sys.executable, "-m", "lading.entrypoints.cli", "import", "--config",
                          config_id, "--workspace", WS, "--json"], env=server.env,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert '"readRows": 2' in cli.stdout


def test_a_configuration_without_a_source_url_cannot_be_triggered(pigment, native):
    plain = configuration(native)
    refused = pigment.post("/api/import/trigger", params={"configurationId": plain})
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert set(refused.json()) == {"type", "title", "status", "detail"}
    assert refused.json()["status"] == 400


@pytest.mark.parametrize("source_url", ["../outside.csv", "/etc/passwd", "s3://bucket/key.csv",
                                        "https://example.com/a.csv"])
def test_a_source_url_outside_the_sources_dir_is_refused_when_saved(native, source_url):
    refused = native.post("/v1/import-configurations", json={
        "name": "bad", "objectName": "profiles", "sourceUrl": source_url})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "VALIDATION.REQUEST_INVALID"


def test_the_legacy_api_push_takes_x_pigment_api_key_and_counts_the_bytes(server, key, config_id):
    response = httpx.post(f"{server.url}/compat/pigment/api/importservice/Csv/ApiPush/{config_id}",
                          content=DAILY, headers={"X-Pigment-Api-Key": key, "Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"tranferLogId", "nbBytesPushed"} and body["nbBytesPushed"] == len(DAILY)
    server.cli("worker", "--once", "--workspace", WS)
    with httpx.Client(base_url=f"{server.url}/compat/pigment", headers={"X-Pigment-Api-Key": key}) as c:
        assert status(c, body["tranferLogId"])["importStatus"] == "Completed"


def test_a_failed_import_lists_its_error_code_and_message(server, pigment, config_id):
    import_id = push(pigment, config_id, b"id,email\n1,a@example.com\n")  # mapped columns missing
    server.cli("worker", "--once", "--workspace", WS)
    failed = status(pigment, import_id)
    assert failed["importStatus"] == "Failed"
    [detail] = failed["errorsDetails"]
    assert detail["name"] == "COLUMNS_MISSING" and "country" in detail["description"]


def test_refusals_are_problem_details(server, key, pigment, config_id):
    other_key = server.key("other")
    foreign_config = configuration(server.client(other_key))
    with httpx.Client(base_url=f"{server.url}/compat/pigment",
                      headers={"Authorization": f"Bearer {other_key}"}) as theirs:
        foreign_import = push(theirs, foreign_config)

    def problem(response: httpx.Response) -> tuple[int, int]:
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert set(body) == {"type", "title", "status", "detail"}
        return response.status_code, body["status"]

    assert problem(httpx.get(f"{server.url}/compat/pigment/api/v1/import/{foreign_import}/status")) == (401, 401)
    assert problem(pigment.get(f"/api/v1/import/{foreign_import}/status")) == (404, 404)
    assert problem(pigment.post("/api/v1/import/push/csv", params={"configurationId": foreign_config},
                                content=DAILY)) == (404, 404)
    assert problem(pigment.post("/api/v1/import/push/csv", content=DAILY)) == (400, 400)
    assert problem(pigment.get("/api/v1/import/not-an-id/status")) == (404, 404)
    read_only = server.key(WS, "imports:read")
    assert problem(httpx.post(f"{server.url}/compat/pigment/api/v1/import/trigger",
                              params={"configurationId": config_id},
                              headers={"Authorization": f"Bearer {read_only}"})) == (403, 403)
    server.cli("worker", "--once", "--workspace", "other")


def test_every_pigment_route_is_in_the_openapi_document_with_a_csv_body(server):
    spec = httpx.get(f"{server.url}/schema/openapi.json").json()
    ops = {(p.removeprefix("/compat/pigment"), m): op for p, item in spec["paths"].items()
           for m, op in item.items() if p.startswith("/compat/pigment/")}
    assert set(ops) == {
        ("/api/v1/import/push/csv", "post"), ("/api/import/push/csv", "post"),
        ("/api/v1/import/trigger", "post"), ("/api/import/trigger", "post"),
        ("/api/v1/import/{import_id}/status", "get"), ("/api/import/{import_id}/status", "get"),
        ("/api/importservice/Csv/ApiPush/{configuration_id}", "post")}
    assert all(op["tags"] == ["compat: Pigment"] for op in ops.values())
    for path in ("/api/v1/import/push/csv", "/api/importservice/Csv/ApiPush/{configuration_id}"):
        assert "text/csv" in ops[(path, "post")]["requestBody"]["content"]


def test_a_rate_limited_call_is_a_429_problem_with_retry_after(tmp_path):
    srv = LadingServer(tmp_path / "rate", worker=False, LADING_RATE_LIMIT="1")
    key = srv.key(WS)
    srv.start()
    try:
        url = f"{srv.url}/compat/pigment/api/v1/import/00000000-0000-0000-0000-000000000000/status"
        answers = [httpx.get(url, headers={"X-Pigment-Api-Key": key}) for _ in range(2)]
        assert [a.status_code for a in answers] == [404, 429]
        assert answers[1].headers["content-type"].startswith("application/problem+json")
        assert answers[1].json()["status"] == 429 and int(answers[1].headers["Retry-After"]) >= 1
    finally:
        srv.stop()
