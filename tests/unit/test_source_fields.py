"""A mapping's sourceFields (issue 10 point 6) are checked against the fields their columns
feed, and used: a column declared as a date, datetime or number type gets its layout healed
when most of its values share it, where an undeclared column needs 90 % of them."""

from __future__ import annotations

import pytest

from lading.domain.column_formats import choose_column_formats
from lading.domain.errors import InvalidPlan
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import TableSchema

SCHEMA = TableSchema.from_dict({"fields": [
    {"name": "id", "type": "integer"}, {"name": "total", "type": "number"},
    {"name": "joined", "type": "date"}, {"name": "note", "type": "string"}], "primaryKey": ["id"]})
FIELD_MAP = {"ID": "id", "Total": "total", "Joined": "joined", "Note": "note"}


def plan(source_fields: dict[str, str]) -> ImportPlan:
    return ImportPlan.from_dict({"fieldMap": FIELD_MAP, "sourceFields": source_fields}, SCHEMA)


@pytest.mark.parametrize("declared, message", [
    ({"Total": "date"}, "sourceFields.Total: a date column cannot feed the number field 'total'"),
    ({"Joined": "datetime"}, "sourceFields.Joined: a datetime column cannot feed the date field 'joined'"),
    ({"ID": "boolean"}, "sourceFields.ID: a boolean column cannot feed the integer field 'id'"),
])
def test_a_declared_type_the_field_cannot_hold_is_refused_with_its_path(declared, message):
    with pytest.raises(InvalidPlan, match=message):
        plan(declared)


def test_numbers_feed_numbers_anything_feeds_text_and_unmapped_columns_are_only_checked_for_type():
    accepted = plan({"ID": "year", "Total": "integer", "Note": "date", "Unused": "datetime"})
    assert accepted.declared_types() == {"id": "year", "total": "integer", "note": "date"}


def formats(values: list[str], field: str, source_fields: dict[str, str]) -> str | None:
    return choose_column_formats(SCHEMA, plan(source_fields), [field], {field: values})[field].label


def test_a_declared_number_column_heals_the_layout_most_of_its_values_use():
    values = ["1.234,50", "2.000,10", "3,5", "n/a", "--"]  # 60 %: no convention without a declaration
    assert formats(values, "total", {}) is None
    assert formats(values, "total", {"Total": "number"}) == formats(["1.234,5"] * 10, "total", {})


def test_a_declared_date_column_heals_day_first_dates_among_junk_but_not_a_minority():
    assert formats(["05/01/2024", "17/03/2023", "31/12/1999", "unknown"], "joined", {}) is None
    assert formats(["05/01/2024", "17/03/2023", "31/12/1999", "unknown"], "joined",
                   {"Joined": "date"}) is not None
    assert formats(["05/01/2024", "unknown", "later", "n/a"], "joined", {"Joined": "date"}) is None


def test_a_declaration_on_a_text_field_changes_nothing_about_its_text():
    assert formats(["=1", "1.234,5"], "note", {"Note": "number"}) is None
