"""The `lading` CLI end to end (SPEC §6), as a user runs it."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.e2e.cli import Lading

HEADER = ["id", "E-Mail", "zip", "born", "tier"]


@pytest.fixture
def cli(tmp_path):
    lading = Lading(tmp_path / "home")
    lading.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    return lading


def rows(ids, tier="free"):
    return [[str(i), f"u{i}@example.com", f"0{i:04d}", "1990-01-31", tier] for i in ids]


def test_import_prints_the_status_as_json_and_exits_0_with_rejected_rows(cli, tmp_path):
    path = write_csv(tmp_path / "people.csv", HEADER, rows(range(1, 4)) + [["4", "nope", "", "", "free"]])
    status = cli.json("import", str(path), "--object", "contacts", "--map", "E-Mail=email",
                      "--map", "id=id", "--map", "zip=zip", "--map", "born=born", "--map", "tier=tier",
                      "--json")
    assert status["state"] == "completed"
    assert (status["readRows"], status["validRows"], status["invalidRows"]) == (4, 3, 1)
    assert status["errorSummary"] == {"VALIDATION_TYPE_MISMATCH": 1}
    assert status["mergedInserts"] == 3
    errors = [json.loads(line) for line in cli.run("jobs", "errors", status["jobId"]).stdout.splitlines()]
    assert errors[0]["rowNumber"] == 4 and errors[0]["errors"][0]["column"] == "E-Mail"
    records = cli.json("records", "contacts", "--json")
    assert records[0] == {"id": 1, "email": "u1@example.com", "zip": "00001", "born": "1990-01-31",
                          "tier": "free"}
    assert cli.json("records", "contacts", "--limit", "1", "--json") == records[:1]


def test_without_map_columns_map_to_same_named_fields_after_header_matching(cli, tmp_path):
    path = write_csv(tmp_path / "p.csv", [" ID", "e-mail", "Tier"], [["1", "a@b.co", "pro"]])
    status = cli.json("import", str(path), "--object", "contacts", "--json")
    assert (status["state"], status["validRows"]) == ("completed", 1)


def test_a_second_import_reports_exact_inserts_and_updates(cli, tmp_path):
    first = write_csv(tmp_path / "a.csv", ["id", "email"], [[str(i), f"a{i}@b.co"] for i in range(10)])
    second = write_csv(tmp_path / "b.csv", ["id", "email"], [[str(i), f"c{i}@b.co"] for i in range(5, 12)])
    cli.json("import", str(first), "--object", "contacts", "--json")
    status = cli.json("import", str(second), "--object", "contacts", "--json")
    assert (status["mergedInserts"], status["mergedUpdates"]) == (2, 5)


def test_importing_the_same_file_again_prints_every_row_as_unchanged(cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "email"], [[str(i), f"a{i}@b.co"] for i in range(7)])
    cli.json("import", str(path), "--object", "contacts", "--json")
    summary = cli.run("import", str(path), "--object", "contacts").stdout
    counters = dict(line.split() for line in summary.splitlines()
                    if line.strip().startswith("merged"))
    assert counters == {"mergedInserts": "0", "mergedUpdates": "0", "mergedUnchanged": "7",
                        "mergedDeletes": "0"}


def test_jobs_list_show_and_events(cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@b.co"]])
    first = cli.json("import", str(path), "--object", "contacts", "--json")
    second = cli.json("import", str(path), "--object", "contacts", "--json")
    listed = cli.json("jobs", "list", "--json")
    assert [s["jobId"] for s in listed] == [second["jobId"], first["jobId"]], "newest first"
    assert cli.json("jobs", "show", first["jobId"], "--json")["jobId"] == first["jobId"]
    events = cli.json("jobs", "events", first["jobId"], "--json")
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "Created" and events[-1]["type"] == "Completed"
    assert set(events[0]) == {"type", "version", "timestamp", "data"}


def test_replay_check_is_clean_and_names_a_tampered_field(cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@b.co"], ["2", "x"]])
    status = cli.json("import", str(path), "--object", "contacts", "--json")
    assert "match" in cli.run("replay", "--check").stdout
    db = sqlite3.connect(cli.home / "read_models.sqlite")
    doc = json.loads(db.execute("select doc from lading_job_status").fetchone()[0])
    doc["validRows"] = 99
    db.execute("update lading_job_status set doc = ?", (json.dumps(doc),))
    db.commit()
    failed = cli.run("replay", "--check", check_code=1)
    assert status["jobId"] in failed.stderr and "validRows" in failed.stderr
    cli.run("replay")
    cli.run("replay", "--check")


def test_exit_codes_for_failed_and_needs_attention_jobs(cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@b.co"]])
    failed = cli.json("import", str(path), "--object", "contacts", "--map", "id=id",
                      "--map", "email=email", "--map", "postcode=zip", "--json", check_code=1)
    assert failed["state"] == "failed" and "postcode" in failed["errorMessage"]
    bad = write_csv(tmp_path / "b.csv", ["id", "email"], [["1", "nope"]])
    paused = cli.json("import", str(bad), "--object", "contacts", "--review", "review_on_errors",
                      "--json", check_code=3)
    assert paused["state"] == "needs_attention"


@pytest.mark.parametrize("args, message", [
    (["import", "missing.csv", "--object", "contacts"], "no such file"),
    (["import", "{file}", "--object", "nothing"], "object 'nothing' not found"),
    (["import", "{file}", "--object", "contacts", "--map", "oops"], "SOURCE=FIELD"),
    (["import", "{file}", "--object", "contacts", "--map", "id=nope"], "unknown field"),
    (["jobs", "show", "not-a-uuid"], "not a job id"),
    (["jobs", "show", "00000000-0000-0000-0000-000000000000"], "not found"),
    (["objects", "add", "{file}"], "not valid JSON"),
])
def test_bad_input_gives_one_line_and_exit_2(cli, tmp_path, args, message):
    path = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@b.co"]])
    done = cli.run(*[a.replace("{file}", str(path)) for a in args], check_code=2)
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_unreadable_file_fails_the_job_with_a_message_not_a_traceback(cli, tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"\x00\xff\xfe\x00garbage" * 10)
    done = cli.run("import", str(path), "--object", "contacts", "--json", check_code=None)
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr


def test_keys_create_prints_the_key_alone(cli):
    out = cli.run("keys", "create", "--workspace", "acme", "--scopes", "imports:read,admin").stdout
    assert len(out.strip().splitlines()) == 1 and len(out.strip()) > 20


def test_workspaces_do_not_see_each_others_jobs(cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@b.co"]])
    status = cli.json("import", str(path), "--object", "contacts", "--json")
    cli.run("jobs", "show", status["jobId"], "--workspace", "other", check_code=2)
    assert cli.json("jobs", "list", "--json", "--workspace", "other") == []


def test_purge_removes_finished_jobs_blobs_and_keeps_their_history(cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@b.co"], ["2", "bad"]])
    status = cli.json("import", str(path), "--object", "contacts", "--json")
    cli.run("purge", "--older-than", "1")
    assert cli.run("jobs", "errors", status["jobId"]).stdout, "recent jobs keep their blobs"
    assert "removed" in cli.run("purge", "--older-than", "0").stdout
    assert cli.run("jobs", "errors", status["jobId"]).stdout == ""
    events = [e["type"] for e in cli.json("jobs", "events", status["jobId"], "--json")]
    assert events[-2:] == ["Completed", "BlobsPurged"]
    after = cli.json("jobs", "show", status["jobId"], "--json")
    assert after["hasErrors"] is False and after["purgedAt"] and after["invalidRows"] == 1



def test_purge_refuses_a_duration_it_cannot_read(cli):
    refused = cli.run("purge", "--pending-older-than", "soon", check_code=2)
    assert "not a duration such as 90s, 30m, 12h or 7d" in refused.stderr

@pytest.mark.parametrize("args", [
    ["--map", "id=id", "--map", "email=emial"],  # a field the object does not have
    ["--map", "oops"],  # not SOURCE=FIELD
    ["--mode", "custom"],  # a mode no workspace policy defines
])
def test_a_refused_import_leaves_no_job_and_no_blob_behind(cli, tmp_path, args):
    path = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@b.co"]])
    refused = cli.run("import", str(path), "--object", "contacts", *args, check_code=2)
    assert refused.stderr.startswith("error: ") and "Traceback" not in refused.stderr
    assert cli.json("jobs", "list", "--json") == []
    blobs = cli.home / "blobs"
    assert not blobs.exists() or not [p for p in blobs.rglob("*") if p.is_file()]
