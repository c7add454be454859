"""The web console (SPEC §8) in a real headless Chromium against a real `lading serve`.

The browser is the Debian `chromium` package driven by Playwright (a browser download is not
possible here). Without it the tests skip on a developer machine and fail in CI. Screenshots
of each page land in the test's tmp folder (`console-screenshots*`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest

from tests.builders import generate_profiles
from tests.e2e.http_server import LadingServer, upload_job, wait_for_state

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WS, OTHER_WS = "acme", "elsewhere"
XSS = "<img src=x onerror=alert(1)>"
JWT_KEY = "console-jwt-hs256-key-for-tests-0123456789"
HEADER = "id,email,first_name,last_name,country,signup_ts,birth_date,lifetime_value,is_active,plan,notes\n"


def line(i: int, email: str | None = None, plan: str = "free") -> str:
    email = f"user{i}@example.com" if email is None else email
    return f"{i},{email},F{i},L{i},US,2020-01-0{1 + i % 9}T00:00:00Z,1990-01-01,{i}.50,true,{plan},\n"


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the console's browser tests need {reason} in CI")
    pytest.skip(f"no {reason}")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _missing(f"a Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LadingServer(tmp_path_factory.mktemp("console"), LADING_JWT_KEY=JWT_KEY)
    srv.add_profiles(WS)
    srv.add_profiles(OTHER_WS)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def keys(server):
    return {"writer": server.key(WS), "reader": server.key(WS, "imports:read"),
            "other": server.key(OTHER_WS)}


@pytest.fixture(scope="module")
def api(server, keys):
    with server.client(keys["writer"]) as client:
        yield client


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("console-screenshots")


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


def sign_in(page, server, key: str, then: str = "/console/jobs") -> None:
    page.goto(f"{server.url}{then}")
    assert "/console/sign-in" in page.url  # every page asks for a key first
    page.fill("#credential", key)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{server.url}{then}")


def test_a_person_uploads_a_messy_file_remaps_a_column_and_watches_it_complete(
        context, server, api, keys, shots, tmp_path):
    from playwright.sync_api import expect

    messy = tmp_path / "messy-profiles.csv"
    expected = generate_profiles(20_000, messy)
    editor = context.new_page()
    sign_in(editor, server, keys["writer"])

    editor.goto(f"{server.url}/console/imports/new")
    editor.select_option("#object", "profiles")
    editor.set_input_files("#file", str(messy))
    expect(editor.locator("#chosen")).to_contain_text("messy-profiles.csv")
    editor.click("#upload")
    editor.wait_for_url(re.compile(r".*/console/jobs/[0-9a-f-]{36}/mapping$"))
    job_id = editor.url.split("/")[-2]

    # The editor shows the columns Lading read, their samples and a suggestion for each.
    notes = editor.locator('tr[data-column="notes"]')
    expect(notes.locator('[data-role="field"]')).to_have_value("notes")
    expect(editor.locator('tr[data-column="email"] [data-role="predicted"]')).to_contain_text("%")
    expect(editor.locator("#prediction-note")).to_contain_text("of the first 1,000 rows would be valid")
    expect(editor.locator(".detected")).to_contain_text("CSV")
    expect(editor.locator("#preview tbody tr")).to_have_count(20)
    notes.locator('[data-role="field"]').select_option("")  # the one change: skip the notes
    expect(notes.locator('[data-role="predicted"]')).to_have_text("—")
    editor.screenshot(path=str(shots / "mapping.png"), full_page=True)

    # A second tab on the jobs list follows the job live, without reloading.
    jobs = context.new_page()
    jobs.goto(f"{server.url}/console/jobs")
    row = jobs.locator(f'tr[data-job-id="{job_id}"]')
    expect(row.locator('[data-role="state"]')).to_have_text("pending")

    editor.click("#start")
    editor.wait_for_url(f"{server.url}/console/jobs/{job_id}")
    expect(row.locator('[data-role="state"]')).to_have_text("completed", timeout=120_000)
    expect(row.locator('[data-role="percent"]')).to_have_text("100.0 %")
    expect(row.locator('[data-role="progress"]')).to_have_attribute("value", "100")
    jobs.screenshot(path=str(shots / "jobs.png"), full_page=True)

    status = wait_for_state(api, job_id, {"completed"})
    assert (status["readRows"], status["validRows"]) == (20_000, expected["valid_rows"])
    expect(row.locator('[data-role="validRows"]')).to_have_text(f"{expected['valid_rows']:,}")
    mapped = [e for e in api.get(f"/v1/import-jobs/{job_id}/events").json()["data"]
              if e["type"] == "Mapped"][0]
    assert "notes" not in mapped["data"]["plan"]["fieldMap"]

    # The job page reloads itself once the job is done, then shows the whole report.
    expect(editor.locator("#job .state")).to_have_text("completed", timeout=60_000)
    expect(editor.locator(".counters")).to_contain_text(f"{status['invalidRows']:,}")
    expect(editor.locator("#timeline")).to_contain_text("Completed")
    bars = editor.locator("ul.chart li")
    expect(bars).to_have_count(len(status["errorSummary"]))
    top_code, top_count = max(status["errorSummary"].items(), key=lambda kv: kv[1])
    expect(bars.first).to_contain_text(top_code)
    expect(bars.first.locator("rect")).to_have_attribute("width", "100.0")
    expect(bars.first.locator(".bar-count")).to_have_text(f"{top_count:,}")
    editor.screenshot(path=str(shots / "job.png"), full_page=True)
    editor.screenshot(path=str(shots / "job-first-screen.png"))

    editor.select_option("#filter-code", "VALIDATION_TYPE_MISMATCH")
    editor.click("#errors button[type=submit]")
    editor.wait_for_url(re.compile(r".*code=VALIDATION_TYPE_MISMATCH.*"))
    codes = editor.locator("#error-rows tbody tr td:nth-child(2)").all_inner_texts()
    assert codes and set(codes) == {"VALIDATION_TYPE_MISMATCH"}
    error_file = httpx.get(api.get(f"/v1/import-jobs/{job_id}/errors").json()["data"]["errorFileUrl"])
    first = next(r for r in map(json.loads, error_file.text.splitlines())
                 if any(e["code"] == "VALIDATION_TYPE_MISMATCH" for e in r["errors"]))
    first_row = editor.locator("#error-rows tbody tr").first.locator("td").first
    assert first_row.inner_text() == str(first["rowNumber"])

    with editor.expect_download() as download:
        editor.click('a[data-download="Valid rows (CSV)"]')
    from_console = Path(download.value.path()).read_bytes()
    assert from_console == api.get(f"/v1/import-jobs/{job_id}/valid-rows.csv").content
    assert from_console.count(b"\n") == expected["valid_rows"] + 1

    # Every row with its outcome: the API's annotated CSV, which `lading jobs export --rows all`
    # writes too.
    with editor.expect_download() as download:
        editor.click('a[data-download^="Annotated CSV"]')
    annotated = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename == f"{job_id}-annotated.csv"
    assert annotated == api.get(f"/v1/import-jobs/{job_id}/annotated.csv").text
    assert annotated.strip() == server.cli("jobs", "export", job_id, "--rows", "all", "--workspace", WS)
    rows = list(csv.reader(io.StringIO(annotated)))
    assert rows[0][-2:] == ["_status", "_errors"] and len(rows) == 20_001
    assert sum(r[-2] == "rejected" for r in rows[1:]) == status["invalidRows"]

    # What happened to each row, in source order: the API's per-row results file.
    with editor.expect_download() as download:
        editor.click('a[data-download^="Per-row results"]')
    results = Path(download.value.path()).read_bytes()
    signed = api.get(f"/v1/import-jobs/{job_id}/results").json()["data"]["resultsFileUrl"]
    assert results == httpx.get(signed).content
    lines = [json.loads(line) for line in results.splitlines()]
    assert len(lines) == 20_000 and sorted(r["rowNumber"] for r in lines) == [r["rowNumber"] for r in lines]
    assert sum(r["outcome"] == "rejected" for r in lines) == status["invalidRows"]

    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(f"{server.url}/console/jobs/{job_id}")
    phone.screenshot(path=str(shots / "job-phone.png"))
    phone.locator("#errors").scroll_into_view_if_needed()
    phone.screenshot(path=str(shots / "job-phone-errors.png"))


def test_a_review_job_pauses_and_the_approved_proposal_recovers_its_rows(context, server, api, keys,
                                                                        shots):
    from playwright.sync_api import expect

    content = (HEADER + "".join(line(i) for i in range(1, 9)) + line(9, plan="enterprize")
               + line(10, plan="enterprize") + line(11, email=XSS)).encode()
    job_id = upload_job(api, "profiles", content, file_name="review.csv",
                        mapping={"reviewPolicy": "review_on_errors"})
    assert wait_for_state(api, job_id, {"needs_attention", "completed", "failed"})["state"] == \
        "needs_attention"
    page = context.new_page()
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    sign_in(page, server, keys["writer"], then=f"/console/jobs/{job_id}")

    proposal = page.locator("#proposal")
    expect(proposal).to_contain_text("plan · recovers 2 rows")
    expect(proposal.locator('input[name="enum-0-0"]')).to_have_value("enterprise")
    # A value from the file is text on the page, never markup.
    cell = page.locator("#error-rows td.value", has_text=XSS)
    expect(cell).to_have_count(1)
    assert page.locator("#error-rows img").count() == 0
    page.screenshot(path=str(shots / "needs-attention.png"), full_page=True)

    page.click("#approve")
    page.wait_for_url(f"{server.url}/console/jobs/{job_id}")
    expect(page.locator("#job .state")).to_have_text("completed", timeout=60_000)
    done = wait_for_state(api, job_id, {"completed"})
    assert (done["planVersion"], done["validRows"], done["invalidRows"]) == (2, 10, 1)
    expect(page.locator("#timeline")).to_contain_text("FixApproved")
    assert alerts == []


def test_a_read_only_key_sees_no_upload_and_its_write_calls_are_refused(context, server, api, keys):
    from playwright.sync_api import expect

    job_id = api.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "r.csv",
                                               "fileSize": 10}).json()["data"]["jobId"]
    page = context.new_page()
    sign_in(page, server, keys["reader"])
    expect(page.locator(".who")).to_contain_text("read only")
    assert page.locator("#nav-new-import").count() == 0
    assert page.get_by_text("New import").count() == 0
    page.goto(f"{server.url}/console/jobs/{job_id}")
    assert page.locator("#cancel").count() == 0

    # Reading is allowed: the object's schema as a table and its records, a page at a time.
    two = upload_job(api, "profiles", (HEADER + line(901) + line(902)).encode(), file_name="two.csv")
    wait_for_state(api, two, {"completed"})
    info = api.get("/v1/objects/profiles").json()["data"]
    page.goto(f"{server.url}/console/objects/profiles")
    expect(page.locator("#schema tbody tr")).to_have_count(len(info["schema"]["fields"]))
    expect(page.locator("#records tbody tr")).to_have_count(min(50, info["recordCount"]))
    assert page.get_by_text("Import into it").count() == 0

    refused = page.goto(f"{server.url}/console/imports/new")
    assert refused.status == 403
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    cancel = page.request.post(f"{server.url}/console/jobs/{job_id}/cancel",
                               form={"_csrf_token": token}, max_redirects=0)
    assert cancel.status == 403
    upload = page.request.post(f"{server.url}/console/api/jobs", headers={"x-csrftoken": token},
                               data={"objectName": "profiles", "fileName": "a.csv", "fileSize": 5})
    assert upload.status == 403 and upload.json()["error"]["code"] == "AUTH.FORBIDDEN"
    assert wait_for_state(api, job_id, {"pending"})["state"] == "pending"


def test_another_workspaces_job_id_gives_the_not_found_page(context, server, api, keys):
    job_id = api.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "mine.csv",
                                               "fileSize": 10}).json()["data"]["jobId"]
    page = context.new_page()
    sign_in(page, server, keys["other"])
    answer = page.goto(f"{server.url}/console/jobs/{job_id}")
    assert answer.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert "mine.csv" not in page.content()
    progress = page.request.get(f"{server.url}/console/api/jobs/progress?ids={job_id}")
    assert progress.json()["data"] == []


def _signed_in_client(server, key: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=server.url, timeout=30)
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/console/sign-in").text)[1]
    signed = client.post("/console/sign-in", data={"credential": key, "_csrf_token": token})
    assert signed.status_code == 303, signed.text
    return client, token


def test_posts_without_a_csrf_token_are_refused(server, api, keys):
    job_id = api.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "c.csv",
                                               "fileSize": 10}).json()["data"]["jobId"]
    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        anonymous.get("/console/sign-in")
        assert anonymous.post("/console/sign-in", data={"credential": keys["writer"]}).status_code == 403
    client, token = _signed_in_client(server, keys["writer"])
    try:
        assert client.get("/console/jobs").status_code == 200
        assert client.post(f"/console/jobs/{job_id}/cancel").status_code == 403
        assert client.post(f"/console/jobs/{job_id}/cancel",
                           data={"_csrf_token": "forged"}).status_code == 403
        refused = client.post("/console/api/jobs", json={"objectName": "profiles", "fileName": "a",
                                                         "fileSize": 1})
        assert refused.status_code == 403
        assert wait_for_state(api, job_id, {"pending"})["state"] == "pending"
        assert client.post(f"/console/jobs/{job_id}/cancel",
                           data={"_csrf_token": token}).status_code == 303
        assert wait_for_state(api, job_id, {"cancelled"})["state"] == "cancelled"
    finally:
        client.close()


def test_the_session_cookie_is_httponly_strict_and_new_at_each_sign_in(server, keys):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        page = client.get("/console/sign-in")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)[1]
        planted = "f" * 64
        client.cookies.set("lading_session", planted, domain="127.0.0.1", path="/console")
        signed = client.post("/console/sign-in", data={"credential": keys["writer"], "_csrf_token": token})
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
        assert planted not in cookie
        with httpx.Client(base_url=server.url, timeout=30) as intruder:
            intruder.cookies.set("lading_session", planted, domain="127.0.0.1", path="/console")
            assert intruder.get("/console/jobs").status_code == 303  # the planted id is no session
        client.post("/console/sign-out", data={"_csrf_token": token})
        assert client.get("/console/jobs").status_code == 303  # signed out: back to sign-in


def test_a_jwt_signs_in_for_its_workspace_and_an_expired_one_is_refused(server):
    def token(seconds: int) -> str:
        return jwt.encode({"exp": int(time.time()) + seconds, "workspace": OTHER_WS,
                           "scope": "imports:read", "sub": "ada"}, JWT_KEY, algorithm="HS256")

    with httpx.Client(base_url=server.url, timeout=30) as client:
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/console/sign-in").text)[1]
        expired = client.post("/console/sign-in", data={"credential": token(-10), "_csrf_token": csrf})
        assert expired.status_code == 401 and "token expired" in expired.text
        signed = client.post("/console/sign-in", data={"credential": token(300), "_csrf_token": csrf})
        assert signed.status_code == 303
        jobs = client.get("/console/jobs")
        assert jobs.status_code == 200
        assert f"workspace <strong>{OTHER_WS}</strong> · read only" in jobs.text


def test_the_magic_link_imports_through_a_saved_configuration_with_its_mapping_filled_in(
        context, server, api, keys, shots, tmp_path):
    from playwright.sync_api import expect

    made = api.post("/v1/import-configurations", json={
        "name": "Partner feed", "objectName": "profiles",
        "mapping": {"fieldMap": {"id": "id", "mail": "email", "remark": "notes"},
                    "importMode": "landing_friendly", "reviewPolicy": "review_on_errors"}})
    assert made.status_code == 201, made.text
    config_id = made.json()["data"]["id"]
    vern = httpx.post(f"{server.url}/compat/vern/api/v1/companies", headers={"x-api-key": keys["writer"]},
                      json={"name": "Partner", "external_id": "partner-1", "source": config_id,
                            "template_ids": ["profiles"]}, timeout=30).json()
    link = vern["magic_link_url"]
    assert link.startswith(f"{server.url}/console/imports/new?configuration=")
    company_id = vern["company"]["id"]
    feed = tmp_path / "feed.csv"
    feed.write_text("id,mail,remark,plan\n71,a71@example.com,first,pro\n72,a72@example.com,<b>x</b>,free\n")

    page = context.new_page()
    sign_in(page, server, keys["writer"], then=link.removeprefix(server.url))
    expect(page.locator("#configuration")).to_have_value(company_id)
    expect(page.locator("#object")).to_be_disabled()
    expect(page.locator("#object")).to_have_value("profiles")
    page.set_input_files("#file", str(feed))
    page.screenshot(path=str(shots / "new-import-configuration.png"), full_page=True)
    page.click("#upload")
    page.wait_for_url(re.compile(r".*/console/jobs/[0-9a-f-]{36}/mapping$"))
    job_id = page.url.split("/")[-2]

    # The editor starts from the configuration's plan, not from suggestions: `plan` is left out.
    expect(page.locator("#preset")).to_contain_text("Partner")
    for column, field in {"id": "id", "mail": "email", "remark": "notes", "plan": ""}.items():
        expect(page.locator(f'tr[data-column="{column}"] [data-role="field"]')).to_have_value(field)
    expect(page.locator("#import-mode")).to_have_value("landing_friendly")
    expect(page.locator("#review-policy")).to_have_value("review_on_errors")
    page.screenshot(path=str(shots / "mapping-from-configuration.png"), full_page=True)
    page.click("#start")
    page.wait_for_url(f"{server.url}/console/jobs/{job_id}")
    expect(page.locator("#job .state")).to_have_text("completed", timeout=60_000)

    done = wait_for_state(api, job_id, {"completed"})
    assert f"configuration:{company_id}" in done["labels"] and done["validRows"] == 2
    mapped = [e for e in api.get(f"/v1/import-jobs/{job_id}/events").json()["data"]
              if e["type"] == "Mapped"][0]["data"]["plan"]
    assert (mapped["fieldMap"], mapped["importMode"]) == (
        {"id": "id", "mail": "email", "remark": "notes"}, "landing_friendly")
    # The person's import is one of the company's runs, as the Vern client sees them.
    run = httpx.get(f"{server.url}/compat/vern/api/v1/companies/{company_id}/imports/{job_id}",
                    headers={"x-api-key": keys["writer"]}, timeout=30)
    assert run.status_code == 200 and run.json()["status"] == "completed"


def test_a_several_file_job_page_names_its_files_and_which_arrived(server, api, keys):
    made = api.post("/v1/import-jobs", json={"objectName": "profiles", "files": [
        {"fileName": "part-1.csv", "fileSize": 4}, {"fileName": f"{XSS}.csv", "fileSize": 3}]})
    slot = made.json()["data"]
    second = slot["uploads"][1]
    assert httpx.put(second["uploadUrl"], content=b"id\n", headers=second["headers"]).status_code == 200
    client, _ = _signed_in_client(server, keys["reader"])
    try:
        page = client.get(f"/console/jobs/{slot['jobId']}").text
        files = re.search(r'<p class="sub" id="source-files">(.*?)</p>', page, re.S)[1]
        assert "1 of 2 files uploaded" in files and "<code>part-1.csv</code> not yet" in files
        assert "&lt;img src=x onerror=alert(1)&gt;.csv</code> received" in files and "<img" not in files
    finally:
        client.close()


def test_a_job_whose_rows_are_not_validated_offers_no_annotated_csv_and_refuses_one(server, api, keys):
    job_id = api.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "later.csv",
                                               "fileSize": 10}).json()["data"]["jobId"]
    client, _ = _signed_in_client(server, keys["reader"])
    try:
        assert "annotated.csv" not in client.get(f"/console/jobs/{job_id}").text
        refused = client.get(f"/console/jobs/{job_id}/annotated.csv")
        assert refused.status_code == 409 and "validation has not ended" in refused.text
        assert client.get(f"/console/jobs/{uuid.uuid4()}/annotated.csv").status_code == 404
    finally:
        client.close()
