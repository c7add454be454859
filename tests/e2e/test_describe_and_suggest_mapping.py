"""`lading describe FILE` and `POST /v1/objects/{name}/suggest-mapping` end to end
(issue 10 point 5): a drifted export described as an importable schema, and a fieldMap
suggested for it with a confidence and a reason per column."""

from __future__ import annotations

import json

import pytest

from tests.e2e.cli import Lading
from tests.e2e.http_server import LadingServer

WS = "acme"
DRIFTED = ("Kunden-ID;E-Mail Adresse;Is VIP;Land;col_9\r\n"
           + "".join(f"{i};user{i}@example.com;{'Yes' if i % 2 else 'No'};US;"
                     f"2020-01-0{1 + i % 9}T00:00:00Z\r\n" for i in range(1, 30)))


def test_describe_prints_a_table_schema_that_lading_accepts_as_an_object(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(DRIFTED.encode("cp1252"))
    cli = Lading(tmp_path / "home")
    described = cli.json("describe", str(path))
    fields = {f["name"]: f for f in described["schema"]["fields"]}
    assert fields["kunden_id"]["type"] == "integer"
    assert fields["e_mail_adresse"]["format"] == "email"
    assert fields["col_9"]["type"] == "datetime"
    assert fields["land"]["constraints"]["enum"] == ["US"]
    assert described["schema"]["primaryKey"] == ["kunden_id"]
    (tmp_path / "obj.json").write_text(json.dumps({"name": "described", "schema": described["schema"]}))
    cli.run("objects", "add", str(tmp_path / "obj.json"))


def test_describe_a_missing_file_is_a_usage_error(tmp_path):
    done = Lading(tmp_path / "home").run("describe", str(tmp_path / "nope.csv"), check_code=2)
    assert "does not exist" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    srv = LadingServer(tmp_path_factory.mktemp("suggest"), worker=False)
    srv.add_profiles(WS)
    srv.start()
    with srv.client(srv.key(WS)) as c:
        yield c
    srv.stop()


def test_suggest_mapping_from_the_start_of_a_file(client):
    response = client.post("/v1/objects/profiles/suggest-mapping",
                           json={"sample": DRIFTED, "fileName": "export.csv"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["fieldMap"]["E-Mail Adresse"] == "email"
    assert data["fieldMap"]["Is VIP"] == "is_active"
    assert data["fieldMap"]["Land"] == "country", "two capitals fit the country pattern"
    assert data["fieldMap"]["col_9"] == "signup_ts"
    by_column = {c["column"]: c for c in data["columns"]}
    assert 0 < by_column["col_9"]["confidence"] < by_column["E-Mail Adresse"]["confidence"] <= 1
    assert by_column["col_9"]["reason"].startswith("its values are valid datetime values")
    assert data["sampledRows"] == 29


def test_suggest_mapping_learns_from_a_saved_template(client):
    template = client.post("/v1/mapping-templates", json={
        "name": "german export", "objectName": "profiles",
        "mapping": {"fieldMap": {"Kunden-ID": "id", "E-Mail Adresse": "email"}}})
    assert template.status_code == 201, template.text
    data = client.post("/v1/objects/profiles/suggest-mapping", json={
        "header": ["kunden id", "mail"], "rows": [["1", "a@b.co"]]}).json()["data"]
    assert data["columns"][0] == {"column": "kunden id", "field": "id", "confidence": 0.99,
                                  "reason": "mapped to 'id' in 1 saved mapping; its values fit (100%)"}


@pytest.mark.parametrize("body, status", [
    ({}, 400), ({"header": ["a"], "sample": "a\n1\n"}, 400), ({"header": "a"}, 400),
    ({"sample": "a\n1\n", "colour": 1}, 400),
])
def test_a_malformed_suggest_request_is_a_400_never_a_500(client, body, status):
    assert client.post("/v1/objects/profiles/suggest-mapping", json=body).status_code == status


def test_suggest_mapping_for_an_unknown_object_is_404(client):
    response = client.post("/v1/objects/nope/suggest-mapping", json={"header": ["a"], "rows": []})
    assert response.status_code == 404
