"""A Table Schema Lading cannot honour is refused with the path of the offending part, never
accepted silently (issue 10 point 6); a mapping's sourceFields types are checked too."""

from __future__ import annotations

import pytest

from lading.domain.errors import InvalidPlan, InvalidSchema
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import TableSchema


def _schema(field: dict) -> dict:
    return {"fields": [{"name": "id", "type": "integer"}, field], "primaryKey": ["id"]}


@pytest.mark.parametrize("field, message", [
    ({"name": "a", "constraints": {"requird": True}},
     r"fields\[1\] \('a'\)\.constraints\.requird: unknown constraint"),
    ({"name": "a", "type": "integer", "constraints": {"minimum": "abc"}},
     r"constraints\.minimum: 'abc' is not a valid integer"),
    ({"name": "a", "type": "date", "constraints": {"maximum": "2023-02-30"}},
     r"constraints\.maximum: '2023-02-30' is not a valid date"),
    ({"name": "a", "type": "boolean", "constraints": {"minimum": 1}},
     r"constraints\.minimum applies to integer, number"),
    ({"name": "a", "constraints": {"required": "yes"}}, r"constraints\.required must be true or false"),
    ({"name": "a", "type": "integer", "constraints": {"enum": [1, "two"]}},
     r"constraints\.enum\[1\]: 'two' is not a valid integer"),
    ({"name": "a", "constraints": {"enum": ["x", 3]}}, r"constraints\.enum\[1\]: 3 is not a valid string"),
    ({"name": "a", "format": "email", "constraints": {"enum": ["nope"]}}, r"enum\[0\]: 'nope'"),
    ({"name": "a", "constraints": {"minLength": -1}}, r"minLength must be a non-negative integer"),
    ({"name": "a", "constraints": {"minLength": 5, "maxLength": 2}}, r"minLength 5 is greater"),
    ({"name": "a", "type": "integer", "constraints": {"maxLength": 2}}, r"maxLength applies to string"),
    ({"name": "a", "constraints": {"pattern": "("}}, r"constraints\.pattern: bad pattern"),
    ({"name": "a", "constraints": {"exclusiveMinimum": 1}}, r"exclusiveMinimum: unknown constraint"),
    ({"name": "a", "type": "banana"}, r"fields\[1\] \('a'\)\.type: unsupported type 'banana'"),
    ({"name": "a", "type": "string", "format": "binary"}, r"\.format: unsupported string format"),
    ({"name": "a", "type": "date", "format": "%d/%m/%Y"}, r"\.format: unsupported date format"),
])
def test_a_schema_part_lading_cannot_honour_is_refused_with_its_path(field, message):
    with pytest.raises(InvalidSchema, match=message):
        TableSchema.from_dict(_schema(field))


@pytest.mark.parametrize("field", [
    {"name": "a", "type": "integer", "constraints": {"minimum": 1.5, "maximum": 1e9, "enum": [2, "3"]}},
    {"name": "a", "type": "date", "format": "any", "constraints": {"minimum": "2000-01-01"}},
    {"name": "a", "type": "year", "constraints": {"minimum": 1999}},
    {"name": "a", "type": "boolean", "constraints": {"enum": [True]}},
    {"name": "a", "title": "A", "description": "free text is fine", "constraints": {
        "required": True, "unique": False, "pattern": "[a-z]+", "minLength": 1, "maxLength": 9}},
])
def test_valid_table_schema_parts_are_accepted(field):
    assert TableSchema.from_dict(_schema(field)).field("a").name == "a"


def test_an_unknown_source_field_type_is_refused():
    # issue 10: `{"email": "banana"}` was stored and never used
    schema = TableSchema.from_dict(_schema({"name": "email"}))
    with pytest.raises(InvalidPlan, match=r"sourceFields\.email: unknown type 'banana'"):
        ImportPlan.from_dict({"sourceFields": {"email": "banana"}}, schema)
    assert ImportPlan.from_dict({"sourceFields": {"email": "string"}}, schema).source_fields == {
        "email": "string"}
