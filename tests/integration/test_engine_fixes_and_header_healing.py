"""The engine applies approved fixes and header healing exactly as the reference does
(issue 10: number format, boolean words and set_value fixes; renamed headers)."""

from __future__ import annotations

from pathlib import Path

from lading.domain.plan import ImportPlan
from lading.domain.reference_validator import validate_rows
from lading.domain.table_schema import TableSchema
from tests.integration.test_arrow_engine import validate

SCHEMA = TableSchema.from_dict({"primaryKey": ["id"], "fields": [
    {"name": "id", "type": "integer"},
    {"name": "total", "type": "number"},
    {"name": "vip", "type": "boolean"},
    {"name": "country", "type": "string", "constraints": {"required": True}},
    {"name": "email", "type": "string", "format": "email"},
]})


def _reference(plan: dict, header: list[str], rows: list[list[str]]):
    result = validate_rows(SCHEMA, ImportPlan.from_dict(plan, SCHEMA), header,
                           list(enumerate(rows, start=1)))
    return ([o.values for o in result.outcomes if o.accepted],
            [o.error_entry() for o in result.outcomes if not o.accepted])


def _both(tmp_path: Path, plan: dict, header: list[str], rows: list[list[str]]):
    data = (",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in rows)).encode()
    run = validate(tmp_path, "f.csv", data, schema=SCHEMA, plan=plan)
    accepted, errors = _reference(plan, header, rows)
    assert run.rows() == accepted and run.errors == errors, "engine and reference disagree"
    return run


def test_approved_number_format_boolean_words_and_set_value_pass_even_strict_mode(tmp_path):
    plan = {"importMode": "strict", "fixes": {
        "total": {"numberFormat": {"decimal": ",", "group": "."}},
        "vip": {"booleanWords": {"true": ["ja"], "false": ["nein"]}},
        "country": {"setValue": "FR"}}}
    header = ["id", "total", "vip", "country", "email"]
    rows = [["1", "1.234", "ja", "", "a@b.co"], ["2", "7", "nein", "DE", "c@d.co"],
            ["3", "x", "vielleicht", "", "e@f.co"]]
    run = _both(tmp_path, plan, header, rows)
    assert run.rows() == [
        {"id": 1, "total": 1234.0, "vip": True, "country": "FR", "email": "a@b.co"},
        {"id": 2, "total": 7.0, "vip": False, "country": "FR", "email": "c@d.co"},
    ]
    assert [e["code"] for e in run.errors] == ["VALIDATION_TYPE_MISMATCH"]


def test_renamed_headers_are_healed_and_every_rename_is_reported(tmp_path):
    header = ["ID", "Is VIP", "Customer Email Address", "col_9", "Country"]
    rows = [["1", "true", "a@b.co", "1.5", "FR"], ["2", "no", "c@d.co", "2", "DE"]]
    plan = {"fieldMap": {"id": "id", "VIP": "vip", "email": "email", "amount": "total",
                         "country": "country"}}
    run = _both(tmp_path, plan, header, rows)
    assert run.valid == 2
    assert run.chunks[0].header_healing == {
        "ID": "id", "Is VIP": "vip", "Customer Email Address": "email", "col_9": "total",
        "Country": "country"}


def test_a_mistyped_mapped_name_is_reported_with_the_column_that_took_its_place(tmp_path):
    # issue 10: `--map Emial=email` was silently replaced by the `email` column
    header = ["id", "email", "country"]
    plan = {"fieldMap": {"id": "id", "Emial": "email", "country": "country"}}
    run = _both(tmp_path, plan, header, [["1", "a@b.co", "FR"]])
    assert run.chunks[0].header_renames == (
        {"column": "email", "mappedColumn": "Emial", "field": "email", "reason": "field name",
         "score": 1.0},)
