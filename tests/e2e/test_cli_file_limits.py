"""`lading import` holds local files to the same limits as uploads (issue 9.16)."""

from __future__ import annotations

from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.e2e.cli import Lading


def test_import_refuses_a_file_over_the_max_file_size_while_copying_and_leaves_no_job(tmp_path):
    cli = Lading(tmp_path / "home", LADING_MAX_FILE_SIZE="1000")
    cli.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    path = write_csv(tmp_path / "big.csv", ["id", "email"], [[str(i), f"u{i}@x.org"] for i in range(500)])
    done = cli.run("import", str(path), "--object", "contacts", check_code=2)
    assert "over the limit of 1000 bytes" in done.stderr and "Traceback" not in done.stderr
    assert cli.json("jobs", "list", "--json") == []
    assert not [p for p in (tmp_path / "home" / "blobs").rglob("*") if p.is_file()]


def test_import_refuses_a_device_that_never_ends(tmp_path):
    cli = Lading(tmp_path / "home")
    cli.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    done = cli.run("import", "/dev/zero", "--object", "contacts", check_code=2)
    assert "not a regular file" in done.stderr
