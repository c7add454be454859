"""Issue 10's "Done when", end to end: the drifted export of a 20,000-row file, imported with the
mapping written for the clean file, gives records identical to the clean file's, with every
healing listed in the report: through `lading import` and through a real `lading serve`."""

from __future__ import annotations

import json

import pytest

from tests.drifted_export import CLEAN_MAPPING, ROWS, SCHEMA_DICT, write_clean, write_drifted
from tests.e2e.cli import Lading
from tests.e2e.http_server import upload_job, wait_for_state

WS = "acme"
RENAMED = {"ID": "id", "E-mail": "email", "First Name": "first_name", "Is VIP": "is_vip",
           "Joined On": "joined", "Amount (€)": "amount", "Land": "country"}
MAPS = [arg for column, field in CLEAN_MAPPING["fieldMap"].items() for arg in ("--map", f"{column}={field}")]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drifted")
    write_clean(folder / "clean.csv")
    write_drifted(folder / "drifted.csv")
    return folder / "clean.csv", folder / "drifted.csv"


@pytest.mark.slow
def test_the_cli_imports_the_drifted_export_into_the_clean_files_records(tmp_path, files):
    lading = Lading(tmp_path / "home")
    for name in ("clean", "drifted"):
        lading.add_object(tmp_path, name, SCHEMA_DICT)
    clean = lading.json("import", str(files[0]), "--object", "clean", *MAPS, "--json")
    drifted = lading.json("import", str(files[1]), "--object", "drifted", *MAPS, "--json")
    assert (clean["validRows"], drifted["validRows"], drifted["invalidRows"]) == (ROWS, ROWS, 0)
    assert lading.json("records", "drifted", "--json") == lading.json("records", "clean", "--json")
    report = lading.json("jobs", "show", drifted["jobId"], "--report", "--json")["detailedReport"]
    assert {r["column"]: r["field"] for r in report["healing"]["headers"]} == RENAMED
    assert report["healing"]["columnFormats"] == {"joined": "%d/%m/%Y", "amount": "1.234,56",
                                                  "country": "enum letter case ignored"}
    assert set(report["healing"]["values"]) == {"is_vip", "joined", "amount", "country"}


def test_the_http_api_imports_the_drifted_export_into_the_clean_files_rows(server, client, files):
    with server.client(server.key(WS, "imports:read,imports:write,admin")) as admin:
        created = admin.post("/v1/objects", json={"name": "people", "schema": SCHEMA_DICT})
        assert created.status_code == 201, created.text
    jobs = [upload_job(client, "people", path.read_bytes(), file_name=path.name, mapping=CLEAN_MAPPING)
            for path in files]
    clean, drifted = (wait_for_state(client, j, {"completed", "failed"}) for j in jobs)
    assert (clean["validRows"], drifted["validRows"], drifted["invalidRows"]) == (ROWS, ROWS, 0)
    assert drifted["healing"]["headers"] == RENAMED
    rows = [client.get(f"/v1/import-jobs/{j}/valid-rows.csv").text for j in jobs]
    assert rows[0] == rows[1] and rows[0].count("\n") == ROWS + 1
    report = client.get(f"/v1/import-jobs/{drifted['jobId']}/report").json()["data"]
    assert [r["reason"] for r in report["healing"]["headers"] if r["column"] == "Is VIP"] == ["field name"]
    events = client.get(f"/v1/import-jobs/{drifted['jobId']}/events").json()["data"]
    recorded = [r for e in events if e["type"] == "ChunkValidated" for r in e["data"]["header_renames"]]
    assert {r["column"] for r in recorded} == set(RENAMED), json.dumps(recorded)
