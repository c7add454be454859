"""The docs page at /schema in a real headless Chromium: Swagger UI from the server's own files
(nothing from the network), every operation listed, and "try it" calling the API with a key."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.e2e.test_console import browser  # noqa: F401  (the module's Chromium fixture)


def test_the_docs_page_loads_only_from_its_server_and_tries_a_call_with_a_key(server, browser):  # noqa: F811
    key = server.key("acme", "imports:read")
    page = browser.new_page()
    origins: set[str] = set()
    page.on("request", lambda r: origins.add(f"{urlsplit(r.url).scheme}://{urlsplit(r.url).netloc}"))
    page.goto(f"{server.url}/schema")
    page.wait_for_selector("#operations-import_jobs-createImportJob", timeout=15_000)
    assert page.locator(".opblock").count() > 50
    assert page.locator("h3.opblock-tag", has_text="compat: Pigment").count() == 1

    page.click("button.authorize")
    page.fill(".auth-container input[type=text] >> nth=0", key)
    page.click(".auth-container button.authorize >> nth=0")
    page.click("button.btn-done")
    page.click("#operations-objects-listObjects .opblock-summary")
    page.click("#operations-objects-listObjects button.execute")
    live = "#operations-objects-listObjects .live-responses-table"
    status = page.wait_for_selector(f"{live} tbody .response-col_status", timeout=15_000)
    assert status.inner_text().strip().startswith("200")
    assert '"profiles"' in page.inner_text(live)
    assert origins == {server.url}, origins
    page.close()
