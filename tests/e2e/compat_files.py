"""What the compatibility API tests share: a file with known defects and its exact outcome."""

from __future__ import annotations

import httpx

# Nine data rows; rows 1 and 9 are valid, each other row has one known defect.
DEFECTS_CSV = (
    b"id,email,first_name,country,plan\n"
    b"1,ann@example.com,Ann,US,pro\n"
    b"2,not-an-email,Bob,US,free\n"  # VALIDATION_TYPE_MISMATCH (email)
    b"3,cy@example.com,Cy,usa,pro\n"  # VALIDATION_CONSTRAINT_VIOLATION (country pattern)
    b"4,,Dee,FR,free\n"  # REQUIRED_FIELD_MISSING (email)
    b"1,ann2@example.com,Ann2,US,pro\n"  # DUPLICATE_KEY (id)
    b"5,eve@example.com,Eve,DE,gold\n"  # VALIDATION_CONSTRAINT_VIOLATION (plan enum)
    b"x,foo@example.com,Foo,US,pro\n"  # VALIDATION_TYPE_MISMATCH (id)
    b"6,gus@example.com,Gus,GB\n"  # MALFORMED_ROW (4 cells)
    b"7,hal@example.com,Hal,IT,enterprise\n"
)
DEFECTS_SUMMARY = {"VALIDATION_TYPE_MISMATCH": 2, "VALIDATION_CONSTRAINT_VIOLATION": 2,
                   "REQUIRED_FIELD_MISSING": 1, "DUPLICATE_KEY": 1, "MALFORMED_ROW": 1}
STORED = [{"id": 1, "email": "ann@example.com", "first_name": "Ann", "country": "US", "plan": "pro"},
          {"id": 7, "email": "hal@example.com", "first_name": "Hal", "country": "IT",
           "plan": "enterprise"}]
FIELD_MAP = {c: c for c in ("id", "email", "first_name", "country", "plan")}


def configuration(client: httpx.Client, **extra) -> str:
    """A profiles import configuration mapping the defects file's columns; its id."""
    created = client.post("/v1/import-configurations", json={
        "name": "profiles feed", "objectName": "profiles", "mapping": {"fieldMap": FIELD_MAP},
        **extra})
    assert created.status_code == 201, created.text
    return created.json()["data"]["id"]


def stored_records(client: httpx.Client) -> list[dict]:
    """The profiles records, reduced to the fields the defects file fills."""
    response = client.get("/v1/objects/profiles/records", params={"limit": 100})
    assert response.status_code == 200, response.text
    items = response.json()["data"]["records"]
    return sorted(({k: r[k] for k in FIELD_MAP} for r in items), key=lambda r: r["id"])


def assert_one_job_everywhere(server, native: httpx.Client, job_id: str, workspace: str) -> dict:
    """A compat job is a Lading job: `/v1` and `lading jobs show` give the same status, and
    the read models are what the events say. Returns the status."""
    import json

    status = native.get(f"/v1/import-jobs/{job_id}").json()["data"]
    assert json.loads(server.cli("jobs", "show", job_id, "--workspace", workspace, "--json")) == status
    assert server.cli("replay", "--check") == "read models match the event history"
    return status
