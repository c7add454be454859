"""The command line's side of audiences, reports and exports: `lading import --audience NAME
--profile`, `lading audiences list|show|members`, `lading jobs show --report`, `lading jobs
export --annotated` and `lading jobs errors --csv`."""

from __future__ import annotations

import csv
import io
import json

from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.e2e.cli import Lading


def test_an_import_with_an_audience_and_a_profile_then_its_report_and_exports(tmp_path):
    lading = Lading(tmp_path / "home")
    lading.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    spring = write_csv(tmp_path / "spring.csv", ["id", "E-Mail", "tier"],
                       [["1", "a@example.com", "free"], ["2", "@SUM(A1)", "gold"], ["3", "c@example.com", "pro"]])
    status = lading.json("import", str(spring), "--object", "contacts", "--audience", "Spring",
                         "--profile", "--json")
    assert (status["state"], status["validRows"], status["autoProfileAfterImport"]) == ("completed", 2, True)

    [audience] = lading.json("audiences", "list", "--json")
    assert (audience["audienceId"], audience["name"], audience["jobId"], audience["memberCount"]) == \
        (status["audienceId"], "Spring", status["jobId"], 2)
    assert lading.json("audiences", "show", audience["audienceId"], "--json") == audience
    summer = write_csv(tmp_path / "summer.csv", ["id", "email", "tier"], [["3", "c2@example.com", "pro"]])
    lading.run("import", str(summer), "--object", "contacts")
    listed = lading.run("audiences", "members", audience["audienceId"]).stdout.splitlines()
    assert [json.loads(m) for m in listed] == [{"id": 1}], "id 3 was written last by the summer import"
    missing = lading.run("audiences", "show", "no-such-audience", check_code=2)
    assert "audience no-such-audience not found" in missing.stderr

    shown = lading.json("jobs", "show", status["jobId"], "--report", "--json")
    report = shown["detailedReport"]
    assert report["columns"]["email"]["sourceColumn"] == "E-Mail"
    assert report["columns"]["email"]["skipped"] == 1 == status["invalidRows"]
    assert report["columns"]["tier"]["alsoFailing"] == 1
    assert report["profile"]["merged"]["tier"]["filled"] == 2
    assert [r["column"] for r in report["healing"]["headers"]] == ["E-Mail"]
    printed = lading.run("jobs", "show", status["jobId"], "--report").stdout
    assert "skipped rows by column" in printed and "header 'E-Mail' read as 'email'" in printed

    annotated = list(csv.reader(io.StringIO(
        lading.run("jobs", "export", status["jobId"], "--annotated").stdout)))
    assert annotated[0] == ["id", "E-Mail", "tier", "_status", "_errors"]
    assert annotated[2][:4] == ["2", "'@SUM(A1)", "gold", "rejected"]
    errors = list(csv.reader(io.StringIO(lading.run("jobs", "errors", status["jobId"], "--csv").stdout)))
    assert errors == [["rowNumber", "code", "error", "id", "E-Mail", "tier"],
                      ["2", "VALIDATION_TYPE_MISMATCH", "email: invalid email format", "2", "'@SUM(A1)", "gold"]]
    clash = lading.run("jobs", "export", status["jobId"], "--annotated", "--rows", "valid", check_code=2)
    assert "--annotated writes every row" in clash.stderr
