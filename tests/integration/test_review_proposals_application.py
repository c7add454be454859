"""A paused run's proposal through the application (issue 10 point 2): each change's
`recoversRows` is what the approved re-run recovers, duplicates of valid rows included."""

from __future__ import annotations

import pytest

from tests.builders import CONTACTS_SCHEMA, embedded_lading, write_csv

WS = "acme"
HEADER = ["id", "email", "zip", "born", "tier"]


@pytest.fixture
def lading(tmp_path):
    with embedded_lading(tmp_path / "home", WS, {"contacts": CONTACTS_SCHEMA}) as app:
        yield app


def _row(i, born="2001-02-03", tier="free", email=None):
    return [str(i), email or f"user{i}@example.com", f"0{i:04d}", born, tier]


def test_a_proposal_counts_what_the_approved_rerun_recovers(lading, tmp_path):
    rows = [_row(i) for i in range(1, 30)] + [
        _row(30, born="5 Sept 2024"), _row(31, born="17 Jan 2023"),  # a layout for two rows
        _row(32, tier="Proo"), _row(33, tier="FREEE"),  # misspelt enum values
        _row(5, tier="fre"),  # would be recovered, but id 5 is a valid row already
        _row(34, email="not an email"),  # nothing recovers this one
    ]
    path = write_csv(tmp_path / "a.csv", HEADER, rows)
    job_id, _ = lading.jobs.create_job(WS, "contacts", path.name, 1)
    lading.jobs.attach_file(WS, job_id, path)
    lading.jobs.map(WS, job_id, {"reviewPolicy": "review_on_errors"})
    lading.jobs.start(WS, job_id)
    assert lading.runner.process(job_id) == "needs_attention"
    proposal = lading.jobs.status(WS, job_id)["proposal"]
    by_kind = {c["kind"]: c for c in proposal["changes"]}
    assert by_kind["date_format"]["dateFormat"] == "%d %b %Y"
    assert by_kind["date_format"]["recoversRows"] == 2
    assert by_kind["enum_map"]["enumMap"] == {"FREEE": "free", "Proo": "pro", "fre": "free"}
    assert by_kind["enum_map"]["recoversRows"] == 2, "id 5 would be a duplicate key"
    assert proposal["recoversRows"] == 4
    assert by_kind["delete_invalid_rows"]["deletesRows"] == 2
    before = lading.jobs.status(WS, job_id)["validRows"]
    lading.jobs.approve(WS, job_id, {"changes": [by_kind["date_format"], by_kind["enum_map"]]})
    lading.runner.process(job_id)
    after = lading.jobs.status(WS, job_id)
    assert after["validRows"] - before == proposal["recoversRows"]
