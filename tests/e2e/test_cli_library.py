"""The CLI alone manages what `import --config` and `watch --config` need, and decides jobs that
wait for a person (SPEC §6; issue 16.5), through real `lading` subprocesses."""

from __future__ import annotations

import json

import pytest

from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.e2e.cli import Lading

MAPPING = {"fieldMap": {"id": "id", "email": "email"}, "importMode": "balanced"}


@pytest.fixture
def cli(tmp_path):
    lading = Lading(tmp_path / "home")
    lading.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    return lading


def test_a_configuration_created_by_the_cli_drives_an_import_and_can_be_listed_and_shown(cli, tmp_path):
    spec = tmp_path / "config.json"
    spec.write_text(json.dumps({"name": "nightly", "objectName": "contacts", "mapping": MAPPING,
                                "labels": ["crm"]}))
    config_id = cli.run("configurations", "create", str(spec)).stdout.strip()
    listed = cli.json("configurations", "list", "--json")
    assert [(c["id"], c["objectName"], c["labels"]) for c in listed] == [(config_id, "contacts", ["crm"])]
    assert cli.json("configurations", "show", config_id)["name"] == "nightly"
    path = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@b.co"], ["2", "nope"]])
    status = cli.json("import", str(path), "--config", config_id, "--json")
    assert (status["state"], status["validRows"], status["labels"]) == ("completed", 1, ["crm"])


def test_templates_are_created_listed_and_deleted_and_a_bad_one_is_refused(cli, tmp_path):
    spec = tmp_path / "t.json"
    spec.write_text(json.dumps({"name": "std", "objectName": "contacts", "mapping": MAPPING}))
    template_id = cli.run("templates", "create", str(spec)).stdout.strip()
    assert [t["id"] for t in cli.json("templates", "list", "--json")] == [template_id]
    cli.run("templates", "delete", template_id)
    assert cli.json("templates", "list", "--json") == []
    spec.write_text(json.dumps({"name": "bad", "objectName": "contacts",
                                "mapping": {"fieldMap": {"id": "nope"}}}))
    refused = cli.run("templates", "create", str(spec), check_code=2)
    assert "unknown field" in refused.stderr and "Traceback" not in refused.stderr


def test_a_review_job_is_approved_from_the_cli_and_completes(cli, tmp_path):
    path = write_csv(tmp_path / "r.csv", ["id", "email"], [["1", "a@b.co"], ["2", "nope"]])
    paused = cli.json("import", str(path), "--object", "contacts", "--review", "review_on_errors",
                      "--json", check_code=3)
    done = cli.json("jobs", "approve", paused["jobId"], "--json")
    assert (done["state"], done["planVersion"], done["invalidRows"]) == ("completed", 2, 1)


def test_jobs_cancel_and_a_state_filter_that_is_not_a_state_is_refused(cli, tmp_path):
    job = cli.json("import", str(write_csv(tmp_path / "c.csv", ["id", "email"], [["1", "x"]])),
                   "--object", "contacts", "--review", "review_on_errors", "--json", check_code=3)
    assert cli.json("jobs", "cancel", job["jobId"], "--json")["state"] == "cancelled"
    assert [j["jobId"] for j in cli.json("jobs", "list", "--state", "cancelled", "--json")] == [job["jobId"]]
    refused = cli.run("jobs", "list", "--state", "bogus", check_code=2)
    assert "bogus" in refused.stderr


def test_a_key_is_revoked_by_its_public_id(cli):
    key = cli.run("keys", "create", "--scopes", "imports:read").stdout.strip()
    public_id = "_".join(key.split("_")[:2])
    assert "revoked" in cli.run("keys", "revoke", public_id).stdout
    assert "no live key" in cli.run("keys", "revoke", public_id, check_code=2).stderr
