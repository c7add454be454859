"""Before mapping: the first rows as Lading read them, suggestions and predicted validity."""

from __future__ import annotations

import pytest

from lading.application.previews import NoFileYet
from tests.builders import CONTACTS_SCHEMA, embedded_lading, write_csv

WS = "acme"
FIELDS = ["id", "email", "zip", "born", "tier"]


@pytest.fixture
def lading(tmp_path):
    with embedded_lading(tmp_path / "home", WS, {"contacts": CONTACTS_SCHEMA}) as app:
        yield app


def _job_with(lading, path):
    job_id, _ = lading.jobs.create_job(WS, "contacts", path.name, path.stat().st_size)
    lading.jobs.attach_file(WS, job_id, path)
    return job_id


def test_suggestions_come_from_the_mapping_suggester_with_its_reasons(lading, tmp_path):
    rows = [[str(i), f"u{i}@example.com", "08123", "2001-02-03", "free"] for i in range(1, 6)]
    path = write_csv(tmp_path / "p.csv", ["ID", "Email Address", "zip", "birthday", "colour"], rows)
    job_id = _job_with(lading, path)
    preview = lading.previews.preview(WS, job_id)
    expected = lading.suggestions.suggest(WS, "contacts", header=preview["header"],
                                          rows=[r["cells"] for r in preview["rows"]])
    by_column = {c["name"]: c for c in preview["columns"]}
    for suggestion in expected["columns"]:
        column = by_column[suggestion["column"]]
        assert (column["suggestedField"], column["reason"]) == (suggestion["field"], suggestion["reason"])
    assert by_column["ID"]["suggestedField"] == "id" and by_column["Email Address"]["suggestedField"] == "email"


def test_the_preview_shows_the_detected_format_first_rows_and_samples(lading, tmp_path):
    rows = [[str(i), f"u{i}@example.com", "08123", "2001-02-03", "free"] for i in range(1, 31)]
    path = write_csv(tmp_path / "people.csv", ["id", "E-mail", "zip", "born", "tier"], rows)
    path.write_text(path.read_text().replace(",", ";"))
    preview = lading.previews.preview(WS, _job_with(lading, path))
    assert (preview["kind"], preview["delimiter"], preview["error"]) == ("csv", ";", None)
    assert preview["header"] == ["id", "E-mail", "zip", "born", "tier"]
    assert len(preview["rows"]) == 20 and preview["rows"][0]["cells"][2] == "08123"
    email = next(c for c in preview["columns"] if c["name"] == "E-mail")
    assert email["suggestedField"] == "email" and len(email["samples"]) == 5
    assert next(c for c in preview["columns"] if c["name"] == "tier")["samples"] == ["free"]


def test_predictions_count_passing_values_per_column_under_the_mode(lading, tmp_path):
    rows = [["1", "a@example.com", "1", "2001-02-03", "free"],
            ["2", "not-an-email", "2", "2001-02-03", "free"],
            ["3", "c@example.com", "3", " 2001-02-03", "pro"],
            ["4", "d@example.com", "4", "2001-02-03", "gold"]]
    job_id = _job_with(lading, write_csv(tmp_path / "p.csv", FIELDS, rows))
    same = {f: f for f in FIELDS}
    balanced = lading.previews.predict(WS, job_id, {"fieldMap": same, "importMode": "balanced"})
    assert balanced["error"] is None and balanced["sampledRows"] == 4
    assert balanced["columns"]["email"] == 0.75 and balanced["columns"]["id"] == 1.0
    assert balanced["columns"]["tier"] == 0.75  # "gold" is no tier
    strict = lading.previews.predict(WS, job_id, {"fieldMap": same, "importMode": "strict"})
    assert strict["columns"]["born"] < balanced["columns"]["born"]  # the padded date


def test_a_mapping_lading_would_refuse_is_explained_instead_of_predicted(lading, tmp_path):
    job_id = _job_with(lading, write_csv(tmp_path / "p.csv", FIELDS, [["1", "a@b.co", "", "", ""]]))
    answer = lading.previews.predict(WS, job_id, {"fieldMap": {"email": "email"}})
    assert answer["columns"] == {} and "primary key" in answer["error"]


def test_a_job_without_a_file_has_nothing_to_preview(lading):
    job_id, _ = lading.jobs.create_job(WS, "contacts", "later.csv", 10)
    with pytest.raises(NoFileYet):
        lading.previews.preview(WS, job_id)


def test_an_unreadable_file_previews_as_its_reason(lading, tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really parquet")
    preview = lading.previews.preview(WS, _job_with(lading, path))
    assert preview["error"] and preview["rows"] == [] and preview["fields"] == FIELDS
