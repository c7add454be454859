"""The compatibility APIs on PostgreSQL (event store, destination, catalog, configurations):
one flow of each, finished by `lading worker --once`, with the same counters as on SQLite."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.compat_files import DEFECTS_CSV, FIELD_MAP, configuration
from tests.e2e.http_server import LadingServer

pytestmark = pytest.mark.postgres
WS = "pg"


def test_experiture_userpilot_and_pigment_flows_on_postgresql(tmp_path, postgres_url):
    server = LadingServer(tmp_path / "home", worker=False, LADING_EVENT_STORE=postgres_url,
                          LADING_DESTINATION=postgres_url)
    server.add_profiles(WS)
    key = server.key(WS)
    server.start()
    try:
        with server.client(key) as native:
            config_id = configuration(native)
            base = "/compat/experiture/public/v1/import-jobs"
            slot = native.post(base, json={"objectName": "profiles", "fileName": "d.csv",
                                           "fileSize": len(DEFECTS_CSV)}).json()["data"]
            assert httpx.put(slot["uploadUrl"], content=DEFECTS_CSV).status_code == 200
            assert native.post(f"{base}/{slot['jobId']}/mapping", json={"fieldMap": FIELD_MAP}).status_code == 200
            assert native.post(f"{base}/{slot['jobId']}/start").status_code == 200

            userpilot = f"{server.url}/compat/userpilot/{config_id}/v1"
            token = {"Authorization": f"Token {key}"}
            files = {"file": ("u.csv", DEFECTS_CSV, "text/csv")}
            accepted = httpx.post(f"{userpilot}/imports", headers=token, files=files)
            assert accepted.status_code == 200, accepted.text
            assert httpx.post(f"{userpilot}/imports", headers=token, files=files).status_code == 409

            pushed = native.post("/compat/pigment/api/v1/import/push/csv", content=DEFECTS_CSV,
                                 params={"configurationId": config_id})
            assert pushed.status_code == 200, pushed.text

            server.cli("worker", "--once", "--workspace", WS)
            exp = native.get(f"{base}/{slot['jobId']}").json()["data"]
            assert (exp["state"], exp["readRows"], exp["validRows"], exp["invalidRows"]) == ("completed", 9, 2, 7)
            polled = httpx.get(f"{userpilot}/background_jobs/{accepted.json()['job_id']}", headers=token).json()
            assert (polled["status"], polled["total_rows"], polled["completed_rows"]) == ("completed", 9, 2)
            report = native.get(f"/compat/pigment/api/v1/import/{pushed.json()['importId']}/status",
                                params={"includedDetailedReport": "true"}).json()
            assert report["importStatus"] == "Completed"
            assert report["detailedReport"]["summary"]["skippedCount"] == 7
            assert sum(s["count"] for s in report["detailedReport"]["impactedBlocks"][0]["skippedData"]) == 7
        assert "read models match" in server.cli("replay", "--check")
    finally:
        server.stop()
