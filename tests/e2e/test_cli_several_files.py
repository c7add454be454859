"""`lading import` of several files reads them in order as one source, and `lading jobs export
--rows` gives every source row with its outcome: the native side of Vern's `files: [...]` and
export.csv."""

from __future__ import annotations

import csv
import io
import json

from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.e2e.cli import Lading


def test_import_of_two_files_is_one_job_with_continuing_row_numbers_and_annotated_export(tmp_path):
    lading = Lading(tmp_path / "home")
    lading.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    first = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@example.com"], ["2", "nope"]])
    second = write_csv(tmp_path / "b.csv", ["email", "id"], [["c@example.com", "3"], ["d@example.com", "1"]])
    status = lading.json("import", str(first), str(second), "--object", "contacts", "--json")
    assert (status["state"], status["readRows"], status["validRows"], status["invalidRows"]) == ("completed", 4, 2, 2)
    assert [f["fileName"] for f in status["sourceFiles"]] == ["a.csv", "b.csv"]
    errors = [json.loads(x) for x in lading.run("jobs", "errors", status["jobId"]).stdout.splitlines()]
    assert [(e["rowNumber"], e["file"], e["code"]) for e in errors] == [
        (2, "a.csv", "VALIDATION_TYPE_MISMATCH"), (4, "b.csv", "DUPLICATE_KEY")]
    every = list(csv.reader(io.StringIO(lading.run("jobs", "export", status["jobId"], "--rows", "all").stdout)))
    assert every[0] == ["id", "email", "_status", "_errors"]
    assert [r[:3] for r in every[1:]] == [["1", "a@example.com", "valid"], ["2", "nope", "rejected"],
                                          ["3", "c@example.com", "valid"], ["1", "d@example.com", "rejected"]]
    rejected = list(csv.reader(io.StringIO(lading.run("jobs", "export", status["jobId"], "--rows", "rejected").stdout)))
    assert rejected[0] == ["id", "email", "_errors"] and len(rejected) == 3
    assert rejected[1][2].startswith("email: ")
