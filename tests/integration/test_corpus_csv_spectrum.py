"""csv-spectrum: every CSV read as string fields gives exactly the values of its expected JSON.

Empty cells are kept as "" (the schema declares no missing values), since the expected output
has them as empty strings; each file's first column is a distinct key, so every row is valid.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.corpus import corpus_params, corpus_path, header_of, run_as_strings


def expected_json(rel: str) -> list[dict[str, str]]:
    path = corpus_path(rel)
    folder = "extra" if path.parent.name == "extra" else "json"
    return json.loads((path.parent.parent / folder / f"{path.stem}.json").read_text("utf-8"))


@pytest.mark.parametrize("rel", corpus_params("csv-spectrum/csvs/*.csv"))
def test_every_value_is_exactly_the_expected_json(rel, tmp_path):
    expected = expected_json(rel)
    run = run_as_strings(corpus_path(rel), tmp_path, mode="balanced", missing_values=())
    assert run.errors == []
    assert run.read == len(expected)
    assert run.rows() == expected
    assert header_of(corpus_path(rel)) == list(expected[0])


@pytest.mark.parametrize("rel", corpus_params("csv-spectrum/extra/latin1.csv"))
def test_a_latin1_file_is_decoded_as_cp1252_like_the_historical_expectation(rel, tmp_path):
    # csv-spectrum v0.1.0 expected this file read as Latin-1 ("©"); Lading's cp1252 fallback
    # decodes 0xA9 the same way, so no row is an ENCODING_ERROR.
    run = run_as_strings(corpus_path(rel), tmp_path, missing_values=())
    assert run.rows() == expected_json(rel)
