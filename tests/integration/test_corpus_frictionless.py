"""Frictionless invalid files: Lading's row errors agree with the errors Frictionless expects.

The expected errors are quoted from frictionless-py's own tests (frictionless/resource/__spec__/
test_validate.py and the validation guide, at the corpus's commit) as
(rowNumber, fieldNumber, code). Frictionless reports every error of a row and also errors of the
header; Lading rejects a row once, with a primary code (SPEC §3: a row-level problem first, then
the first failing field in schema order). So the comparison is per row: the rows Frictionless
flags are exactly the rows Lading rejects, and Lading's primary code is the mapped code of the
row's most telling Frictionless error.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lading.domain.table_schema import TableSchema
from tests.integration.corpus import (Run, corpus_params, corpus_path, run_as_strings,
                                      run_engine)

# Frictionless error code -> Lading row error code (SPEC §3). A row whose cell count differs
# from the header's is one MALFORMED_ROW in balanced mode, whichever side it errs on; a blank
# row (delimiters only) has no value for the key, which is always required.
ROW_CODES = {
    "extra-cell": "MALFORMED_ROW",
    "missing-cell": "MALFORMED_ROW",
    "blank-row": "REQUIRED_FIELD_MISSING",
    "type-error": "VALIDATION_TYPE_MISMATCH",
    "constraint-error:required": "REQUIRED_FIELD_MISSING",
    "constraint-error": "VALIDATION_CONSTRAINT_VIOLATION",
    "primary-key-error": "DUPLICATE_KEY",
    "unique-error": "DUPLICATE_KEY",  # on the key field: the key check reports it
    "duplicate-row": "DUPLICATE_KEY",  # an identical row repeats its key too
    "encoding-error": "ENCODING_ERROR",
}
ROW_LEVEL = ("extra-cell", "missing-cell")
# Problems of the header, not of any row. Lading matches columns by name: a blank label is a
# column nothing maps to, a duplicated label feeds its field from its first occurrence.
HEADER_ONLY = ("blank-label", "duplicate-label")

# (file, schema: None = the header's columns as strings; else a Table Schema; the first field
#  is the key), then Frictionless's expected errors as (row, field, code).
CASES = {
    "frictionless-py/data/invalid.csv": (
        {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}]},
        [(None, 3, "blank-label"), (None, 4, "duplicate-label"),
         (2, 3, "missing-cell"), (2, 4, "missing-cell"), (3, 3, "missing-cell"),
         (3, 4, "missing-cell"), (4, None, "blank-row"), (5, 5, "extra-cell")]),
    "frictionless-py/data/capital-invalid.csv": (
        {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}]},
        [(None, 3, "duplicate-label"), (10, 3, "missing-cell"), (11, None, "blank-row"),
         (12, 1, "type-error"), (12, 4, "extra-cell")]),
    "frictionless-py/data/defective-rows.csv": (
        {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}, {"name": "age", "type": "integer"}]},
        [(2, 3, "missing-cell"), (3, 4, "extra-cell")]),
    "frictionless-py/data/blank-rows.csv": (
        {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}, {"name": "age", "type": "integer"}]},
        [(4, None, "blank-row")]),
    "frictionless-py/data/blank-rows-multiple.csv": (
        {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}, {"name": "age", "type": "integer"}]},
        [(row, None, "blank-row") for row in range(4, 15)]),
    "frictionless-py/data/structure-errors.csv": (
        {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}, {"name": "age", "type": "integer"}]},
        [(4, None, "blank-row"), (5, 4, "extra-cell"), (5, 5, "extra-cell"), (5, 6, "extra-cell")]),
    "frictionless-py/data/blank-headers.csv": (
        {"fields": [{"name": "id", "type": "integer"}, {"name": "age", "type": "integer"}]},
        [(None, 2, "blank-label")]),
    "frictionless-py/data/duplicate-headers.csv": (
        {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}, {"name": "age", "type": "integer"}]},
        [(None, 3, "duplicate-label"), (None, 5, "duplicate-label")]),
    "frictionless-py/data/schema-errors.csv": (
        "frictionless-py/data/schema-valid.json",
        [(4, 1, "type-error"), (4, 2, "constraint-error:required"),
         (4, 3, "constraint-error:required"), (5, 1, "constraint-error:required"),
         (5, 4, "extra-cell"), (5, 5, "extra-cell"), (5, 6, "extra-cell")]),
    "frictionless-py/data/unique-field.csv": (
        {"fields": [{"name": "id", "constraints": {"unique": True}}, {"name": "name"}, {"name": "slug"}]},
        [(10, 1, "unique-error"), (10, None, "primary-key-error")]),
    "frictionless-py/data/duplicate-rows.csv": (
        {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}, {"name": "age", "type": "integer"}]},
        [(4, None, "duplicate-row")]),
    "frictionless-py/data/capital-valid.csv": (
        {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}]}, []),
    "frictionless-py/data/table.csv": (
        "frictionless-py/data/schema.json", []),
    "frictionless-py/data/blank-cells.csv": (
        {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}]}, []),
    "frictionless-py/data/without-rows.csv": (
        {"fields": [{"name": "id", "type": "integer"}, {"name": "name"}]}, []),
}


def lading_row(records: list[list[str]], frictionless_row: int) -> int | None:
    """Frictionless numbers every physical record, the header as 1 and an empty line too;
    Lading numbers data rows from 1 and an empty line is no row (None)."""
    if not records[frictionless_row - 1]:
        return None
    return sum(1 for r in records[1:frictionless_row] if r)


def expected_primary_codes(path: Path, errors: list[tuple]) -> dict[int, str]:
    with open(path, newline="", encoding="utf-8") as fh:
        records = list(csv.reader(fh))
    by_row: dict[int, list[tuple]] = {}
    for row, fieldno, code in errors:
        if code in HEADER_ONLY:
            assert row is None
            continue
        by_row.setdefault(row, []).append((fieldno, code))
    expected = {}
    for row, found in by_row.items():
        number = lading_row(records, row)
        if number is None:
            assert [c for _, c in found] == ["blank-row"]  # an empty line: nothing to reject
            continue
        codes = [c for _, c in found]
        if any(c in ROW_LEVEL for c in codes):
            primary = next(c for c in codes if c in ROW_LEVEL)
        else:
            fields = sorted((f or 0, c) for f, c in found)  # row-wide codes (no field) first
            primary = fields[0][1]
        expected[number] = ROW_CODES[primary]
    return expected


def schema_for(spec: dict | str) -> tuple[TableSchema, dict[str, str]]:
    """The case's schema (a descriptor, or a schema file of the corpus); its first field is the
    key unless it names one."""
    if isinstance(spec, str):
        descriptor = json.loads(corpus_path(spec).read_text("utf-8"))
        descriptor.setdefault("primaryKey", [descriptor["fields"][0]["name"]])
    else:
        descriptor = {**spec, "primaryKey": [spec["fields"][0]["name"]]}
    schema = TableSchema.from_dict(descriptor)
    return schema, {name: name for name in schema.field_names}


@pytest.mark.parametrize("rel", [p for rel in CASES for p in corpus_params(rel)])
def test_row_errors_agree_with_frictionless(rel, tmp_path):
    path = corpus_path(rel)
    spec, frictionless_errors = CASES[rel]
    schema, field_map = schema_for(spec)
    run = run_engine(path, tmp_path, schema, field_map, mode="balanced")
    assert isinstance(run, Run), run
    assert run.codes() == expected_primary_codes(path, frictionless_errors)


def test_the_mapping_covers_every_case():
    used = {c for _, errors in CASES.values() for _, _, c in errors}
    assert used <= set(ROW_CODES) | set(HEADER_ONLY)


def test_a_repeated_header_name_feeds_its_field_from_the_first_column(tmp_path):
    path = corpus_path("frictionless-py/data/duplicate-headers.csv")
    schema, field_map = schema_for(CASES["frictionless-py/data/duplicate-headers.csv"][0])
    run = run_engine(path, tmp_path, schema, field_map)
    assert run.rows() == [{"id": 1101, "name": "John", "age": 30}, {"id": 1102, "name": "Julie", "age": 26}]


def test_a_type_error_row_lists_every_failing_field_in_schema_order(tmp_path):
    path = corpus_path("frictionless-py/data/schema-errors.csv")
    schema, field_map = schema_for("frictionless-py/data/schema-valid.json")
    run = run_engine(path, tmp_path, schema, field_map)
    first = run.errors[0]
    assert [(e["field"], e["code"]) for e in first["errors"]] == [
        ("id", "VALIDATION_TYPE_MISMATCH"), ("name", "REQUIRED_FIELD_MISSING"),
        ("age", "REQUIRED_FIELD_MISSING")]
    assert first["sourceRow"] == {"id": "i_should_be_a_number", "name": "", "age": ""}


@pytest.mark.parametrize("rel", corpus_params("frictionless-py/data/latin1.csv"))
def test_latin1_where_frictionless_forced_utf8_reports_encoding_error_lading_sniffs_cp1252(rel, tmp_path):
    # Upstream validates this file with encoding="utf-8" and expects an encoding-error; Lading
    # chooses the encoding itself, and a file with no valid multi-byte sequence is cp1252.
    run = run_as_strings(corpus_path(rel), tmp_path)
    assert run.rows() == [{"id": "1", "name": "english"}, {"id": "2", "name": "©"}]


def test_an_empty_file_that_frictionless_calls_a_source_error_is_an_empty_completed_import(tmp_path):
    # SPEC §3: successRate is 1.0 for an empty file, so an empty file completes with no rows.
    run = run_as_strings(corpus_path("frictionless-py/data/empty.csv"), tmp_path)
    assert (run.read, run.valid, run.errors) == (0, 0, [])


@pytest.mark.parametrize("rel", corpus_params("frictionless-py/data/*", exclude=(r"\.json$",)))
def test_every_frictionless_table_imports_cleanly_as_strings(rel, tmp_path):
    """Valid UTF-8 / cp1252 tables with a header read with the header's column count; what
    balanced mode rejects is only ever structural (ragged) or a key problem."""
    run = run_as_strings(corpus_path(rel), tmp_path, mode="balanced")
    assert isinstance(run, Run), run
    assert set(run.by_code) <= {"MALFORMED_ROW", "DUPLICATE_KEY", "REQUIRED_FIELD_MISSING"}

