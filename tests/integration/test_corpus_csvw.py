"""W3C CSVW dialect tests: Lading's values against the csv2json expected outputs.

Lading has no dialect options: it sniffs the delimiter, always reads the first record as the
header and keeps string values exactly (spaces included). So the tests whose dialect is what
Lading does by default (and trim/skipInitialSpace, whose expected outputs keep the spaces too)
give exactly the expected rows; comment and blank rows are rows to Lading and are rejected with
a code; skipped rows before the header, or no header at all, fail the job with a reason.

The CSVW metadata's columns become the Table Schema (titles are the header names, M/d/yyyy
dates a `date` field: balanced mode heals a consistent non-ISO date format to ISO, as csv2json
normalises it).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from lading.domain.table_schema import TableSchema
from tests.integration.corpus import Failed, Run, corpus_params, corpus_path, header_of, run_engine

TESTS = "w3c-csvw/tests"
TREE_OPS = f"{TESTS}/test050-metadata.json"  # the tree-ops columns, shared by every test below

# csv file -> (metadata with its columns or None: every header column a string; expected
# output; Lading's rejected rows {rowNumber: code}; or a Failed reason fragment)
CASES = {
    "test002.csv": (None, "test002.json", {}),
    "test003.csv": (None, "test003.json", {}),
    "tree-ops.tsv": (TREE_OPS, "test050.json", {}),
    "tree-ops.csv": (TREE_OPS, "test050.json", {}),  # the same table, comma-separated
    "test022.csv": (f"{TESTS}/test022-metadata.json", "test022.json", {}),
    "test056.csv": (f"{TESTS}/test056-metadata.json", "test056.json", {}),
    # commentPrefix: the comment lines are one-cell rows
    "test052.csv": (f"{TESTS}/test052-metadata.json", "test052.json",
                    {1: "MALFORMED_ROW", 2: "MALFORMED_ROW"}),
    # skipBlankRows: a row of empty cells has no key
    "test055.csv": (f"{TESTS}/test055-metadata.json", "test055.json",
                    {1: "REQUIRED_FIELD_MISSING", 3: "REQUIRED_FIELD_MISSING"}),
    # skipRows 2: the first comment line is taken for the header
    "test051.csv": (f"{TESTS}/test051-metadata.json", None,
                    "mapped column(s) missing from the file's header: GID, On Street"),
    # header=absent: the first data row is taken for the header
    "test019.csv": (TREE_OPS, None, "mapped column(s) missing from the file's header: GID"),
    # ragged rows (a CSVW validation test expected to fail)
    "test091.csv": (None, None, {2: "MALFORMED_ROW", 3: "MALFORMED_ROW"}),
}


def schema_from_metadata(metadata: str | None, header: list[str]) -> tuple[TableSchema, dict, dict]:
    """(schema, fieldMap header title -> field, field -> CSVW column name)."""
    if metadata is None:
        columns = [{"titles": h, "name": h} for h in header]
    else:
        columns = json.loads(corpus_path(metadata).read_text())["tableSchema"]["columns"]
    fields, field_map, names = [], {}, {}
    for i, column in enumerate(columns):
        field = f"c{i + 1}"
        datatype = column.get("datatype", "string")
        base = datatype["base"] if isinstance(datatype, dict) else datatype
        fields.append({"name": field, "type": "date" if base == "date" else "string"})
        field_map[column["titles"]] = field
        names[field] = column.get("name", column["titles"])
    schema = TableSchema.from_dict({"fields": fields, "primaryKey": [fields[0]["name"]]})
    return schema, field_map, names


def expected_rows(name: str) -> list[dict[str, str]]:
    doc = json.loads(corpus_path(f"{TESTS}/{name}").read_text())
    return [row["describes"][0] for row in doc["tables"][0]["row"]]


def as_csvw(run: Run, names: dict[str, str]) -> list[dict[str, str]]:
    out = []
    for row in run.rows():
        by_field = {run.field_map[h]: v for h, v in row.items()}
        out.append({names[f]: v.isoformat() if isinstance(v, date) else v
                    for f, v in by_field.items()})
    return out


@pytest.mark.parametrize("rel", [p for name in CASES for p in corpus_params(f"{TESTS}/{name}")])
def test_csvw_dialect_file(rel, tmp_path):
    path = corpus_path(rel)
    metadata, expected, outcome = CASES[Path(rel).name]
    schema, field_map, names = schema_from_metadata(metadata, header_of(path))
    run = run_engine(path, tmp_path, schema, field_map)
    if isinstance(outcome, str):
        assert isinstance(run, Failed) and outcome in run.message
        return
    assert isinstance(run, Run), run
    assert run.codes() == outcome
    if expected is not None:
        assert as_csvw(run, names) == expected_rows(expected)


def test_every_csvw_file_has_a_case():
    listed = {Path(p.values[0]).name for p in corpus_params(f"{TESTS}/*.csv") + corpus_params(f"{TESTS}/*.tsv")
              if p.values[0]}
    assert listed <= set(CASES)
