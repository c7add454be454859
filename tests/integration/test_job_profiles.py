"""A completed job's data profile (SPEC §4 autoProfileAfterImport): per mapped column, for the
source rows and the merged rows, computed once and read back from its blob."""

from __future__ import annotations

import pytest

from lading.domain.errors import TransitionNotAllowed
from tests.builders import CONTACTS_SCHEMA, embedded_lading, write_csv

WS = "acme"


@pytest.fixture
def lading(tmp_path):
    with embedded_lading(tmp_path / "home", WS, {"contacts": CONTACTS_SCHEMA}) as app:
        yield app


def test_a_completed_jobs_profile_covers_source_and_merged_rows(lading, tmp_path):
    header = ["id", "E-mail", "zip", "born", "tier"]
    rows = [["1", "a@b.co", "00001", "2001-02-03", "free"], ["2", "c@d.co", "", "1999-12-31", "pro"],
            ["3", "nope", "00003", "2001-02-03", "free"], ["4", "e@f.co", "00004", "", "free"]]
    path = write_csv(tmp_path / "a.csv", header, rows)
    job_id, _ = lading.jobs.create_job(WS, "contacts", path.name, 1)
    lading.jobs.attach_file(WS, job_id, path)
    lading.jobs.map(WS, job_id, {})
    lading.jobs.start(WS, job_id)
    with pytest.raises(TransitionNotAllowed):
        lading.profiles.profile(WS, job_id)
    assert lading.runner.process(job_id) == "completed"
    profile = lading.profiles.profile(WS, job_id)
    assert profile["source"]["email"] == {
        "filled": 4, "empty": 0, "distinct": 4, "distinctApproximate": False, "min": "a@b.co",
        "max": "nope", "top": [{"value": "a@b.co", "count": 1}, {"value": "c@d.co", "count": 1},
                               {"value": "e@f.co", "count": 1}, {"value": "nope", "count": 1}]}
    assert profile["merged"]["email"]["filled"] == 3, "the rejected row is not merged"
    assert profile["merged"]["born"] == {
        "filled": 2, "empty": 1, "distinct": 2, "distinctApproximate": False, "min": "1999-12-31",
        "max": "2001-02-03", "top": [{"value": "1999-12-31", "count": 1},
                                     {"value": "2001-02-03", "count": 1}]}
    assert profile["merged"]["tier"]["top"] == [{"value": "free", "count": 2},
                                               {"value": "pro", "count": 1}]
    assert lading.profiles.profile(WS, job_id) == profile, "read back from its blob"
