"""Saved import configurations from the CLI: `lading import --config` and `lading watch`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings

from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.e2e.cli import Lading


@pytest.fixture
def setup(tmp_path):
    home = tmp_path / "home"
    lading = bootstrap(Settings(home=home))
    lading.objects.catalog.add("default", "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    config = lading.library.save_configuration(
        "default", "crm export", "contacts", {"fieldMap": {"Mail": "email", "Id": "id"}},
        source="crm", labels=["nightly"])
    lading.close()
    return Lading(home), config.id


def test_import_with_a_configuration_uses_its_object_mapping_and_labels(setup, tmp_path):
    cli, config_id = setup
    path = write_csv(tmp_path / "x.csv", ["Id", "Mail"], [["1", "a@b.co"], ["2", "bad"]])
    status = cli.json("import", str(path), "--config", config_id, "--json")
    assert (status["objectName"], status["validRows"], status["invalidRows"]) == ("contacts", 1, 1)
    assert (status["source"], status["labels"]) == ("crm", ["nightly"])
    cli.run("import", str(path), "--config", "nope", check_code=2)


def _wait_for(path: Path, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)
    time.sleep(0.1)
    return json.loads(path.read_text())


def test_the_watcher_imports_dropped_files_and_sorts_them(setup, tmp_path):
    cli, config_id = setup
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    watcher = cli.popen("watch", str(inbox), "--config", config_id, "--polling")
    try:
        staging = tmp_path / "staging"
        staging.mkdir()
        good = write_csv(staging / "good.csv", ["Id", "Mail"], [["1", "a@b.co"], ["2", "c@d.co"]])
        bad = write_csv(staging / "bad.csv", ["Other"], [["1"]])
        os.replace(good, inbox / "good.csv")  # appear whole, as a well-behaved sender does
        status = _wait_for(inbox / "processed" / "good.csv.job.json")
        assert (status["state"], status["validRows"]) == ("completed", 2)
        os.replace(bad, inbox / "bad.csv")
        failed = _wait_for(inbox / "failed" / "bad.csv.job.json")
        assert failed["state"] == "failed" and "Mail" in failed["errorMessage"]
        assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == []
    finally:
        watcher.kill()
        watcher.wait()
    assert [r["id"] for r in cli.json("records", "contacts", "--json")] == [1, 2]
