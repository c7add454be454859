"""Every file of the corpus, uploaded as it is: a clean job result, never an exception.

landing_friendly is the most forgiving mode, so it is where a reader bug would show as a
traceback instead of a rejected row. The other families' tests cover balanced mode. Expected
outputs and schemas (.json documents, not NDJSON) are uploads too: they fail with a reason.
Gzip-compressed, every reader gives the same outcome as for the plain file, and so does a file
read in many small chunks (quoted line breaks, long cells and bad rows across chunk boundaries).
"""

from __future__ import annotations

import gzip
import json

import pytest

from tests.integration.corpus import (CORPUS, Failed, Run, corpus_params, corpus_path, header_of,
                                      run_as_strings, run_engine, string_schema)

EVERY_FILE = corpus_params("**/*", exclude=(r"(^|/)(README|LICENSE|license)(\.md)?$", r"^manifest\.json$"))


@pytest.mark.parametrize("rel", EVERY_FILE)
def test_every_corpus_file_completes_or_fails_with_a_reason(rel, tmp_path):
    outcome = run_as_strings(corpus_path(rel), tmp_path, mode="landing_friendly")
    if isinstance(outcome, Failed):
        assert outcome.message.startswith(("cannot", "no line among", "mapped column")), outcome
    else:
        assert isinstance(outcome, Run)
        # landing_friendly keeps ragged rows, repairs bad bytes and nulls bad values: it rejects
        # a row only for its key (the first column here: missing, not text, or a duplicate) or
        # for a line that is no row at all
        for error in outcome.errors:
            assert {e["field"] for e in error["errors"]} <= {None, "c1"}, error
            assert error["code"] in {"MALFORMED_ROW", "DUPLICATE_KEY", "REQUIRED_FIELD_MISSING",
                                     "VALIDATION_TYPE_MISMATCH"}


def test_the_sweep_covers_the_whole_manifest():
    if not CORPUS.is_dir():
        corpus_path(None)
    listed = {e["path"] for e in json.loads((CORPUS / "manifest.json").read_text("utf-8"))}
    assert listed <= {p.values[0] for p in EVERY_FILE}


GZIPPED = [
    "csv-spectrum/csvs/newlines_crlf.csv",
    "frictionless-py/data/issue-811.csv",  # cp1252, ';', mixed line ends
    "duckdb/data/csv/encodings/utf16.csv",
    "duckdb/data/csv/lineitem-carriage.csv",  # CR only
    "duckdb/data/csv/test/invalid_utf_header.csv",
    "duckdb/data/json/unterminated_quotes.ndjson",
    "duckdb/data/json/example_r.ndjson",
    "frictionless-py/data/bom.csv",
]


@pytest.mark.parametrize("rel", [p for rel in GZIPPED for p in corpus_params(rel)])
@pytest.mark.parametrize("mode", ["balanced", "landing_friendly"])
def test_a_gzipped_file_gives_the_outcome_of_the_plain_file(rel, mode, tmp_path):
    path = corpus_path(rel)
    packed = tmp_path / f"{path.name}.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    plain = run_as_strings(path, tmp_path / "plain", mode=mode)
    compressed = run_as_strings(packed, tmp_path / "gz", mode=mode)
    assert isinstance(plain, Run) and isinstance(compressed, Run)
    assert (compressed.read, compressed.valid) == (plain.read, plain.valid)
    assert compressed.errors == plain.errors
    assert compressed.rows() == plain.rows()


CHUNKED = [
    "datasets-language-codes/data/language-codes-full.csv",  # a CR inside every last cell
    "frictionless-py/data/table-with-accents.csv",
    "frictionless-py/data/issue-493.csv",  # multi-line JSON cells
    "frictionless-py/data/issue-1066-largecellsizewithdeviation.csv",  # a 16 KB cell
    "frictionless-py/data/capital-invalid.csv",
    "duckdb/data/csv/test/invalid_utf_complex.csv",
    "duckdb/data/csv/encodings/utf16.csv",
    "duckdb/data/json/unterminated_quotes.ndjson",
]


@pytest.mark.parametrize("rel", [p for rel in CHUNKED for p in corpus_params(rel)])
def test_small_chunks_give_the_outcome_of_one_chunk(rel, tmp_path):
    path = corpus_path(rel)
    schema, field_map = string_schema(header_of(path), key=None, missing_values=())
    whole = run_engine(path, tmp_path / "whole", schema, field_map)
    chunked = run_engine(path, tmp_path / "chunked", schema, field_map,
                         block_size=max(32, path.stat().st_size // 16))
    assert len(whole.chunks) == 1 < len(chunked.chunks)
    assert (chunked.read, chunked.valid, chunked.errors) == (whole.read, whole.valid, whole.errors)
    assert chunked.rows() == whole.rows()
