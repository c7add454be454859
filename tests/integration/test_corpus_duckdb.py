"""DuckDB's messy CSV and NDJSON files, judged against Python's own parsers.

Each file is imported with every column a string field and the whole row as the key, so the
only rejections are structural (MALFORMED_ROW), encoding (ENCODING_ERROR) or a repeated row
(DUPLICATE_KEY). The expected outcome of every row comes from an independent reading: Python's
csv module told the encoding and delimiter (which Lading must sniff), or json.loads per line.
Lading's rules applied on top: blank lines are no rows; a row whose cell count differs from the
header's is malformed; invalid bytes reject a row only in a mapped column; a repeated header name
maps its first column only.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.integration.corpus import (Failed, Run, corpus_params, corpus_path, header_of,
                                      run_engine, string_schema)

CSV = "duckdb/data/csv"
JSON = "duckdb/data/json"

# file -> (encoding, delimiter) as read off the bytes. Lading must find both itself.
CSV_DIALECTS = {
    "all_quotes.csv": ("utf-8", ","),  # last row: a space before a quote splits a quoted cell
    "auto/backslash_escape.csv": ("utf-8", "|"),  # header-less: the first row is the header
    "auto/duplicate_header_col.csv": ("utf-8", ","),
    "auto/duplicate_header_collision.csv": ("utf-8", ","),
    "auto/empty_header.csv": ("utf-8", ","),
    "auto/missing_header_col.csv": ("utf-8", ","),
    "auto/no_header.csv": ("utf-8", ","),
    "auto/pipe_delim.csv": ("utf-8", "|"),
    "auto/semicolon_delim.csv": ("utf-8", ";"),
    "auto/single_quote_backslash.csv": ("utf-8", "|"),  # only `"` quotes: `'` is text
    "auto/tab.csv": ("utf-8", "\t"),
    "auto/utf8bom.csv": ("utf-8-sig", ","),
    "bad_escape.csv": ("utf-8", ","),  # no backslash escapes: RFC 4180 doubled quotes only
    "comma_decimal_null.csv": ("utf-8", ","),
    "csv_quoted_newline_odd.csv": ("utf-8", ","),
    "dirty_line.csv": ("utf-8", ","),  # the junk first line is the header: every row is ragged
    "double_quoted_header.csv": ("utf-8", ","),
    "empty.csv": ("utf-8", ","),
    "empty_first_line.csv": ("utf-8", ","),  # space is not a delimiter Lading sniffs
    "encodings/all_latin1.csv": ("cp1252", ","),
    "encodings/latin1.csv": ("cp1252", ","),
    "encodings/only_latin1.csv": ("cp1252", ","),
    "encodings/only_utf16.csv": ("utf-16", ","),
    # Shift_JIS is not an encoding Lading reads: as UTF-8 its bytes reject every row
    "encodings/shift_jis.csv": ("utf-8", ","),
    "encodings/utf16.csv": ("utf-16", ","),
    "error/mismatch/bad.csv": ("utf-8", ","),
    "error/mismatch/example.tsv": ("utf-8", "\t"),
    "evil_nullpadding.csv": ("utf-8", ";"),
    "extra_delimiters.csv": ("utf-8", ","),
    "invalid_utf8.csv": ("utf-16", ","),  # UTF-16 despite its name
    "lineitem-carriage.csv": ("utf-8", "|"),
    "mixed_decimal.csv": ("utf-8", ";"),
    "mixed_new_line.csv": ("utf-8", ","),
    "mixed_new_line_2.csv": ("utf-8", ","),
    "multidelimiter/carriage_feed_newline.csv": ("utf-8", ","),
    "multidelimiter/file_ends_in_quoted_value.csv": ("utf-8", ","),
    "multidelimiter/windows_newline.csv": ("utf-8", ","),
    "null/multiple_nulls.csv": ("utf-8", ","),
    "null_string.csv": ("utf-8", ","),
    "null_terminator.csv": ("utf-8", ","),
    "nullbyte.csv": ("utf-8", "|"),
    "nullbyte_header.csv": ("utf-8", "|"),
    "quoted_newline.csv": ("utf-8", ","),
    "real/greek_utf8.csv": ("utf-8", "|"),
    "rejects/maximum_line/max_10.csv": ("utf-8", ","),
    "rejects/multiple_errors/invalid_utf_unquoted.csv": ("utf-8", ","),
    # text after a closing quote joins the cell; a quote open at the end of the file closes
    # there (as Python's csv module reads them)
    "rejects/unquoted/basic.csv": ("utf-8", ","),
    "rejects/unquoted/unquoted_last_value.csv": ("utf-8", ","),
    "rejects/unquoted/unquoted_new_line.csv": ("utf-8", ","),
    "test/invalid_utf.csv": ("cp1252", "|"),  # E2 82 28 and no valid UTF-8 sequence: cp1252
    # the bad bytes sit in the second of three columns all named `valid`: an unmapped column
    "test/invalid_utf_complex.csv": ("utf-8", ","),
    "test/invalid_utf_header.csv": ("utf-8", ","),
}
# Files Lading cannot read at all, and the reason the job fails with.
CSV_FAILURES = {
    "multidelimiter/simple_unterminated_quote.csv": "header row never ends",
    "multidelimiter/unterminated_quote_multi_line.csv": "header row never ends",
}
_BAD_BYTE = re.compile("[\udc80-\udcff]")  # surrogateescape's stand-ins for undecodable bytes


def python_csv(rel: str, encoding: str, delimiter: str) -> tuple[list[str], list[list[str]]]:
    data = corpus_path(rel).read_bytes()
    codec = "utf-16" if encoding == "utf-16" else encoding
    errors = "strict" if codec in ("cp1252", "utf-16") else "surrogateescape"
    text = data.decode(codec, errors)
    records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
    return (records[0], records[1:]) if records else ([], [])


def expected_outcome(header: list[str], records: list[list[str]]):
    """{rowNumber: code} and the accepted rows keyed by mapped header names."""
    mapped = {}
    for i, name in enumerate(header):
        mapped.setdefault(name, i)
    codes, accepted, keys = {}, [], set()
    for number, record in enumerate(records, 1):
        if len(record) != len(header):
            codes[number] = "MALFORMED_ROW"
            continue
        row = {name: record[i] for name, i in mapped.items()}
        # invalid bytes, and a NUL, which no destination stores (issue 9.2)
        if any(_BAD_BYTE.search(v) or "\0" in v for v in row.values()):
            codes[number] = "ENCODING_ERROR"
        elif tuple(row.values()) in keys:
            codes[number] = "DUPLICATE_KEY"
        else:
            keys.add(tuple(row.values()))
            accepted.append(row)
    return codes, accepted


def run_keyed_by_row(rel: str, tmp_path) -> Run | Failed:
    path = corpus_path(rel)
    header = header_of(path) or ["value"]
    schema, field_map = string_schema(header, key=None, missing_values=())
    return run_engine(path, tmp_path, schema, field_map)


@pytest.mark.parametrize("rel", corpus_params(f"{CSV}/**/*.csv") + corpus_params(f"{CSV}/**/*.tsv"))
def test_a_messy_csv_reads_as_pythons_csv_module_reads_it(rel, tmp_path):
    run = run_keyed_by_row(rel, tmp_path)
    name = rel.removeprefix(f"{CSV}/")
    if name in CSV_FAILURES:
        assert isinstance(run, Failed) and CSV_FAILURES[name] in run.message
        return
    assert name in CSV_DIALECTS, "every corpus file has its expectation written down"
    encoding, delimiter = CSV_DIALECTS[name]
    header, records = python_csv(rel, encoding, delimiter)
    assert isinstance(run, Run), run
    header = [_BAD_BYTE.sub("\ufffd", h) for h in header]  # shown as U+FFFD, one per byte
    assert header_of(corpus_path(rel)) == header
    codes, accepted = expected_outcome(header, records)
    assert run.read == len(records)
    assert run.codes() == codes
    assert run.rows() == accepted


# -- NDJSON -------------------------------------------------------------------------------------

# Documents, not lines: each fails the job since no line of it is a JSON object.
NOT_NDJSON = ("arr.json", "array_of_empty_arrays.json", "empty_array.json", "empty_no_newline.json",
              "fuzzer_hang.json", "malformed/array_comma_malformed.json",
              "malformed/empty_array_malformed.json", "malformed/empty_array_trailing.json",
              "multiple_objects_per_line.ndjson", "sample_utf8_bom.json", "top_level_array.json",
              "top_level_two_arrays.json")


def python_lines(rel: str) -> list[tuple[int, object]]:
    """(line number, the decoded object or None when the line is not a JSON object)."""
    text = corpus_path(rel).read_bytes().decode("utf-8-sig")
    out = []
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        out.append((number, value if isinstance(value, dict) else None))
    return out


@pytest.mark.parametrize("rel", corpus_params(f"{JSON}/**/*.*json*"))
def test_ndjson_lines_are_rows_and_a_bad_line_is_one_malformed_row(rel, tmp_path):
    run = run_keyed_by_row(rel, tmp_path)
    name = rel.removeprefix(f"{JSON}/")
    if name in NOT_NDJSON:
        assert isinstance(run, Failed) and "is this NDJSON?" in run.message
        return
    assert isinstance(run, Run), run
    lines = python_lines(rel)
    assert run.read == len(lines)
    malformed = {n: "MALFORMED_ROW" for n, value in lines if value is None}
    assert {n: c for n, c in run.codes().items() if c == "MALFORMED_ROW"} == malformed
    # What else is rejected is a value that is not text for a string field (a nested object,
    # an array, a number) or a key the line does not have: judged, not lost.
    assert set(run.by_code) <= {"MALFORMED_ROW", "VALIDATION_TYPE_MISMATCH", "REQUIRED_FIELD_MISSING",
                                "DUPLICATE_KEY"}


@pytest.mark.parametrize("rel", corpus_params(f"{JSON}/example_r*.ndjson"))
def test_crlf_and_cr_only_ndjson_give_the_rows_of_the_lf_file(rel, tmp_path):
    lf = run_keyed_by_row(f"{JSON}/example_n.ndjson", tmp_path / "lf")
    run = run_keyed_by_row(rel, tmp_path / "other")
    assert run.read == lf.read == 5
    assert run.rows() == lf.rows() and run.errors == lf.errors == []
