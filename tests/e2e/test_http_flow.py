"""The whole import flow through a real `lading serve` (subprocess, loopback, its own home):
create -> signed PUT -> mapping -> start -> poll -> errors -> valid rows -> records -> events."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import httpx
import pytest

from tests.builders import generate_profiles
from tests.e2e.http_server import upload_job, wait_for_state

WS = "acme"


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "profiles_20k.csv"
    expected = generate_profiles(20_000, path)
    return path, expected


@pytest.fixture(scope="module")
def imported(client, messy):
    path, expected = messy
    job_id = upload_job(client, "profiles", path.read_bytes(), file_name=path.name)
    status = wait_for_state(client, job_id, {"completed", "failed", "needs_attention"})
    return job_id, status


def embedded_import(path, tmp_path) -> dict:
    """A second computation of the same import: `lading import --json`, no server involved."""
    env = {"LADING_HOME": str(tmp_path / "embedded"), "PATH": "/usr/bin:/bin"}
    cli = [sys.executable, "-m", "lading.entrypoints.cli"]
    from lading.entrypoints.samples import SAMPLES

    subprocess.run([*cli, "objects", "add", str(SAMPLES / "profiles.json")], env=env, check=True,
                   capture_output=True)
    done = subprocess.run([*cli, "import", str(path), "--object", "profiles", "--json"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_20000_row_messy_file_imports_with_the_generators_exact_counts(imported, messy, tmp_path):
    job_id, status = imported
    _, expected = messy
    kinds = expected["by_kind"]
    assert status["state"] == "completed"
    assert status["readRows"] == expected["rows"] == 20_000
    assert status["validRows"] == expected["valid_rows"]
    assert status["invalidRows"] == expected["invalid_rows"]
    assert status["errorSummary"]["DUPLICATE_KEY"] == kinds["dup_id"]
    assert status["errorSummary"]["REQUIRED_FIELD_MISSING"] == kinds["missing_email"]
    assert sum(status["errorSummary"].values()) == status["invalidRows"]
    assert status["mergedInserts"] + status["mergedUpdates"] + status["mergedUnchanged"] + status["mergedDeletes"] == status["validRows"]
    assert status["successRate"] == round(expected["valid_rows"] / 20_000, 4)
    assert (status["rowsTotal"], status["rowsImported"], status["rowsRejected"]) == (
        status["readRows"], status["validRows"], status["invalidRows"])
    assert status["progress"]["percent"] == 100.0


def test_the_server_counts_exactly_what_an_embedded_import_counts(imported, messy, tmp_path):
    _, status = imported
    embedded = embedded_import(messy[0], tmp_path)
    for counter in ("readRows", "validRows", "invalidRows", "errorSummary", "mergedInserts",
                    "mergedUpdates", "mergedUnchanged", "mergedDeletes", "successRate"):
        assert status[counter] == embedded[counter], counter


def test_the_error_file_is_a_signed_download_with_one_line_per_rejected_row(client, imported):
    job_id, status = imported
    info = client.get(f"/v1/import-jobs/{job_id}/errors").json()["data"]
    assert info["hasErrors"] is True
    assert info["errorCount"] == status["invalidRows"]
    assert info["expiresAt"].endswith("Z")
    download = httpx.get(info["errorFileUrl"])  # no key: the URL carries its own authority
    assert download.status_code == 200
    lines = [json.loads(line) for line in download.text.splitlines()]
    assert len(lines) == status["invalidRows"]
    assert [row["rowNumber"] for row in lines] == sorted(row["rowNumber"] for row in lines)
    by_code: dict[str, int] = {}
    for row in lines:
        by_code[row["code"]] = by_code.get(row["code"], 0) + 1
        assert row["errors"] and "sourceRow" in row
    assert by_code == status["errorSummary"]


def test_valid_rows_come_back_as_csv_with_the_objects_fields(client, imported):
    job_id, status = imported
    response = client.get(f"/v1/import-jobs/{job_id}/valid-rows.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:2] == ["id", "email"]
    assert len(rows) - 1 == status["validRows"]
    signed = client.get(f"/v1/import-jobs/{job_id}/errors").json()["data"]["validRowsUrl"]
    assert httpx.get(signed).text == response.text


def test_the_records_are_in_the_destination(client, imported):
    _, status = imported
    info = client.get("/v1/objects/profiles").json()["data"]
    assert info["recordCount"] == status["validRows"]
    records = client.get("/v1/objects/profiles/records", params={"limit": 5}).json()["data"]
    assert records["count"] == 5
    assert set(records["records"][0]) == {f["name"] for f in info["schema"]["fields"]}


def test_the_detailed_report_gives_per_column_reasons_samples_and_totals(client, imported):
    job_id, status = imported
    report = client.get(f"/v1/import-jobs/{job_id}",
                        params={"includeDetailedReport": "true"}).json()["data"]["detailedReport"]
    assert report["totals"] == {"inserted": status["mergedInserts"], "updated": 0, "unchanged": 0,
                                "deleted": 0, "skipped": status["invalidRows"]}
    email = report["columns"]["email"]
    assert email["skipped"] >= status["errorSummary"]["REQUIRED_FIELD_MISSING"]
    assert 1 <= len(email["samples"]) <= 5
    assert "detailedReport" not in client.get(f"/v1/import-jobs/{job_id}").json()["data"]


def test_the_event_history_tells_the_story_in_order(client, imported):
    job_id, _ = imported
    events = client.get(f"/v1/import-jobs/{job_id}/events").json()["data"]
    types = [e["type"] for e in events]
    assert types[:4] == ["Created", "FileReceived", "Mapped", "Started"]
    assert types[-1] == "Completed"
    assert "ChunkMerged" in types
    assert [e["version"] for e in events] == sorted(e["version"] for e in events)
