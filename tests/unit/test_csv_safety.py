"""Spreadsheet formula injection (OWASP) is neutralised in every CSV Lading writes (issue 10
point 4), while numbers stay numbers."""

from __future__ import annotations

import io

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lading.adapters.arrow_csv_safety import neutralised
from lading.adapters.arrow_engine import ArrowValidationEngine
from lading.domain.csv_safety import neutralise


@pytest.mark.parametrize("cell, written", [
    ('=HYPERLINK("http://x.io","click")', '\'=HYPERLINK("http://x.io","click")'),
    ("+1+1", "'+1+1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("-2+3", "'-2+3"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("-5", "-5"),
    ("+1.5e3", "+1.5e3"),
    ("a=b", "a=b"),
    ("", ""),
    ("plain", "plain"),
])
def test_a_cell_that_would_start_a_formula_is_quoted_and_a_number_is_not(cell, written):
    assert neutralise(cell) == written


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="=+-@\t\r0123456789.eE aA(", max_size=6) | st.none(), max_size=20))
def test_the_vectorised_column_agrees_with_the_cell_function(cells):
    column = neutralised(pa.array(cells, pa.string())).to_pylist()
    assert column == [None if c is None else neutralise(c) for c in cells]


def test_numeric_columns_are_never_touched():
    column = pa.array([-5, 3], pa.int64())
    assert neutralised(column) is column


def test_the_valid_rows_csv_neutralises_text_and_keeps_negative_numbers(tmp_path):
    table = pa.table({"id": pa.array([-5, 2], pa.int64()),
                      "note": pa.array(["=HYPERLINK(\"http://evil\")", "@SUM(A1)"])})
    path = tmp_path / "chunk.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    out = io.BytesIO()
    ArrowValidationEngine().write_valid_rows_csv([str(path)], out)
    assert out.getvalue().decode().splitlines() == [
        '"id","note"', '-5,"\'=HYPERLINK(""http://evil"")"', '2,"\'@SUM(A1)"']
