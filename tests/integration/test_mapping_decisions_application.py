"""Issue 10 through the application on SQLite and PostgreSQL: a header tie becomes remap choices a
person decides (never a guess), a `review_on_errors` run with an unfixable row pauses once and
completes after one approval, an audience follows later writes, and a job created with
autoProfileAfterImport is profiled when it completes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lading.domain.errors import InvalidPlan, TransitionNotAllowed
from tests.builders import CONTACTS_SCHEMA, embedded_lading, write_csv

WS = "acme"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def lading(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with embedded_lading(tmp_path / "home", WS, {"contacts": CONTACTS_SCHEMA},
                         in_memory_events=False, event_store=url, destination=url) as app:
        yield app


def run(lading, path: Path, mapping: dict, **options):
    job_id, _ = lading.jobs.submit_path(WS, "contacts", path, mapping, **options)
    lading.runner.process(job_id)
    return job_id, lading.jobs.status(WS, job_id)


def types(lading, job_id) -> list[str]:
    return [e["type"] for e in lading.jobs.history(WS, job_id)]


def test_two_equally_likely_columns_pause_a_review_run_with_the_choices(lading, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "Work Email", "Home Email"],
                     [["1", "w1@example.com", "h1@example.com"], ["2", "w2@example.com", "h2@example.com"]])
    field_map = {"id": "id", "email": "email"}
    job_id, paused = run(lading, path, {"fieldMap": field_map, "reviewPolicy": "review_on_errors"})
    assert paused["state"] == "needs_attention"
    changes = paused["proposal"]["changes"]
    assert [(c["kind"], c["field"], c["sourceColumn"]) for c in changes] == [
        ("column_remap", "email", "Work Email"), ("column_remap", "email", "Home Email")]
    with pytest.raises(InvalidPlan, match="remaps 'email' to 2 columns .* keep the one to use"):
        lading.jobs.approve(WS, job_id)
    with pytest.raises(TransitionNotAllowed, match="validation has not ended"):
        lading.exports.annotated_blob(WS, job_id)  # no row was read: no outcome to annotate
    lading.jobs.approve(WS, job_id, {"changes": [changes[1]]})
    assert lading.runner.process(job_id) == "completed"
    schema = lading.jobs.schema_of(WS, "contacts")
    emails = [r["email"] for r in lading.objects.destination.read_records(WS, "contacts", schema)]
    assert emails == ["h1@example.com", "h2@example.com"]


def test_without_a_review_policy_a_tie_fails_the_job_naming_the_candidates(lading, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "Work Email", "Home Email"], [["1", "w@example.com", "h@example.com"]])
    _, failed = run(lading, path, {"fieldMap": {"id": "id", "email": "email"}})
    assert (failed["state"], failed["errorCode"]) == ("failed", "COLUMNS_MISSING")
    assert "equally likely: 'Work Email', 'Home Email'" in failed["errorMessage"]


def test_an_unfixable_row_pauses_once_is_approved_once_and_completes_with_it_rejected(lading, tmp_path):
    rows = [[str(i), f"u{i}@example.com", "", "2001-02-03", "free"] for i in range(1, 6)]
    rows += [["6", "u6@example.com", "", "2001-02-03", "PRO"], ["7", "not an email", "", "2001-02-03", "free"]]
    path = write_csv(tmp_path / "a.csv", ["id", "email", "zip", "born", "tier"], rows)
    job_id, paused = run(lading, path, {"reviewPolicy": "review_on_errors"})
    assert (paused["state"], paused["invalidRows"]) == ("needs_attention", 2)
    lading.jobs.approve(WS, job_id)
    assert lading.runner.process(job_id) == "completed"
    done = lading.jobs.status(WS, job_id)
    assert (done["planVersion"], done["validRows"], done["invalidRows"]) == (2, 6, 1)
    assert done["errorSummary"] == {"VALIDATION_TYPE_MISMATCH": 1}
    history = types(lading, job_id)
    assert (history.count("AttentionNeeded"), history.count("FixApproved"), history[-1]) == (1, 1, "Completed")


def test_an_audience_loses_the_records_a_later_import_rewrites(lading, tmp_path):
    first = write_csv(tmp_path / "a.csv", ["id", "email"], [[str(i), f"u{i}@example.com"] for i in (1, 2, 3)])
    job_id, status = run(lading, first, {}, audience_name="first import")
    audience = lading.jobs.find_audience(WS, status["audienceId"])
    assert (audience["jobId"], audience["memberCount"]) == (str(job_id), 3)
    run(lading, write_csv(tmp_path / "b.csv", ["id", "email"], [["2", "new@example.com"]]), {})
    assert lading.jobs.audience_members(WS, status["audienceId"]) == [{"id": 1}, {"id": 3}]


def test_auto_profile_after_import_profiles_the_job_when_it_completes(lading, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "email"], [["1", "a@example.com"], ["2", "b@example.com"]])
    job_id, status = run(lading, path, {}, auto_profile=True)
    job = lading.jobs.load(job_id, WS)
    assert lading.jobs.blobs.exists(f"{lading.jobs.files(job).prefix}/profile.v1.json"), \
        "made at completion, before anyone asks"
    assert lading.reports.report(WS, job_id)["profile"]["merged"]["email"]["distinct"] == 2
