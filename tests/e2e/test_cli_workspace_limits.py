"""`lading workspaces show|set` and the limits taking effect, through the real command line."""

from __future__ import annotations

from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.e2e.cli import Lading


def test_a_workspace_shows_the_servers_limits_until_it_sets_its_own(tmp_path):
    cli = Lading(tmp_path / "home", LADING_MAX_ACTIVE_JOBS="7")
    shown = cli.json("workspaces", "show", "acme", "--json")
    assert shown["limits"] == {"maxActiveJobs": 7, "maxFileSize": 50 * 1024**3,
                               "maxRows": 200_000_000, "rateLimit": 600}
    assert shown["own"] == []
    changed = cli.json("workspaces", "set", "acme", "--max-rows", "1000", "--max-file-size", "2MiB",
                       "--rate-limit", "0", "--json")
    assert changed["limits"] == {"maxActiveJobs": 7, "maxFileSize": 2 * 1024**2, "maxRows": 1000,
                                 "rateLimit": 0}
    reset = cli.json("workspaces", "set", "acme", "--max-rows", "default", "--json")
    assert reset["own"] == ["maxFileSize", "rateLimit"] and reset["limits"]["maxRows"] == 200_000_000
    assert cli.json("workspaces", "show", "beta", "--json")["own"] == []
    text = cli.run("workspaces", "show", "acme").stdout
    assert "maxFileSize" in text and "(this workspace)" in text and "(server default)" in text


def test_a_bad_limit_is_one_line_naming_it(tmp_path):
    cli = Lading(tmp_path / "home")
    for args, said in ((["--max-active-jobs", "0"], "maxActiveJobs must be a whole number of at least 1"),
                       (["--max-file-size", "3 parsecs"], "--max-file-size takes bytes or a size"),
                       ([], "name at least one limit")):
        done = cli.run("workspaces", "set", "acme", *args, check_code=2)
        assert said in done.stderr and "Traceback" not in done.stderr


def test_a_job_reading_more_rows_than_its_workspace_allows_fails_with_limit_rows(tmp_path):
    cli = Lading(tmp_path / "home")
    cli.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    cli.run("workspaces", "set", "default", "--max-rows", "100")
    path = write_csv(tmp_path / "people.csv", ["id", "email"],
                     [[str(i), f"u{i}@example.com"] for i in range(101)])
    status = cli.json("import", str(path), "--object", "contacts", "--json", check_code=1)
    assert status["state"] == "failed" and status["errorCode"] == "LIMIT_ROWS"
    assert "more than 100 rows" in status["errorMessage"]
    small = write_csv(tmp_path / "few.csv", ["id", "email"], [["1", "a@example.com"]])
    assert cli.json("import", str(small), "--object", "contacts", "--json")["state"] == "completed"


def test_a_file_over_its_workspaces_size_limit_is_refused(tmp_path):
    cli = Lading(tmp_path / "home")
    cli.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    cli.run("workspaces", "set", "default", "--max-file-size", "100")
    path = write_csv(tmp_path / "people.csv", ["id", "email"],
                     [[str(i), f"u{i}@example.com"] for i in range(20)])
    done = cli.run("import", str(path), "--object", "contacts", check_code=2)
    assert "over the limit of 100 bytes" in done.stderr
