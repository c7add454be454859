"""The command line's side of review (issue 10 "Done when", points 1, 2 and 6): an unfixable row
pauses once (exit 3, saying how to approve), one `lading jobs approve` completes it with that row
rejected; a header tie pauses with remap choices and approving both is refused; a configuration
whose sourceFields declare a number column heals it."""

from __future__ import annotations

import json

from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.e2e.cli import Lading

HEADER = ["id", "email", "zip", "born", "tier"]


def test_review_pauses_once_and_one_approval_completes_with_the_unfixable_row_rejected(tmp_path):
    lading = Lading(tmp_path / "home")
    lading.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    path = write_csv(tmp_path / "a.csv", HEADER, [["1", "a@example.com", "", "2001-02-03", "free"],
                                                 ["2", "b@example.com", "", "2001-02-03", "PRO"],
                                                 ["3", "nope", "", "2001-02-03", "free"]])
    paused = lading.run("import", str(path), "--object", "contacts", "--review", "review_on_errors",
                        "--json", check_code=3)
    job_id = json.loads(paused.stdout)["jobId"]
    assert f"lading jobs approve {job_id}" in paused.stderr and f"lading jobs cancel {job_id}" in paused.stderr
    done = lading.json("jobs", "approve", job_id, "--json")
    assert (done["state"], done["planVersion"], done["validRows"], done["invalidRows"]) == ("completed", 2, 2, 1)
    history = [e["type"] for e in lading.json("jobs", "events", job_id, "--json")]
    assert (history.count("AttentionNeeded"), history.count("FixApproved")) == (1, 1)


def test_a_header_tie_is_decided_by_approving_one_of_its_remaps(tmp_path):
    lading = Lading(tmp_path / "home")
    lading.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    path = write_csv(tmp_path / "a.csv", ["id", "Work Email", "Home Email"],
                     [["1", "w@example.com", "h@example.com"]])
    paused = lading.json("import", str(path), "--object", "contacts", "--map", "id=id", "--map",
                         "email=email", "--review", "review_on_errors", "--json", check_code=3)
    changes = paused["proposal"]["changes"]
    refused = lading.run("jobs", "approve", paused["jobId"], check_code=2)
    assert "keep the one to use" in refused.stderr
    choice = tmp_path / "choice.json"
    choice.write_text(json.dumps({"changes": [changes[1]]}))
    done = lading.json("jobs", "approve", paused["jobId"], "--proposal", str(choice), "--json")
    assert (done["state"], done["validRows"]) == ("completed", 1)
    assert [r["email"] for r in lading.json("records", "contacts", "--json")] == ["h@example.com"]


def test_a_configurations_source_fields_guide_the_healing_of_a_number_column(tmp_path):
    lading = Lading(tmp_path / "home")
    schema = {"fields": [{"name": "id", "type": "integer"}, {"name": "total", "type": "number"}],
              "primaryKey": ["id"]}
    lading.add_object(tmp_path, "orders", schema)
    descriptor = tmp_path / "nightly.json"
    descriptor.write_text(json.dumps({"name": "nightly", "objectName": "orders",
                                      "mapping": {"sourceFields": {"total": "number"}}}))
    config_id = lading.run("configurations", "create", str(descriptor)).stdout.strip()
    path = write_csv(tmp_path / "o.csv", ["id", "total"], [["1", "1.234,50"], ["2", "2,5"], ["3", "n/a"]])
    status = lading.json("import", str(path), "--config", config_id, "--json")
    assert (status["validRows"], status["invalidRows"]) == (2, 1)
    assert [r["total"] for r in lading.json("records", "orders", "--json")] == [1234.5, 2.5]
    descriptor.write_text(json.dumps({"name": "bad", "objectName": "orders",
                                      "mapping": {"sourceFields": {"total": "banana"}}}))
    refused = lading.run("configurations", "create", str(descriptor), check_code=2)
    assert "sourceFields.total: unknown type 'banana'" in refused.stderr
