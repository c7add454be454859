"""The detailed report from a job's status and rejection summary (issue 10 point 3): skipped
rows by primary code add up to `invalidRows`, other failures are `alsoFailing`, samples stop
at five per field, healing and warnings come from the status."""

from __future__ import annotations

from lading.application.skipped_rows import RejectionSummary, SkippedGroup
from lading.application.status_view import detailed_report
from lading.application.value_samples import ValueSamples

DOC = {"invalidRows": 9, "mergedInserts": 3, "mergedUpdates": 1, "mergedUnchanged": 0,
       "mergedDeletes": 0, "warningsByField": {"zip": 2},
       "healing": {"headers": {"E-Mail": "email"}, "columnFormats": {"born": "%d/%m/%Y"},
                   "values": {"born": {"date_format": 4}},
                   "headerRenames": [{"column": "E-Mail", "mappedColumn": "email", "field": "email",
                                      "reason": "normalised", "score": 1.0}]}}


def sample(n: int) -> dict:
    return {"rowNumber": n, "value": f"v{n}", "message": "m"}


def test_skipped_rows_add_up_and_other_failures_are_counted_apart():
    summary = RejectionSummary([
        SkippedGroup("E-Mail", "VALIDATION_TYPE_MISMATCH", "email", 4, [sample(i) for i in range(1, 5)]),
        SkippedGroup("E-Mail", "REQUIRED_FIELD_MISSING", "email", 3, [sample(i) for i in range(5, 8)]),
        SkippedGroup(None, "MALFORMED_ROW", None, 2, [sample(8), sample(9)]),
    ], {"tier": 2})
    report = detailed_report(DOC, summary)
    email = report["columns"]["email"]
    assert (email["sourceColumn"], email["skipped"], email["alsoFailing"]) == ("E-Mail", 7, 0)
    assert email["reasons"] == {"VALIDATION_TYPE_MISMATCH": 4, "REQUIRED_FIELD_MISSING": 3}
    assert [s["rowNumber"] for s in email["samples"]] == [1, 2, 3, 4, 5]
    assert email["samples"][4]["code"] == "REQUIRED_FIELD_MISSING"
    assert report["columns"]["tier"] == {"sourceColumn": None, "skipped": 0, "reasons": {},
                                         "alsoFailing": 2, "samples": []}
    assert report["rowProblems"]["reasons"] == {"MALFORMED_ROW": 2}
    skipped = sum(c["skipped"] for c in report["columns"].values()) + report["rowProblems"]["skipped"]
    assert skipped == DOC["invalidRows"] == report["totals"]["skipped"]


def test_healing_warnings_and_a_profile_come_with_the_report():
    samples = ValueSamples(
        healing={"born": {"date_format": [{"rowNumber": 2, "value": "31/01/1990", "healed": "1990-01-31"}]}},
        warnings={"zip": [{"rowNumber": 7, "value": "n/a"}]})
    report = detailed_report(DOC, RejectionSummary([], {}), {"source": {}, "merged": {}}, samples)
    assert report["healing"] == {"headers": DOC["healing"]["headerRenames"],
                                 "columnFormats": {"born": "%d/%m/%Y"},
                                 "values": {"born": {"date_format": 4}},
                                 "samples": samples.healing}
    assert report["warnings"] == {"zip": 2}
    assert report["warningSamples"] == samples.warnings
    assert report["profile"] == {"source": {}, "merged": {}}
    assert "profile" not in detailed_report(DOC, RejectionSummary([], {}))
