"""Real datasets: exact row counts, no rejected row, and every value as Python's csv module reads
it (an independent parser, told the encoding and delimiter that Lading has to sniff).

Schemas follow each dataset's datapackage.json types where it has one; the key is a column
that is unique and never empty in the data where there is one. codes-all.csv has none: its
natural key (Entity, Currency, AlphabeticCode) is empty in the code of 3 rows, which are then
rejected for the missing key and nothing else. Row counts are the corpus manifest's records less
the header.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from typing import Any, Callable

import pytest

from lading.domain.table_schema import TableSchema
from tests.integration.corpus import CORPUS, Run, corpus_params, corpus_path, header_of, run_engine


def as_date(text: str) -> date:
    return date.fromisoformat(text)


def decimal_comma(text: str) -> float:
    return float(Decimal(text.replace(",", ".")))


TYPES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "integer": ("integer", int),
    "number": ("number", float),
    "date": ("date", as_date),
    "boolean01": ("boolean", lambda v: v == "1"),  # 1/0 heal to booleans in balanced mode
    "decimal_comma": ("number", decimal_comma),  # 0,61 used through the column heals to 0.61
}

# file -> (encoding, delimiter, key column(s), {column: type})
DATASETS = {
    "datasets-country-codes/data/country-codes.csv": ("utf-8", ",", "ISO3166-1-Alpha-3", {}),
    "datasets-currency-codes/data/codes-all.csv": (
        "utf-8", ",", ("Entity", "Currency", "AlphabeticCode"), {"NumericCode": "number"}),
    "datasets-language-codes/data/ietf-language-tags.csv": (
        "utf-8", ",", "lang", {"defs": "integer", "dftLang": "boolean01", "revGenDate": "date"}),
    # a stray CR inside the closing quote of every row's last field stays in the value
    "datasets-language-codes/data/language-codes-full.csv": ("utf-8", ",", "alpha3-b", {}),
    "datasets-s-and-p-500-companies/data/constituents.csv": (
        "utf-8", ",", "Symbol", {"Date added": "date"}),
    "datasets-world-cities/data/world-cities.csv": ("utf-8", ",", "geonameid", {"geonameid": "integer"}),
    "frictionless-py/data/encoding-issue-274.csv": ("utf-8", ",", "id", {}),
    "frictionless-py/data/issue-647.csv.txt": ("cp1252", ";", "id_pdc", {}),
    # a quoted line break inside header names, mixed CRLF/LF line ends
    "frictionless-py/data/issue-811.csv": ("cp1252", ";", "Codice Catastale del comune", {}),
    "frictionless-py/data/table-with-accents.csv": (
        "cp1252", ";", "RevPAR", {"Occupancy rate": "decimal_comma", "Average Price": "decimal_comma"}),
}


def manifest_records(rel: str) -> int:
    entries = json.loads((CORPUS / "manifest.json").read_text("utf-8"))
    return int(next(e["rows"] for e in entries if e["path"] == rel))


def oracle(rel: str, encoding: str, delimiter: str, types: dict[str, str]) -> list[dict[str, Any]]:
    text = corpus_path(rel).read_bytes().decode(encoding)
    header, *records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    convert = {h: TYPES[t][1] for h, t in types.items()}
    return [{h: (convert.get(h, str)(v) if v != "" else None) for h, v in zip(header, record)}
            for record in records]


def key_columns(key: str | tuple[str, ...]) -> tuple[str, ...]:
    return (key,) if isinstance(key, str) else key


def dataset_schema(header: list[str], key: tuple[str, ...], types: dict[str, str]) -> tuple[TableSchema, dict]:
    field_map = {h: f"c{i + 1}" for i, h in enumerate(header)}
    fields = [{"name": f, "type": TYPES[types[h]][0] if h in types else "string"}
              for h, f in field_map.items()]
    return TableSchema.from_dict({"fields": fields, "primaryKey": [field_map[k] for k in key]}), field_map


@pytest.mark.parametrize("rel", [p for rel in DATASETS for p in corpus_params(rel)])
def test_a_real_dataset_imports_every_row_exactly(rel, tmp_path):
    path = corpus_path(rel)
    encoding, delimiter, key, types = DATASETS[rel]
    key = key_columns(key)
    expected = oracle(rel, encoding, delimiter, types)
    keyless = {n: "REQUIRED_FIELD_MISSING" for n, row in enumerate(expected, 1)
               if any(row[k] is None for k in key)}
    schema, field_map = dataset_schema(header_of(path), key, types)
    run = run_engine(path, tmp_path, schema, field_map)
    assert isinstance(run, Run), run
    assert run.read == manifest_records(rel) - 1 == len(expected)
    assert run.codes() == keyless
    rows = run.rows()
    assert list(rows[0]) == list(expected[0]), "the header as Python's csv reads it"
    assert rows == [row for n, row in enumerate(expected, 1) if n not in keyless]
