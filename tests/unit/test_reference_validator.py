"""SPEC §3, rule by rule, against the plain-Python reference validator (the specification)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from tests.growth import growth_factor

import pytest

from lading.domain.errors import SourceUnreadable
from lading.domain.plan import ImportPlan
from lading.domain.reference_validator import Malformed, Undecodable, validate_rows
from lading.domain.table_schema import TableSchema

UTC = timezone.utc


def make_schema(*fields: dict, pk=("id",), missing=None) -> TableSchema:
    descriptor = {"fields": [{"name": "id", "type": "integer"}, *fields], "primaryKey": list(pk)}
    if missing is not None:
        descriptor["missingValues"] = missing
    return TableSchema.from_dict(descriptor)


def run(schema: TableSchema, header, rows, mode="balanced", operation="upsert", fixes=None,
        lookup=None, field_map=None, numbered=None):
    plan = ImportPlan.from_dict({"importMode": mode, "operation": operation,
                                 "fieldMap": field_map, "fixes": fixes or {}}, schema)
    numbered = numbered or [(i + 1, r) for i, r in enumerate(rows)]
    return validate_rows(schema, plan, header, numbered, key_lookup=lookup).outcomes


def one(field: dict, value, mode="balanced", **kw):
    """The outcome of a single row `id=1, x=value`."""
    schema = make_schema({"name": "x", **field})
    return run(schema, ["id", "x"], [["1", value]], mode=mode, **kw)[0]


def among(field: dict, usual: str, value, mode="balanced"):
    """The outcome of `value` in a column whose other values are canonical (`usual`), so that
    no column-level healing applies."""
    schema = make_schema({"name": "x", **field})
    rows = [[str(i), usual] for i in range(1, 21)] + [["21", value]]
    return run(schema, ["id", "x"], rows, mode=mode)[-1]


def codes(outcomes):
    return [o.code for o in outcomes]


# -- types and formats -------------------------------------------------------------------------


def test_strings_are_kept_exactly_as_given_including_leading_zeros_and_spaces():
    for value in ["08123", "  padded  ", "ünïcødé ✓", "a,b;\"c\"\n d"]:
        outcome = one({"type": "string"}, value)
        assert outcome.accepted and outcome.values["x"] == value and not outcome.healed


@pytest.mark.parametrize("value", ["a@b.co", "first.last+tag@mail.example.org", "x@y.z"])
def test_email_with_one_at_no_whitespace_and_two_domain_labels_is_valid(value):
    assert one({"type": "string", "format": "email"}, value).accepted


@pytest.mark.parametrize("value", [
    "no-at.example.com", "two@@example.com", "a@b@c.com", "first last@example.com",
    "@example.com", "user@localhost", "user@example..com", "user@example.com.", "user@.com",
    "user@exa mple.com", "user\u00a0x@example.com",
])
def test_email_rule_rejects_each_way_of_breaking_it(value):
    outcome = one({"type": "string", "format": "email"}, value)
    assert outcome.code == "VALIDATION_TYPE_MISMATCH"
    assert outcome.errors[0].message == "invalid email format"


def test_email_with_surrounding_spaces_is_trimmed_in_balanced_and_refused_in_strict():
    balanced = one({"type": "string", "format": "email"}, "  a@b.co ")
    assert balanced.accepted and balanced.values["x"] == "a@b.co" and balanced.healed == {"x": "trimmed"}
    assert one({"type": "string", "format": "email"}, "  a@b.co ", mode="strict").code == "COERCION_NOT_ALLOWED"


def test_uri_needs_a_scheme_a_colon_and_no_whitespace():
    assert one({"type": "string", "format": "uri"}, "https://example.com/a?b=c").accepted
    assert one({"type": "string", "format": "uri"}, "mailto:x@y.z").accepted
    for bad in ["example.com", "https://exa mple.com", "1http://x", ":nothing"]:
        assert one({"type": "string", "format": "uri"}, bad).code == "VALIDATION_TYPE_MISMATCH"


def test_uuid_format_accepts_either_case_and_keeps_it():
    value = "123E4567-e89b-12d3-a456-426614174000"
    outcome = one({"type": "string", "format": "uuid"}, value)
    assert outcome.accepted and outcome.values["x"] == value
    assert one({"type": "string", "format": "uuid"}, "123e4567e89b12d3a456426614174000").code == \
        "VALIDATION_TYPE_MISMATCH"


def test_integer_is_canonical_and_within_int64():
    assert one({"type": "integer"}, "-42").values["x"] == -42
    assert one({"type": "integer"}, "007").values["x"] == 7
    assert one({"type": "integer"}, "9223372036854775807").values["x"] == 2**63 - 1
    for bad in ["9223372036854775808", "1.5", "1e3", "one", "1_000", "٣"]:
        assert one({"type": "integer"}, bad).code == "VALIDATION_TYPE_MISMATCH", bad


def test_integer_written_with_a_zero_fraction_is_healed_but_not_in_strict():
    outcome = one({"type": "integer"}, "12.00")
    assert outcome.values["x"] == 12 and outcome.healed == {"x": "integer_from_decimal"}
    assert one({"type": "integer"}, "12.00", mode="strict").code == "COERCION_NOT_ALLOWED"


def test_number_uses_a_dot_and_rejects_nan_infinity_and_overflow():
    assert one({"type": "number"}, "57.30").values["x"] == 57.3
    assert one({"type": "number"}, "-1.5e3").values["x"] == -1500.0
    assert one({"type": "number"}, ".5").values["x"] == 0.5
    for bad in ["NaN", "inf", "-Infinity", "1e400", "57,30", "12.3x", "--5", "N/A"]:
        assert among({"type": "number"}, "1.5", bad).code == "VALIDATION_TYPE_MISMATCH", bad


def test_surrounding_spaces_on_non_string_values_are_trimmed_in_balanced_only():
    outcome = one({"type": "number"}, " 3.5 ")
    assert outcome.values["x"] == 3.5 and outcome.healed == {"x": "trimmed"}
    strict = one({"type": "number"}, " 3.5 ", mode="strict")
    assert strict.code == "COERCION_NOT_ALLOWED"
    assert "surrounding spaces" in strict.errors[0].message


def test_boolean_canonical_forms_are_true_and_false():
    assert one({"type": "boolean"}, "true").values["x"] is True
    assert one({"type": "boolean"}, "false").values["x"] is False
    assert one({"type": "boolean"}, "maybe").code == "VALIDATION_TYPE_MISMATCH"


@pytest.mark.parametrize("word, value", [("yes", True), ("No", False), ("Y", True), ("n", False),
                                         ("1", True), ("0", False), ("TRUE", True)])
def test_boolean_words_heal_in_balanced_and_are_coercions_in_strict(word, value):
    outcome = one({"type": "boolean"}, word)
    assert outcome.values["x"] is value and outcome.healed == {"x": "boolean_word"}
    assert one({"type": "boolean"}, word, mode="strict").code == "COERCION_NOT_ALLOWED"


@pytest.mark.parametrize("value, valid", [
    ("2024-02-29", True), ("2023-02-29", False), ("2023-02-30", False), ("1900-02-29", False),
    ("2000-02-29", True), ("2023-04-31", False), ("2023-13-01", False), ("0000-01-01", False),
    ("9999-12-31", True), ("2023-5-7", False), ("19990101", False), ("2023-05-17T00:00:00Z", False),
])
def test_dates_must_be_iso_and_calendar_valid(value, valid):
    outcome = among({"type": "date"}, "2020-01-01", value)
    assert outcome.accepted is valid
    if valid:
        assert outcome.values["x"] == date.fromisoformat(value)
    else:
        assert outcome.code == "VALIDATION_TYPE_MISMATCH"


def test_datetimes_are_iso_8601_and_normalised_to_utc():
    assert one({"type": "datetime"}, "2023-05-17T10:00:00Z").values["x"] == datetime(2023, 5, 17, 10, tzinfo=UTC)
    assert one({"type": "datetime"}, "2023-05-17T12:00:00+02:00").values["x"] == datetime(2023, 5, 17, 10, tzinfo=UTC)
    assert one({"type": "datetime"}, "2023-05-17T10:00").values["x"] == datetime(2023, 5, 17, 10, tzinfo=UTC)
    assert one({"type": "datetime"}, "2023-05-17T10:00:00.25Z").values["x"] == datetime(
        2023, 5, 17, 10, 0, 0, 250000, tzinfo=UTC)
    for bad in ["2023-05-17T25:00:00Z", "2023-05-17T10:61:00Z", "2021-02-30T10:00:00Z",
                "2023-05-17 10:00:00", "1614852672", "2023-05-17T10:00:00+24:00"]:
        assert among({"type": "datetime"}, "2020-01-01T00:00:00Z", bad).code == \
            "VALIDATION_TYPE_MISMATCH", bad


def test_times_and_years():
    assert one({"type": "time"}, "23:59:59.5").values["x"] == time(23, 59, 59, 500000)
    assert one({"type": "time"}, "24:00:00").code == "VALIDATION_TYPE_MISMATCH"
    assert one({"type": "year"}, "1999").values["x"] == 1999
    assert one({"type": "year"}, "99").code == "VALIDATION_TYPE_MISMATCH"


# -- missing values and constraints ---------------------------------------------------------------


def test_empty_cells_are_null_and_a_missing_optional_field_is_accepted_in_balanced():
    outcome = one({"type": "integer"}, "")
    assert outcome.accepted and outcome.values["x"] is None


def test_required_field_missing_is_rejected():
    outcome = one({"type": "string", "constraints": {"required": True}}, "")
    assert outcome.code == "REQUIRED_FIELD_MISSING"
    assert outcome.errors[0].message == "value is required"


def test_schema_missing_values_are_null_and_replace_the_default():
    schema = make_schema({"name": "x", "type": "number"}, missing=["N/A", "-"])
    outcomes = run(schema, ["id", "x"], [["1", "N/A"], ["2", "-"], ["3", ""]])
    assert [o.values.get("x") for o in outcomes[:2]] == [None, None]
    assert outcomes[2].code == "VALIDATION_TYPE_MISMATCH"  # "" is no longer a missing value


def test_whitespace_only_values_of_non_string_fields_are_missing():
    assert one({"type": "integer"}, "   ").values["x"] is None
    assert one({"type": "string"}, "   ").values["x"] == "   "


def test_enum_pattern_and_lengths_are_constraint_violations():
    assert one({"type": "string", "constraints": {"enum": ["free", "pro"]}}, "trial").code == \
        "VALIDATION_CONSTRAINT_VIOLATION"
    assert one({"type": "string", "constraints": {"pattern": "[A-Z]{2}"}}, "USA").code == \
        "VALIDATION_CONSTRAINT_VIOLATION"  # the whole value must match, not a part of it
    assert one({"type": "string", "constraints": {"pattern": "[A-Z]{2}"}}, "US").accepted
    assert one({"type": "string", "constraints": {"minLength": 3}}, "ab").code == \
        "VALIDATION_CONSTRAINT_VIOLATION"
    assert one({"type": "string", "constraints": {"maxLength": 3}}, "éééé").code == \
        "VALIDATION_CONSTRAINT_VIOLATION"
    assert one({"type": "string", "constraints": {"maxLength": 3}}, "ééé").accepted


def test_minimum_and_maximum_apply_to_numbers_and_dates():
    assert one({"type": "number", "constraints": {"minimum": 0}}, "-0.01").code == \
        "VALIDATION_CONSTRAINT_VIOLATION"
    assert one({"type": "integer", "constraints": {"maximum": 10}}, "10").accepted
    outcome = one({"type": "date", "constraints": {"minimum": "2020-01-01"}}, "2019-12-31")
    assert outcome.code == "VALIDATION_CONSTRAINT_VIOLATION"
    assert outcome.errors[0].message == "value is less than minimum 2020-01-01"


def test_unique_field_rejects_a_later_value_already_accepted_but_not_one_only_seen_in_a_rejected_row():
    schema = make_schema({"name": "email", "type": "string", "constraints": {"unique": True}},
                         {"name": "n", "type": "integer"})
    outcomes = run(schema, ["id", "email", "n"], [
        ["1", "a@x.io", "bad"],  # rejected: its email must not block row 2
        ["2", "a@x.io", "1"],
        ["3", "a@x.io", "2"],
    ])
    assert codes(outcomes) == ["VALIDATION_TYPE_MISMATCH", None, "VALIDATION_CONSTRAINT_VIOLATION"]
    assert outcomes[2].errors[0].message == "value must be unique; an earlier row already has it"


# -- modes ------------------------------------------------------------------------------------------


def test_strict_mode_reports_an_empty_optional_mapped_field_as_missing():
    assert one({"type": "string"}, "", mode="strict").code == "REQUIRED_FIELD_MISSING"


def test_strict_mode_fails_the_file_when_the_header_has_unused_columns():
    schema = make_schema({"name": "x", "type": "string"})
    with pytest.raises(SourceUnreadable, match="extra1.*extra2"):
        run(schema, ["id", "x", "extra1", "extra2"], [["1", "a", "b", "c"]], mode="strict")


def test_balanced_mode_ignores_unused_columns():
    schema = make_schema({"name": "x", "type": "string"})
    assert run(schema, ["extra", "x", "id"], [["e", "a", "1"]])[0].values == {"id": 1, "x": "a"}


def test_landing_friendly_nulls_bad_values_with_warnings_and_keeps_the_row():
    schema = make_schema({"name": "x", "type": "integer", "constraints": {"required": True}},
                         {"name": "y", "type": "date"})
    outcome = run(schema, ["id", "x", "y"], [["1", "", "2023-02-30"]], mode="landing_friendly")[0]
    assert outcome.accepted and outcome.values == {"id": 1, "x": None, "y": None}
    assert sorted(outcome.warnings) == ["x", "y"]


def test_landing_friendly_still_rejects_rows_without_a_usable_key_and_duplicates():
    schema = make_schema({"name": "x", "type": "string"})
    outcomes = run(schema, ["id", "x"], [["", "a"], ["abc", "b"], ["1", "c"], ["1", "d"]],
                   mode="landing_friendly")
    assert codes(outcomes) == ["REQUIRED_FIELD_MISSING", "VALIDATION_TYPE_MISMATCH", None,
                               "DUPLICATE_KEY"]


def test_landing_friendly_pads_and_truncates_ragged_rows_with_a_warning():
    schema = make_schema({"name": "x", "type": "string"}, {"name": "y", "type": "string"})
    outcomes = run(schema, ["id", "x", "y"], [["1", "a"], ["2", "b", "c", "extra"]],
                   mode="landing_friendly")
    assert [o.values for o in outcomes] == [{"id": 1, "x": "a", "y": None},
                                            {"id": 2, "x": "b", "y": "c"}]
    assert all(o.warnings == ["(ragged row)"] for o in outcomes)
    assert outcomes[1].source_row == {"id": "2", "x": "b", "y": "c", "_extra": ["extra"]}


def test_balanced_and_strict_reject_ragged_rows_as_malformed():
    schema = make_schema({"name": "x", "type": "string"})
    for mode in ("balanced", "strict"):
        outcome = run(schema, ["id", "x"], [["1", "a", "b"]], mode=mode)[0]
        assert outcome.code == "MALFORMED_ROW"
        assert outcome.errors[0].message == "row has 3 cells but the header has 2"


def test_undelimitable_lines_are_malformed_in_every_mode():
    schema = make_schema({"name": "x", "type": "string"})
    for mode in ("balanced", "strict", "landing_friendly"):
        outcome = run(schema, None, [], mode=mode,
                      numbered=[(1, {"id": 1, "x": "a"}), (2, Malformed("[1, 2]"))])[1]
        assert outcome.code == "MALFORMED_ROW" and outcome.source_row == {"_raw": "[1, 2]"}


# -- encodings --------------------------------------------------------------------------------------


def test_invalid_bytes_in_a_mapped_column_reject_the_row_as_encoding_error():
    schema = make_schema({"name": "x", "type": "string"})
    outcome = run(schema, ["id", "x", "unused"], [["1", b"caf\xe9", "ok"]])[0]
    assert outcome.code == "ENCODING_ERROR"
    assert outcome.errors[0].to_dict() == {
        "field": "x", "column": "x", "code": "ENCODING_ERROR",
        "message": "value has bytes that are not valid in the file's encoding", "value": "caf\ufffd"}


def test_invalid_bytes_in_an_unused_column_do_not_reject_the_row():
    schema = make_schema({"name": "x", "type": "string"})
    outcome = run(schema, ["id", "x", "unused"], [["1", "a", b"\xff"]])[0]
    assert outcome.accepted and outcome.source_row["unused"] == "\ufffd"


def test_landing_friendly_replaces_invalid_bytes_and_warns():
    schema = make_schema({"name": "x", "type": "string"})
    outcome = run(schema, ["id", "x"], [["1", b"caf\xe9\xe9"]], mode="landing_friendly")[0]
    assert outcome.values["x"] == "caf\ufffd\ufffd" and outcome.warnings == ["(encoding error)"]


def test_a_nul_character_in_a_mapped_value_is_an_encoding_error_whatever_the_destination():
    schema = make_schema({"name": "x", "type": "string"}, {"name": "n", "type": "integer"})
    outcomes = run(schema, ["id", "x", "n", "unused"],
                   [["1", "a\0b", "2", "ok"], ["2", "fine", "3\0", "ok"], ["3", "ok", "4", "\0"]])
    assert codes(outcomes) == ["ENCODING_ERROR", "ENCODING_ERROR", None]
    assert outcomes[0].errors[0].to_dict() == {
        "field": "x", "column": "x", "code": "ENCODING_ERROR",
        "message": "value contains a NUL character (U+0000), which cannot be stored", "value": "a\0b"}
    assert outcomes[1].errors[0].field == "n"


def test_a_nul_character_in_an_ndjson_string_is_an_encoding_error():
    schema = make_schema({"name": "x", "type": "string"})
    outcome = run(schema, None, [], numbered=[(1, {"id": 1, "x": "a\u0000"})])[0]
    assert outcome.code == "ENCODING_ERROR"


def test_landing_friendly_replaces_a_nul_character_and_warns():
    schema = make_schema({"name": "x", "type": "string"})
    outcome = run(schema, ["id", "x"], [["1", "a\0b"]], mode="landing_friendly")[0]
    assert outcome.accepted and outcome.values["x"] == "a\ufffdb"
    assert outcome.warnings == ["(encoding error)"]


def test_invalid_bytes_take_precedence_over_a_nul_in_the_same_value():
    schema = make_schema({"name": "x", "type": "string"})
    outcome = run(schema, ["id", "x"], [["1", b"\xff\0"]])[0]
    assert outcome.errors[0].message == "value has bytes that are not valid in the file's encoding"


def test_an_undecodable_ndjson_line_is_an_encoding_error():
    schema = make_schema({"name": "x", "type": "string"})
    outcomes = run(schema, None, [], numbered=[(1, {"id": 1, "x": "a"}), (2, Undecodable('{"x": "\ufffd"}'))])
    assert outcomes[1].code == "ENCODING_ERROR"


# -- typed (NDJSON / Parquet) values ----------------------------------------------------------------


def ndjson(field: dict, value, mode="balanced"):
    schema = make_schema({"name": "x", **field})
    return run(schema, None, [], mode=mode, numbered=[(1, {"id": 1, "x": value})])[0]


def test_json_values_of_the_field_type_are_taken_as_they_are():
    assert ndjson({"type": "integer"}, 5).values["x"] == 5
    assert ndjson({"type": "number"}, 5).values["x"] == 5.0
    assert ndjson({"type": "boolean"}, True).values["x"] is True
    assert ndjson({"type": "date"}, "2024-02-29").values["x"] == date(2024, 2, 29)
    assert ndjson({"type": "integer"}, "42").values["x"] == 42  # text is read like a CSV cell


def test_json_values_of_a_related_type_heal_and_are_coercions_in_strict():
    outcome = ndjson({"type": "string"}, 8123)
    assert outcome.values["x"] == "8123" and outcome.healed == {"x": "value_type"}
    assert ndjson({"type": "integer"}, 3.0).healed == {"x": "integer_from_decimal"}
    assert ndjson({"type": "string"}, 8123, mode="strict").code == "COERCION_NOT_ALLOWED"


def test_json_values_of_an_unrelated_type_are_type_mismatches():
    for field, value in [({"type": "integer"}, True), ({"type": "integer"}, 2**63),
                         ({"type": "string"}, {"a": 1}), ({"type": "date"}, 20240229),
                         ({"type": "number"}, [1])]:
        assert ndjson(field, value).code == "VALIDATION_TYPE_MISMATCH", (field, value)


def test_json_null_and_absent_keys_are_missing():
    schema = make_schema({"name": "x", "type": "string", "constraints": {"required": True}})
    outcomes = run(schema, None, [], numbered=[(1, {"id": 1, "x": None}), (3, {"id": 2})])
    assert codes(outcomes) == ["REQUIRED_FIELD_MISSING"] * 2


# -- operations and keys ------------------------------------------------------------------------------


def test_first_valid_row_with_a_key_wins_and_later_ones_are_duplicates():
    schema = make_schema({"name": "x", "type": "integer"})
    outcomes = run(schema, ["id", "x"], [["1", "bad"], ["1", "1"], ["1", "2"], ["2", "3"]])
    assert codes(outcomes) == ["VALIDATION_TYPE_MISMATCH", None, "DUPLICATE_KEY", None]
    assert outcomes[2].errors[0].to_dict()["field"] == "id"


def test_composite_keys_are_duplicates_only_when_every_part_matches():
    schema = make_schema({"name": "k", "type": "string"}, pk=("id", "k"))
    outcomes = run(schema, ["id", "k"], [["1", "a"], ["1", "b"], ["1", "a"]])
    assert codes(outcomes) == [None, None, "DUPLICATE_KEY"]


def test_insert_rejects_keys_that_exist_and_update_and_delete_reject_keys_that_do_not():
    schema = make_schema({"name": "x", "type": "string"})
    existing = {(1,)}

    def lookup(keys):
        return {k for k in keys if k in existing}

    rows = [["1", "a"], ["2", "b"]]
    assert codes(run(schema, ["id", "x"], rows, operation="insert", lookup=lookup)) == ["KEY_EXISTS", None]
    assert codes(run(schema, ["id", "x"], rows, operation="update", lookup=lookup)) == [None, "KEY_NOT_FOUND"]
    deleted = run(schema, ["id", "x"], rows, operation="delete", lookup=lookup)
    assert codes(deleted) == [None, "KEY_NOT_FOUND"] and deleted[0].values == {"id": 1}


def test_delete_validates_only_the_key_fields():
    schema = make_schema({"name": "x", "type": "integer"})
    outcome = run(schema, ["id", "x"], [["1", "not a number"]], operation="delete",
                  lookup=lambda keys: set(keys))[0]
    assert outcome.accepted and outcome.values == {"id": 1}


def test_upsert_never_asks_the_destination():
    def lookup(keys):
        raise AssertionError("upsert must not look keys up")

    schema = make_schema({"name": "x", "type": "string"})
    assert run(schema, ["id", "x"], [["1", "a"]], lookup=lookup)[0].accepted


# -- the primary code -----------------------------------------------------------------------------------


def test_primary_code_is_the_first_failing_field_in_schema_order_not_column_order():
    schema = make_schema({"name": "a", "type": "integer"}, {"name": "b", "type": "string",
                                                             "constraints": {"required": True}})
    outcome = run(schema, ["b", "a", "id"], [["", "x", "1"]])[0]
    assert outcome.code == "VALIDATION_TYPE_MISMATCH" and outcome.primary.field == "a"
    assert [e.field for e in outcome.errors] == ["a", "b"]
    assert outcome.error_entry()["error"] == "a: not a valid integer"


def test_row_level_problems_come_before_field_problems_and_key_problems_after():
    schema = make_schema({"name": "x", "type": "integer"})
    outcomes = run(schema, ["id", "x"], [["1", b"\xff"], ["1", "2"], ["1", "3"]])
    assert codes(outcomes) == ["ENCODING_ERROR", None, "DUPLICATE_KEY"]


def test_error_entries_have_the_error_file_shape():
    schema = make_schema({"name": "email", "type": "string", "format": "email"})
    outcome = run(schema, ["id", "email_address"], [["42", "not-an-email"]],
                  field_map={"id": "id", "email_address": "email"})[0]
    assert outcome.error_entry() == {
        "rowNumber": 1, "code": "VALIDATION_TYPE_MISMATCH", "error": "email: invalid email format",
        "errors": [{"field": "email", "column": "email_address", "code": "VALIDATION_TYPE_MISMATCH",
                    "message": "invalid email format", "value": "not-an-email"}],
        "sourceRow": {"id": "42", "email_address": "not-an-email"},
    }


def test_every_row_is_either_accepted_or_rejected_with_one_primary_code():
    schema = make_schema({"name": "x", "type": "date"})
    rows = [["1", "2023-01-01"], ["x", ""], ["2", "2023-02-30"], ["1", "2023-01-02"], ["3"]]
    outcomes = run(schema, ["id", "x"], rows)
    assert len(outcomes) == len(rows)
    assert all((o.code is None) == o.accepted for o in outcomes)
    assert sum(o.accepted for o in outcomes) + sum(not o.accepted for o in outcomes) == len(rows)


# -- self-healing: column formats and fixes ----------------------------------------------------------


def column(field: dict, values: list[str], mode="balanced", fixes=None):
    schema = make_schema({"name": "x", **field})
    rows = [[str(i), v] for i, v in enumerate(values, start=1)]
    return run(schema, ["id", "x"], rows, mode=mode, fixes=fixes)


def test_a_date_column_in_one_consistent_non_iso_format_is_healed():
    outcomes = column({"type": "date"}, ["05/01/2024", "31/12/1999", "01/02/2003"])
    assert [o.values["x"] for o in outcomes] == [date(2024, 1, 5), date(1999, 12, 31), date(2003, 2, 1)]
    assert outcomes[0].healed == {"x": "date_format"}


def test_day_first_and_month_first_are_told_apart_by_the_values():
    outcomes = column({"type": "date"}, ["05/01/2024", "12/31/1999"])
    assert [o.values["x"] for o in outcomes] == [date(2024, 5, 1), date(1999, 12, 31)]


def test_dates_with_month_names_are_healed():
    outcomes = column({"type": "date"}, ["5 Jan 2024", "17 March 2023", "1 sep 2020"])
    assert [o.values["x"] for o in outcomes] == [date(2024, 1, 5), date(2023, 3, 17), date(2020, 9, 1)]


def test_a_stray_non_iso_date_in_an_iso_column_is_still_an_error():
    outcomes = column({"type": "date"}, ["2024-01-05"] * 20 + ["31/12/1999"])
    assert outcomes[-1].code == "VALIDATION_TYPE_MISMATCH"


def test_non_iso_dates_are_coercions_in_strict_mode():
    outcomes = column({"type": "date"}, ["05/01/2024", "31/12/1999"], mode="strict")
    assert codes(outcomes) == ["COERCION_NOT_ALLOWED"] * 2


def test_a_lone_value_is_its_own_consistent_column():
    assert one({"type": "date"}, "19990101").values["x"] == date(1999, 1, 1)
    assert one({"type": "number"}, "57,30").values["x"] == 57.3


def test_a_number_column_with_decimal_commas_is_healed():
    outcomes = column({"type": "number"}, ["57,30", "1.234,50", "12", "0,5"])
    assert [o.values["x"] for o in outcomes] == [57.3, 1234.5, 12.0, 0.5]
    assert outcomes[0].healed == {"x": "number_format"} and outcomes[2].healed == {}


def test_thousands_separators_and_currency_symbols_used_consistently_are_healed():
    outcomes = column({"type": "number"}, ["$1,234.50", "$99.00", "$12"])
    assert [o.values["x"] for o in outcomes] == [1234.5, 99.0, 12.0]
    assert column({"type": "integer"}, ["1,234", "12,345,678", "999"])[1].values["x"] == 12345678


def test_a_stray_thousands_separator_in_a_plain_number_column_is_an_error():
    outcomes = column({"type": "number"}, ["1234.56", "2345.01", "10.5", "1,234.50"])
    assert outcomes[-1].code == "VALIDATION_TYPE_MISMATCH"


def test_an_enum_column_in_another_letter_case_is_healed_but_a_stray_one_is_not():
    healed = column({"type": "string", "constraints": {"enum": ["free", "pro"]}}, ["Free", "PRO", "Pro"])
    assert [o.values["x"] for o in healed] == ["free", "pro", "pro"]
    assert healed[0].healed == {"x": "enum_case"}
    stray = column({"type": "string", "constraints": {"enum": ["free", "pro"]}}, ["free", "pro", "PRO"])
    assert stray[-1].code == "VALIDATION_CONSTRAINT_VIOLATION"


def test_an_approved_date_format_fix_applies_even_in_strict_mode():
    outcomes = column({"type": "date"}, ["2024-01-05", "05/01/2024"], mode="strict",
                      fixes={"x": {"dateFormat": "%d/%m/%Y"}})
    assert codes(outcomes) == [None, None]
    assert outcomes[1].values["x"] == date(2024, 1, 5)
    assert outcomes[1].healed == {"x": "approved_format"}


def test_an_approved_enum_map_fix_rewrites_values_before_validation():
    outcomes = column({"type": "string", "constraints": {"enum": ["pro"]}}, ["PRO", "premium"],
                      fixes={"x": {"enumMap": {"PRO": "pro", "premium": "pro"}}})
    assert [o.values["x"] for o in outcomes] == ["pro", "pro"]
    assert outcomes[0].healed == {"x": "enum_map"}


def test_a_schema_of_thousands_of_fields_is_planned_in_linear_time():
    # A wide file (frictionless-py's wide.csv: 9,074 columns) once spent seconds looking each
    # field up by scanning the schema.
    def plan_and_run(n: int) -> None:
        names = [f"f{i}" for i in range(n)]
        schema = make_schema(*({"name": name} for name in names))
        [outcome] = run(schema, ["id", *names], [["1", *names]])
        assert outcome.accepted and outcome.values[f"f{n - 1}"] == f"f{n - 1}"

    assert growth_factor(plan_and_run, 2_500) < 9  # linear: about 4; quadratic: about 16
