"""Lists through a real `lading serve`: createList fills a new list with the merged keys,
targetListId adds to it, members page with a cursor, and nothing crosses workspaces."""

from __future__ import annotations

import pytest

from tests.e2e.http_server import imported

WS = "acme"
SERVER_WORKSPACES = (WS, "globex")
HEADER = "id,email,first_name,last_name,country,signup_ts,birth_date,lifetime_value,is_active,plan,notes\n"


def csv_of(ids, bad_email_ids=()) -> bytes:
    lines = [f"{i},{'broken' if i in bad_email_ids else f'u{i}@example.com'},F,L,US,"
             f"2020-01-01T00:00:00Z,1990-01-01,1.50,true,free,\n" for i in ids]
    return (HEADER + "".join(lines)).encode()



@pytest.fixture(scope="module")
def spring(client):
    status = imported(client, csv_of([5, 3, 4, 1, 2], bad_email_ids={4}),
                      createList=True, listName="Spring campaign")
    assert status["state"] == "completed" and status["validRows"] == 4
    return status["listId"]


def test_create_list_makes_a_list_of_exactly_the_merged_keys(client, spring):
    info = client.get(f"/v1/lists/{spring}").json()["data"]
    assert info == {"listId": spring, "name": "Spring campaign", "objectName": "profiles",
                    "createdAt": info["createdAt"], "memberCount": 4}
    members = client.get(f"/v1/lists/{spring}/members").json()["data"]
    assert members["members"] == [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 5}]
    assert members["nextCursor"] is None
    assert spring in [x["listId"] for x in client.get("/v1/lists").json()["data"]["items"]]


def test_target_list_id_adds_the_next_imports_keys(client, spring):
    status = imported(client, csv_of([5, 6]), targetListId=spring)
    assert status["listId"] == spring
    members = client.get(f"/v1/lists/{spring}/members").json()["data"]["members"]
    assert members == [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 5}, {"id": 6}]


def test_members_page_with_an_opaque_cursor(client, spring):
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/lists/{spring}/members", params=params).json()["data"]
        seen += page["members"]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == client.get(f"/v1/lists/{spring}/members").json()["data"]["members"]
    bad = client.get(f"/v1/lists/{spring}/members", params={"cursor": "%%%"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION.REQUEST_INVALID"


def test_list_options_are_checked_when_the_job_is_created(client, spring):
    def create(**extra):
        return client.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                    "fileSize": 1, **extra})
    assert create(createList=True).status_code == 400, "a new list needs a name"
    assert create(listName="x").status_code == 400
    assert create(createList=True, listName="x", targetListId=spring).status_code == 400
    missing = create(targetListId="no-such-list")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


def test_another_workspaces_list_is_not_found(server, spring):
    with server.client(server.key("globex")) as theirs:
        assert theirs.get(f"/v1/lists/{spring}").status_code == 404
        assert theirs.get(f"/v1/lists/{spring}/members").status_code == 404
        assert spring not in [x["listId"] for x in theirs.get("/v1/lists").json()["data"]["items"]]
        created = theirs.post("/v1/import-jobs", json={"objectName": "profiles", "fileName": "p.csv",
                                                        "fileSize": 1, "targetListId": spring})
        assert created.status_code == 404
