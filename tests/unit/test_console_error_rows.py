"""The job page's error rows: read from the error file a page at a time, from a byte offset."""

from __future__ import annotations

import json

from lading.entrypoints.http.console.error_rows import read_page


def _error_file(tmp_path, n: int):
    path = tmp_path / "errors.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(1, n + 1):
            code = "VALIDATION_TYPE_MISMATCH" if i % 3 else "REQUIRED_FIELD_MISSING"
            column = "E-mail" if i % 2 else "born"
            fh.write(json.dumps({"rowNumber": i, "code": code, "error": "x", "errors": [
                {"field": "email" if i % 2 else "birth_date", "column": column, "code": code,
                 "message": f"problem {i}", "value": f"v{i}"}], "sourceRow": {}}) + "\n")
    return path


def test_pages_follow_each_other_from_the_offset_the_previous_one_returned(tmp_path):
    path = _error_file(tmp_path, 120)
    first = read_page(path)
    second = read_page(path, first.next_offset)
    third = read_page(path, second.next_offset)
    numbers = [e.row_number for page in (first, second, third) for e in page.entries]
    assert numbers == list(range(1, 121))
    assert (len(first.entries), len(second.entries), len(third.entries)) == (50, 50, 20)
    assert third.next_offset is None


def test_a_full_last_page_offers_no_next_page(tmp_path):
    page = read_page(_error_file(tmp_path, 50))
    assert len(page.entries) == 50 and page.next_offset is None


def test_filters_by_code_and_by_column_or_field_name(tmp_path):
    path = _error_file(tmp_path, 30)
    by_code = read_page(path, code="REQUIRED_FIELD_MISSING")
    assert [e.row_number for e in by_code.entries] == [3, 6, 9, 12, 15, 18, 21, 24, 27, 30]
    by_column = read_page(path, column="E-mail")
    assert [e.row_number for e in by_column.entries] == list(range(1, 31, 2))
    assert read_page(path, column="email").entries == by_column.entries  # the field name too
    both = read_page(path, code="REQUIRED_FIELD_MISSING", column="born")
    assert [e.row_number for e in both.entries] == [6, 12, 18, 24, 30]


def test_a_rare_match_stops_after_the_scan_limit_and_offers_to_keep_searching(tmp_path):
    path = _error_file(tmp_path, 25)
    page = read_page(path, code="REQUIRED_FIELD_MISSING", scan_lines=10)
    assert [e.row_number for e in page.entries] == [3, 6, 9]
    assert page.exhausted_scan and page.next_offset is not None
    rest = read_page(path, page.next_offset, code="REQUIRED_FIELD_MISSING", scan_lines=10)
    assert [e.row_number for e in rest.entries] == [12, 15, 18]


def test_a_row_level_problem_shows_the_raw_record_as_its_value(tmp_path):
    path = tmp_path / "errors.jsonl"
    path.write_text(json.dumps({"rowNumber": 7, "code": "MALFORMED_ROW", "error": "3 cells",
                                "errors": [{"field": None, "column": None, "code": "MALFORMED_ROW",
                                            "message": "expected 5 cells, got 3", "value": None}],
                                "sourceRow": {"_raw": "a,b,c"}}) + "\n")
    (entry,) = read_page(path).entries
    assert (entry.row_number, entry.code, entry.column, entry.value) == (7, "MALFORMED_ROW", None, "a,b,c")


def test_no_error_file_is_an_empty_page(tmp_path):
    page = read_page(None)
    assert page.entries == [] and page.next_offset is None
    assert read_page(tmp_path / "absent.jsonl").entries == []
