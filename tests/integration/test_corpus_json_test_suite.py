"""JSONTestSuite documents as NDJSON lines: never a failed job, never an exception.

Each document follows an anchor line `{"id": "anchor"}` in an NDJSON file (so the file has a
JSON object to take columns from whatever the document is), imported into an object whose key
is `id`. The document's lines are then rows: a `y_` (must accept) object on one line is read as
that object, so it is accepted, or rejected only for the key it lacks; a `y_` value that is not
an object is a MALFORMED_ROW (NDJSON lines are objects); every line of an `n_` (must reject)
document is rejected as MALFORMED_ROW or ENCODING_ERROR; `i_` and test_transform documents may
go either way. A document spread over several lines is several NDJSON lines, and blank lines
are no rows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lading.domain.table_schema import TableSchema
from tests.integration.corpus import Run, corpus_params, corpus_path, run_engine

ANCHOR = b'{"id": "anchor"}\n'
SCHEMA = TableSchema.from_dict({"fields": [{"name": "id", "type": "string"}], "primaryKey": ["id"]})
UNREADABLE_LINE = {"MALFORMED_ROW", "ENCODING_ERROR"}


def lines_of(document: bytes) -> list[bytes]:
    return [line for line in re.split(rb"\r\n|\r|\n", document) if line.strip()]


def import_document(rel: str, tmp_path: Path) -> tuple[Run, list[bytes]]:
    document = corpus_path(rel).read_bytes()
    source = tmp_path / "document.ndjson"
    source.write_bytes(ANCHOR + document)
    run = run_engine(source, tmp_path, SCHEMA, {"id": "id"})
    assert isinstance(run, Run), f"the job failed: {run}"
    assert run.read == 1 + len(lines_of(document))
    assert 1 not in run.codes(), "the anchor line is a good row"
    return run, lines_of(document)


@pytest.mark.parametrize("rel", corpus_params("JSONTestSuite/test_parsing/y_*.json"))
def test_a_must_accept_document_is_read(rel, tmp_path):
    run, lines = import_document(rel, tmp_path)
    if len(lines) > 1:  # pretty-printed: no line is a whole JSON value
        assert set(run.codes().values()) <= {"MALFORMED_ROW"}
        return
    value = json.loads(lines[0])
    errors = [e for e in run.errors if e["rowNumber"] == 2]
    if not isinstance(value, dict):
        assert [e["error"] for e in errors] == ["line is not a JSON object"]
    elif isinstance(value.get("id"), str):
        assert errors == [] and run.valid == 2
    else:
        [error] = errors
        assert [(e["field"], e["code"]) for e in error["errors"]] == [("id", "REQUIRED_FIELD_MISSING")]
        assert error["sourceRow"] == value


@pytest.mark.parametrize("rel", corpus_params("JSONTestSuite/test_parsing/n_*.json"))
def test_every_line_of_a_must_reject_document_is_a_row_error(rel, tmp_path):
    run, lines = import_document(rel, tmp_path)
    assert run.valid == 1, "nothing of the document is accepted"
    assert set(run.codes().values()) <= UNREADABLE_LINE
    assert len(run.codes()) == len(lines)


@pytest.mark.parametrize("rel", corpus_params("JSONTestSuite/test_parsing/i_*.json")
                         + corpus_params("JSONTestSuite/test_transform/*.json"))
def test_an_implementation_defined_document_is_a_row_either_way(rel, tmp_path):
    run, _ = import_document(rel, tmp_path)
    assert set(run.codes().values()) <= UNREADABLE_LINE | {"REQUIRED_FIELD_MISSING"}
