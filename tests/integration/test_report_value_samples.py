"""The detailed report shows the first rows of each healing and each warning (issue 10.3), kept
as validation ran: the value as given beside the value stored, with its row number."""

from __future__ import annotations

import pytest

from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings
from tests.builders import write_csv

WS = "acme"
SCHEMA = {"fields": [{"name": "id", "type": "integer"},
                     {"name": "active", "type": "boolean"},
                     {"name": "tier", "type": "string", "constraints": {"enum": ["pro", "free"]}},
                     {"name": "score", "type": "integer"}],
          "primaryKey": ["id"]}


@pytest.fixture
def lading(tmp_path):
    app = bootstrap(Settings(home=tmp_path / "home", chunk_bytes=64))  # several chunks
    app.objects.catalog.add(WS, "members", TableSchema.from_dict(SCHEMA))
    yield app
    app.close()


def report_of(lading, path, mapping):
    job_id, _ = lading.jobs.submit_path(WS, "members", path, mapping)
    assert lading.runner.process(job_id) == "completed"
    return lading.reports.report(WS, job_id)


def test_each_healing_shows_its_first_five_rows_as_given_and_as_stored(lading, tmp_path):
    rows = [[str(i), "Yes" if i % 2 else "true", "pro", f"{i}.0" if i in (2, 4) else str(i)]
            for i in range(1, 13)]
    report = report_of(lading, write_csv(tmp_path / "m.csv", ["id", "active", "tier", "score"], rows), {})
    healing = report["healing"]
    assert healing["values"] == {"active": {"boolean_word": 6}, "score": {"integer_from_decimal": 2}}
    assert healing["samples"] == {
        "active": {"boolean_word": [{"rowNumber": n, "value": "Yes", "healed": "true"}
                                    for n in (1, 3, 5, 7, 9)]},
        "score": {"integer_from_decimal": [{"rowNumber": 2, "value": "2.0", "healed": "2"},
                                           {"rowNumber": 4, "value": "4.0", "healed": "4"}]}}


def test_each_warning_shows_its_first_rows_with_the_value_given(lading, tmp_path):
    rows = [[str(i), "true", "pro", "many" if i in (3, 5) else str(i)] for i in range(1, 9)]
    report = report_of(lading, write_csv(tmp_path / "w.csv", ["id", "active", "tier", "score"], rows),
                       {"importMode": "landing_friendly"})
    assert report["warnings"] == {"score": 2}
    assert report["warningSamples"] == {"score": [{"rowNumber": 3, "value": "many"},
                                                  {"rowNumber": 5, "value": "many"}]}
    assert report["healing"]["samples"] == {}
