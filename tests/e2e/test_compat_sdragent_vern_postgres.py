"""SDR agent and Vern on PostgreSQL (event store, destination, catalog, configurations): one
flow of each, finished by `lading worker --once`, with the counters they have on SQLite."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.http_server import LadingServer
from tests.e2e.test_compat_vern import PART_1, PART_2

pytestmark = pytest.mark.postgres
WS = "pg"
FIELD_MAP = {"id": "id", "email": "email", "country": "country", "plan": "plan"}
CONTACTS = [{"id": 1, "email": "ana@example.com", "country": "ES", "plan": "free"},
            {"id": 2, "email": "not-an-email", "country": "FR", "plan": "pro"}]


def test_an_sdragent_cohort_and_a_vern_run_of_two_files_on_postgresql(tmp_path, postgres_url):
    server = LadingServer(tmp_path / "home", worker=False, LADING_EVENT_STORE=postgres_url,
                          LADING_DESTINATION=postgres_url)
    server.add_profiles(WS)
    key = server.key(WS)
    server.start()
    try:
        with server.client(key) as native:
            made = native.post("/v1/import-configurations", json={
                "name": "sdr", "objectName": "profiles", "mapping": {"fieldMap": FIELD_MAP}})
            config_id = made.json()["data"]["id"]
        with httpx.Client(base_url=f"{server.url}/compat/sdragent/{config_id}",
                          headers={"X-API-Key": key}) as sdr:
            cohort = sdr.post("/imports/", json={"source": "pg", "status": "processing"}).json()
            assert cohort["status"] == "processing"
            assert sdr.post("/contacts/bulk-upload",
                            json={"import_id": cohort["id"], "contacts": CONTACTS}).status_code == 202
        with httpx.Client(base_url=f"{server.url}/compat/vern", headers={"x-api-key": key}) as vern:
            body = {"name": "pg-co", "external_id": "pg-co", "template_ids": ["profiles"], "source": config_id}
            company = vern.post("/api/v1/companies", json=body)
            assert company.status_code == 201
            assert vern.post("/api/v1/companies", json=body).json() == company.json()
            company_id = company.json()["company"]["id"]
            refs = []
            for name, content in (("p1.csv", PART_1), ("p2.csv", PART_2)):
                slot = vern.post(f"/api/v1/companies/{company_id}/uploads",
                                 json={"name": name, "content_type": "text/csv", "size": len(content)}).json()
                assert httpx.put(slot["upload_url"], content=content,
                                 headers={"Content-Type": "text/csv"}).status_code == 200
                refs.append({"name": name, "upload_ref": slot["upload_ref"]})
            run = vern.post(f"/api/v1/companies/{company_id}/imports", json={"files": refs}).json()
            assert vern.post(f"/api/v1/companies/{company_id}/imports", json={"files": refs}).status_code == 409

            server.cli("worker", "--once", "--workspace", WS)
            done = vern.get(run["poll_url"]).json()
            assert done["status"] == "completed"
            assert (done["report"]["inserted"], done["report"]["invalidCellCount"]) == (2, 3)
            every = vern.get(f"/api/v1/companies/{company_id}/export.csv", params={"filter": "all"})
            assert [line.split(",")[-2] for line in every.text.splitlines()[1:]] == [
                "valid", "rejected", "rejected", "valid", "rejected"]
        with httpx.Client(base_url=f"{server.url}/compat/sdragent/{config_id}",
                          headers={"X-API-Key": key}) as sdr:
            finished = sdr.get(f"/imports/{cohort['id']}").json()
            assert (finished["status"], finished["total_rows"]) == ("completed", 2)
        assert "read models match" in server.cli("replay", "--check")
    finally:
        server.stop()
