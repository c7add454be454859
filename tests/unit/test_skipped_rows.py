"""Rejected rows counted once each, under their primary error's source column (Pigment's
skippedData, SPEC §9.5): the counts add up to the rejected rows."""

import json

from lading.application.skipped_rows import RejectionSummary, summarise_rejections


def _line(row: int, code: str, errors: list[dict]) -> str:
    return json.dumps({"rowNumber": row, "code": code, "error": "…", "errors": errors,
                       "sourceRow": {"k1": "a", "k2": "b"}})


def test_a_row_failing_two_fields_counts_once_under_its_primary_errors_column(tmp_path):
    path = tmp_path / "errors.jsonl"
    path.write_text("\n".join([
        _line(1, "VALIDATION_TYPE_MISMATCH", [
            {"field": "email", "column": "E-Mail", "code": "VALIDATION_TYPE_MISMATCH", "value": "x"},
            {"field": "plan", "column": "Plan", "code": "VALIDATION_CONSTRAINT_VIOLATION", "value": "gold"}]),
        _line(2, "DUPLICATE_KEY", [
            {"field": "k1,k2", "column": "Key 1,Key 2", "code": "DUPLICATE_KEY", "value": "a, b"}]),
        _line(3, "MALFORMED_ROW", [{"field": None, "column": None, "code": "MALFORMED_ROW",
                                    "message": "row has 1 cells but the header has 2"}]),
        _line(4, "VALIDATION_TYPE_MISMATCH", [
            {"field": "email", "column": "E-Mail", "code": "VALIDATION_TYPE_MISMATCH", "value": "y"}]),
    ]) + "\n")
    summary = summarise_rejections(path)
    groups = [(g.column, g.code, g.count, g.values) for g in summary.groups]
    assert groups == [("E-Mail", "VALIDATION_TYPE_MISMATCH", 2, ["x", "y"]),
                      ("Key 1", "DUPLICATE_KEY", 1, ["a, b"]),
                      (None, "MALFORMED_ROW", 1, [{"k1": "a", "k2": "b"}])]
    assert sum(g[2] for g in groups) == 4
    assert summary.also_failing == {"plan": 1}  # row 1 failed plan too, skipped for email
    assert RejectionSummary.from_json(summary.to_json()) == summary


def test_samples_stop_at_five_and_no_error_file_is_no_groups(tmp_path):
    path = tmp_path / "errors.jsonl"
    path.write_text("".join(_line(i, "REQUIRED_FIELD_MISSING", [
        {"field": "email", "column": "email", "code": "REQUIRED_FIELD_MISSING", "value": None}]) + "\n"
        for i in range(1, 8)))
    [group] = summarise_rejections(path).groups
    assert (group.count, len(group.samples)) == (7, 5)
    assert [s["rowNumber"] for s in group.samples] == [1, 2, 3, 4, 5]
    assert summarise_rejections(None).groups == []
