"""`lading jobs results JOB` end to end (SPEC §8): the per-row results as JSON Lines or CSV."""

from __future__ import annotations

import json

from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.e2e.cli import Lading


def test_jobs_results_prints_one_line_per_source_row_in_source_order(tmp_path):
    cli = Lading(tmp_path / "home")
    cli.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    header = ["id", "email"]
    cli.run("import", str(write_csv(tmp_path / "a.csv", header, [["1", "a@b.co"]])),
            "--object", "contacts")
    second = write_csv(tmp_path / "b.csv", header, [["3", "c@b.co"], ["1", "a@b.co"],
                                                    ["2", "nope"], ["1", "z@b.co"]])
    job = cli.json("import", str(second), "--object", "contacts", "--json")["jobId"]
    lines = [json.loads(line) for line in cli.run("jobs", "results", job).stdout.splitlines()]
    assert lines == [
        {"rowNumber": 1, "outcome": "inserted", "key": 3},
        {"rowNumber": 2, "outcome": "unchanged", "key": 1},
        {"rowNumber": 3, "outcome": "rejected", "key": 2, "code": "VALIDATION_TYPE_MISMATCH"},
        {"rowNumber": 4, "outcome": "rejected", "key": 1, "code": "DUPLICATE_KEY"},
    ]
    assert cli.run("jobs", "results", job, "--format", "csv").stdout.splitlines() == [
        "rowNumber,outcome,key,code", "1,inserted,3,", "2,unchanged,1,",
        "3,rejected,2,VALIDATION_TYPE_MISMATCH", "4,rejected,1,DUPLICATE_KEY"]
    refused = cli.run("jobs", "results", "00000000-0000-0000-0000-000000000000", check_code=2)
    assert "not found" in refused.stderr and "Traceback" not in refused.stderr
