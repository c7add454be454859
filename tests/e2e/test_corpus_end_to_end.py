"""Corpus files through the whole application: the ImportJobs app in process for a
representative subset (every reader, encoding and failure kind), the `lading` CLI for two.

The job's counters must add up (SPEC §3) and agree with what the engine alone made of the file;
a file that cannot be read fails the job with the engine's reason as errorMessage.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings

from tests.e2e.cli import Lading
from tests.integration.corpus import (
    Failed,
    corpus_params,
    corpus_path,
    header_of,
    run_engine,
    string_schema,
)

WS = "default"
SUBSET = {
    "csv-spectrum/csvs/newlines_crlf.csv": "balanced",
    "frictionless-py/data/invalid.csv": "balanced",
    "frictionless-py/data/issue-811.csv": "balanced",  # cp1252, ';', mixed line ends, 1.1 MB
    "duckdb/data/csv/encodings/utf16.csv": "balanced",
    "duckdb/data/csv/rejects/multiple_errors/invalid_utf_unquoted.csv": "balanced",
    "duckdb/data/csv/rejects/multiple_errors/invalid_utf_unquoted.csv#landing": "landing_friendly",
    "duckdb/data/json/unterminated_quotes.ndjson": "balanced",
    "w3c-csvw/tests/test055.csv": "balanced",
    "duckdb/data/csv/multidelimiter/unterminated_quote_multi_line.csv": "balanced",  # fails
    "duckdb/data/json/top_level_array.json": "balanced",  # a JSON document: fails
}


@pytest.fixture
def lading(tmp_path):
    app = bootstrap(Settings(home=tmp_path / "home"))
    yield app
    app.close()


def object_name(rel: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", Path(rel).stem)[:60]


@pytest.mark.parametrize("case", list(SUBSET))
def test_a_corpus_file_imported_by_the_application(case, lading, tmp_path):
    rel, mode = case.split("#")[0], SUBSET[case]
    path = corpus_path(rel)
    schema, field_map = string_schema(header_of(path) or ["value"], key=None, missing_values=())
    alone = run_engine(path, tmp_path / "alone", schema, field_map, mode)

    name = object_name(rel)
    lading.objects.catalog.add(WS, name, schema)
    jobs = lading.jobs
    job_id, _ = jobs.create_job(WS, name, path.name, path.stat().st_size)
    jobs.attach_file(WS, job_id, path)
    jobs.map(WS, job_id, {"fieldMap": field_map, "importMode": mode})
    jobs.start(WS, job_id)
    lading.runner.process(job_id)
    status = jobs.status(WS, job_id)

    if isinstance(alone, Failed):
        assert (status["state"], status["errorMessage"]) == ("failed", alone.message)
        return
    assert status["state"] == "completed"
    assert (status["readRows"], status["validRows"], status["invalidRows"]) == (
        alone.read, alone.valid, alone.invalid)
    assert status["validRows"] + status["invalidRows"] == status["readRows"]
    assert status["errorSummary"] == (alone.by_code or None)
    assert sum((status["errorSummary"] or {}).values()) == status["invalidRows"]
    assert status["mergedInserts"] + status["mergedUpdates"] + status["mergedUnchanged"] + status["mergedDeletes"] == status["validRows"]
    assert status["mergedInserts"] == status["validRows"], "a fresh object: every valid row is new"
    error_file = jobs.error_file(WS, job_id)
    errors = [json.loads(line) for line in error_file.read_text("utf-8").splitlines()] if error_file else []
    assert errors == alone.errors
    stored = list(lading.objects.destination.read_records(WS, name, schema))
    by_field = {f: h for h, f in field_map.items()}
    assert sorted(map(repr, ({by_field[f]: v for f, v in r.items()} for r in stored))) == \
        sorted(map(repr, alone.rows()))


CITIES = {"name": "cities", "schema": {
    "fields": [{"name": "name"}, {"name": "country"}, {"name": "subcountry"},
               {"name": "geonameid", "type": "integer"}],
    "primaryKey": ["geonameid"]}}


@pytest.mark.parametrize("rel", corpus_params("datasets-world-cities/data/world-cities.csv"))
def test_the_cli_imports_a_real_dataset_and_fails_an_unreadable_file_with_its_reason(rel, tmp_path):
    path = corpus_path(rel)
    cli = Lading(tmp_path / "home")
    cli.add_object(tmp_path, "cities", CITIES["schema"])
    status = cli.json("import", str(path), "--object", "cities", "--json")
    assert (status["state"], status["readRows"], status["validRows"], status["invalidRows"]) == (
        "completed", 34032, 34032, 0)
    assert (status["mergedInserts"], status["errorSummary"], status["successRate"]) == (34032, None, 1.0)
    assert cli.run("jobs", "errors", status["jobId"]).stdout == ""

    bad = corpus_path("duckdb/data/csv/multidelimiter/unterminated_quote_multi_line.csv")
    failed = cli.json("import", str(bad), "--object", "cities", "--json", check_code=1)
    assert failed["state"] == "failed"
    assert failed["errorMessage"] == ("cannot parse the CSV file: its header row never ends "
                                      "(a quoted field is not closed)")
