"""Reads that scale (issue 16.8): `GET /v1/objects/{name}/records` pages past 10,000 records
with a cursor, and `lading records` streams every record, through a real server and CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.http_server import upload_job, wait_for_state

WS = "acme"
RECORDS = 12_345
HEADER = "id,email,first_name,last_name,country,signup_ts,birth_date,lifetime_value,is_active,plan,notes\n"


@pytest.fixture(scope="module")
def stored(client):
    rows = "".join(f"{i},u{i}@example.com,F,L,US,2020-01-01T00:00:00Z,1990-01-01,1.50,true,free,\n"
                   for i in range(RECORDS, 0, -1))
    job_id = upload_job(client, "profiles", (HEADER + rows).encode())
    assert wait_for_state(client, job_id, {"completed", "failed"})["validRows"] == RECORDS


def test_records_page_past_ten_thousand_with_a_cursor(client, stored):
    ids, cursor, pages = [], None, 0
    while True:
        params = {"limit": 10_000} | ({"cursor": cursor} if cursor else {})
        response = client.get("/v1/objects/profiles/records", params=params)
        assert response.status_code == 200, response.text
        page = response.json()["data"]
        assert page["count"] == len(page["records"])
        ids += [r["id"] for r in page["records"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == 2 and ids == list(range(1, RECORDS + 1))


def test_a_page_that_ends_at_the_last_record_has_no_next_cursor(client, stored):
    size, cursor, cursors = RECORDS // 5, None, []
    for _ in range(5):
        params = {"limit": size} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/objects/profiles/records", params=params).json()["data"]
        assert page["count"] == size
        cursor = page["nextCursor"]
        cursors.append(cursor)
    assert cursors[-1] is None and None not in cursors[:-1]


@pytest.mark.parametrize("cursor", ["not-a-cursor", "WyJ4Il0", "W10", "WzEsMl0"])  # ["x"], [], [1,2]
def test_a_cursor_that_is_not_a_key_of_the_object_is_a_400(client, stored, cursor):
    response = client.get("/v1/objects/profiles/records", params={"cursor": cursor})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION.REQUEST_INVALID"


def test_lading_records_streams_every_record_without_a_cap(server, stored):
    cli = [sys.executable, "-m", "lading.entrypoints.cli", "records", "profiles", "--workspace", WS]
    done = subprocess.run([*cli, "--json"], env=server.env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert [r["id"] for r in records] == list(range(1, RECORDS + 1))
    assert records[0]["email"] == "u1@example.com"
    lines = done.stdout.splitlines()
    assert len(lines) == RECORDS + 2, "one record a line, between the brackets"
    table = subprocess.run(cli + ["--limit", "3"], env=server.env, capture_output=True, text=True,
                           timeout=120, check=False)
    assert table.returncode == 0, table.stderr
    assert [line.split("\t")[0] for line in table.stdout.splitlines()] == ["id", "1", "2", "3"]
