"""The API on PostgreSQL (event store, destination, catalog, templates, work queue): 50
concurrent starts still admit exactly 10, and `lading worker --once` finishes them."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.e2e.http_server import LadingServer

pytestmark = pytest.mark.postgres
ROW = {"email": "a@example.com", "plan": "pro"}


def test_fifty_concurrent_starts_admit_ten_on_postgresql_and_a_worker_finishes_them(tmp_path, postgres_url):
    server = LadingServer(tmp_path / "home", worker=False, LADING_EVENT_STORE=postgres_url,
                          LADING_DESTINATION=postgres_url)
    server.add_profiles("pg")
    key = server.key("pg")
    server.start()
    try:
        with server.client(key) as c:
            ids = []
            for i in range(50):
                job_id = c.post("/v1/import-jobs", json={"objectName": "profiles",
                                                         "rows": [{**ROW, "id": i}]}).json()["data"]["jobId"]
                assert c.post(f"/v1/import-jobs/{job_id}/mapping", json={}).status_code == 200
                ids.append(job_id)
            template = c.post("/v1/mapping-templates", json={"name": "t", "objectName": "profiles",
                                                             "mapping": {"operation": "upsert"}})
            assert template.status_code == 201, template.text
            assert c.get(f"/v1/mapping-templates/{template.json()['data']['id']}").status_code == 200

        async def start_all() -> list[int]:
            async with httpx.AsyncClient(base_url=server.url, timeout=120,
                                         headers={"Authorization": f"Bearer {key}"}) as ac:
                responses = await asyncio.gather(*(ac.post(f"/v1/import-jobs/{j}/start") for j in ids))
                return [r.status_code for r in responses]

        statuses = asyncio.run(start_all())
        assert (statuses.count(200), statuses.count(409)) == (10, 40), sorted(statuses)
        server.cli("worker", "--once", "--workspace", "pg")
        with server.client(key) as c:
            done = c.get("/v1/import-jobs", params={"state": "completed", "limit": 100}).json()["data"]["items"]
            assert len(done) == 10
            assert c.get("/v1/objects/profiles").json()["data"]["recordCount"] == 10
    finally:
        server.stop()
