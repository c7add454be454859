"""`lading import` off a terminal: progress lines on stderr and a one-line summary at the end."""

from __future__ import annotations

import re

from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.e2e.cli import Lading


def test_an_import_ends_with_a_summary_of_each_stage(tmp_path):
    cli = Lading(tmp_path / "home")
    cli.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    path = write_csv(tmp_path / "people.csv", ["id", "email"],
                     [[str(i), f"u{i}@example.com"] for i in range(2000)] + [["x", "nope"]])
    done = cli.run("import", str(path), "--object", "contacts")
    last = done.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"validated 2,001 rows in [\d.]+ s \([\d,]+ rows/s\); "
                        r"merged 2,000 rows in [\d.]+ s \([\d,]+ rows/s\)", last), done.stderr
    assert "Traceback" not in done.stderr


def test_json_output_prints_no_progress(tmp_path):
    cli = Lading(tmp_path / "home")
    cli.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    path = write_csv(tmp_path / "people.csv", ["id", "email"], [["1", "a@example.com"]])
    done = cli.run("import", str(path), "--object", "contacts", "--json")
    assert "validated" not in done.stderr and "rows/s" not in done.stderr
