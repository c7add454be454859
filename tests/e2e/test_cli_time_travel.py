"""`lading jobs show JOB --as-of-version N` / `--as-of TIMESTAMP` end to end (SPEC §8)."""

from __future__ import annotations

from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.e2e.cli import Lading


def test_jobs_show_as_of_a_version_or_an_instant_prints_the_status_as_it_was(tmp_path):
    cli = Lading(tmp_path / "home")
    cli.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    path = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@b.co"], ["2", "nope"]])
    final = cli.json("import", str(path), "--object", "contacts", "--json")
    job = final["jobId"]
    events = cli.json("jobs", "events", job, "--json")
    assert final["version"] == len(events)
    assert cli.json("jobs", "show", job, "--as-of-version", str(len(events)), "--json") == final
    first = cli.json("jobs", "show", job, "--as-of-version", "1", "--json")
    assert (first["version"], first["state"], first["readRows"]) == (1, "pending", 0)
    by_instant = cli.json("jobs", "show", job, "--as-of", events[0]["timestamp"], "--json")
    assert by_instant["version"] == 1 or events[1]["timestamp"] == events[0]["timestamp"]
    refused = cli.run("jobs", "show", job, "--as-of-version", str(len(events) + 1), check_code=2)
    assert f"between 1 and {len(events)}" in refused.stderr and "Traceback" not in refused.stderr
    assert "ISO 8601" in cli.run("jobs", "show", job, "--as-of", "soon", check_code=2).stderr
