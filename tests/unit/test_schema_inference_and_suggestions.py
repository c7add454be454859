"""`lading describe` infers a Table Schema from a sample; suggest-mapping proposes a fieldMap
with a confidence and a reason per column (issue 10 point 5)."""

from __future__ import annotations

from lading.domain.mapping_suggestion import suggest_mapping
from lading.domain.schema_inference import field_names, infer_schema
from lading.domain.table_schema import TableSchema

HEADER = ["Customer ID", "E-mail", "Joined", "Is VIP", "Tier", "Amount", "Notes", "Score"]


def _rows(n=40):
    return [[str(i), f"u{i}@x.io", "05/01/2024" if i % 2 else "17/03/2023",
             "yes" if i % 3 else "no", "gold" if i % 2 else "silver", f"{i},50",
             "" if i % 5 == 0 else f"note {i}", str(i % 2)] for i in range(1, n + 1)]


def test_describe_infers_types_formats_required_enum_and_a_key_as_import_would_read_them():
    described = infer_schema(HEADER, _rows())
    fields = {f["name"]: f for f in described["schema"]["fields"]}
    assert {n: (f["type"], f.get("format")) for n, f in fields.items()} == {
        "customer_id": ("integer", None), "e_mail": ("string", "email"), "joined": ("date", None),
        "is_vip": ("boolean", None), "tier": ("string", None), "amount": ("number", None),
        "notes": ("string", None), "score": ("integer", None)}
    assert fields["joined"]["description"].startswith("written as %d/%m/%Y")
    assert fields["tier"]["constraints"] == {"enum": ["gold", "silver"], "required": True}
    assert "constraints" not in fields["notes"], "a column with empty cells is not required"
    assert described["schema"]["primaryKey"] == ["customer_id"]
    assert described["fieldMap"]["Customer ID"] == "customer_id"
    assert fields["customer_id"]["title"] == "Customer ID"
    TableSchema.from_dict(described["schema"])  # what describe prints, Lading accepts


def test_a_key_column_named_id_is_preferred_over_an_earlier_unique_one():
    described = infer_schema(["email", "order_id"], [["a@b.co", "7"], ["c@d.co", "8"]])
    assert described["schema"]["primaryKey"] == ["order_id"]


def test_no_unique_column_means_no_key_is_guessed():
    described = infer_schema(["a"], [["x"], ["x"]])
    assert "primaryKey" not in described["schema"]


def test_field_names_are_valid_and_unique():
    assert field_names(["E-mail", "e mail", "2nd", "", "Größe"]) == [
        "e_mail", "e_mail_2", "_2nd", "column_4", "groe"]


SCHEMA = TableSchema.from_dict({"primaryKey": ["id"], "fields": [
    {"name": "id", "type": "integer"}, {"name": "email", "format": "email"},
    {"name": "vip", "type": "boolean"}, {"name": "joined", "type": "date"},
    {"name": "first_name", "constraints": {"required": True}}, {"name": "country"}]})


def test_a_suggestion_gives_each_column_a_field_a_confidence_and_a_reason():
    header = ["Customer ID", "E-mail Address", "Is VIP", "col7", "Vorname"]
    rows = [[str(i), f"u{i}@x.io", "yes", "05/01/2024", "Ada"] for i in range(5)]
    suggestion = suggest_mapping(SCHEMA, header, rows, [{"Vorname": "first_name"}])
    assert suggestion["fieldMap"] == {"Customer ID": "id", "E-mail Address": "email",
                                      "Is VIP": "vip", "col7": "joined", "Vorname": "first_name"}
    by_column = {c["column"]: c for c in suggestion["columns"]}
    assert by_column["Vorname"]["reason"] == "mapped to 'first_name' in 1 saved mapping"
    assert by_column["col7"]["reason"].startswith("its values are valid date values")
    assert by_column["Is VIP"]["confidence"] > by_column["col7"]["confidence"]
    assert suggestion["unmappedFields"] == [{"field": "country", "required": False}]


def test_a_name_match_whose_values_do_not_fit_is_less_confident():
    fitting = suggest_mapping(SCHEMA, ["email"], [["a@b.co"]])["columns"][0]
    failing = suggest_mapping(SCHEMA, ["email"], [["not an email"]])["columns"][0]
    assert failing["confidence"] < fitting["confidence"]
    assert "but only 0% of its values fit" in failing["reason"]


def test_a_column_nothing_matches_is_left_unmapped_and_required_fields_are_listed_first():
    suggestion = suggest_mapping(SCHEMA, ["zzz"], [["?"]])
    assert suggestion["columns"] == [{"column": "zzz", "field": None, "confidence": 0.0,
                                      "reason": "no field's name or values match"}]
    assert suggestion["unmappedFields"][0] == {"field": "id", "required": True}
