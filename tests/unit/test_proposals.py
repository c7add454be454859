"""Review proposals (SPEC §3 "Review", issue 10 point 2): concrete changes, each with the rows
it recovers, and that number is what the approved plan's re-run recovers."""

from __future__ import annotations

import pytest

from lading.domain.errors import InvalidPlan, UnknownField
from lading.domain.plan import ImportPlan
from lading.domain.proposal_changes import apply_proposal
from lading.domain.errors import ColumnsMissing
from lading.domain.header_matching import match_headers
from lading.domain.proposals import propose_fixes, propose_remaps, recovered_rows
from lading.domain.reference_validator import validate_rows
from lading.domain.table_schema import TableSchema

SCHEMA = TableSchema.from_dict({"primaryKey": ["id"], "fields": [
    {"name": "id", "type": "integer"},
    {"name": "joined", "type": "date"},
    {"name": "total", "type": "number"},
    {"name": "vip", "type": "boolean"},
    {"name": "tier", "type": "string", "constraints": {"enum": ["gold", "silver", "bronze"]}},
    {"name": "country", "type": "string", "constraints": {"required": True, "enum": ["FR"]}},
    {"name": "email", "type": "string", "format": "email"},
]})
HEADER = ["id", "joined", "total", "vip", "tier", "country", "email"]


def _row(i, joined="2024-01-05", total="1.5", vip="true", tier="gold", country="FR",
         email="a@b.co"):
    return [str(i), joined, total, vip, tier, country, email]


def _run(plan: ImportPlan, rows, header=HEADER):
    result = validate_rows(SCHEMA, plan, header, list(enumerate(rows, start=1)))
    errors = [o.error_entry() for o in result.outcomes if not o.accepted]
    valid = sum(o.accepted for o in result.outcomes)
    labels = {} if result.vplan is None else result.vplan.column_format_labels
    return valid, errors, labels


def _proposal(plan, rows, header=HEADER):
    valid, errors, labels = _run(plan, rows, header)
    return propose_fixes(SCHEMA, plan, errors, len(errors), labels, valid), valid


def _approved_valid(plan, changes, rows, header=HEADER):
    approved = ImportPlan.from_dict(apply_proposal(plan.to_dict(), {"changes": changes}), SCHEMA)
    return _run(approved, rows, header)[0]


PLAN = ImportPlan.from_dict({}, SCHEMA)


def _change(proposal, kind):
    return next(c for c in proposal["changes"] if c["kind"] == kind)


def test_a_stray_day_first_date_with_a_month_name_gets_a_date_format_that_the_rerun_accepts():
    # issue 10: `5 Sept 2024` was refused by the proposal (strptime) yet accepted once approved
    rows = [_row(i) for i in range(1, 20)] + [_row(20, joined="5 Sept 2024"),
                                              _row(21, joined="17 Jan 2023")]
    proposal, valid = _proposal(PLAN, rows)
    change = _change(proposal, "date_format")
    assert (change["field"], change["dateFormat"], change["recoversRows"]) == ("joined", "%d %b %Y", 2)
    assert [s["value"] for s in change["samples"]] == ["5 Sept 2024", "17 Jan 2023"]
    assert _approved_valid(PLAN, [change], rows) - valid == 2


def test_a_decimal_comma_number_gets_a_number_format():
    rows = [_row(i) for i in range(1, 20)] + [_row(20, total="1.234,50"), _row(21, total="7,25")]
    proposal, valid = _proposal(PLAN, rows)
    change = _change(proposal, "number_format")
    assert change["numberFormat"] == {"decimal": ",", "group": "."}
    assert change["recoversRows"] == 2 == _approved_valid(PLAN, [change], rows) - valid


def test_foreign_boolean_words_become_an_approved_word_list():
    rows = [_row(1, vip="ja"), _row(2, vip="Nein"), _row(3, vip="maybe"), _row(4)]
    proposal, valid = _proposal(PLAN, rows)
    change = _change(proposal, "boolean_words")
    assert (change["trueWords"], change["falseWords"], change["recoversRows"]) == (["ja"], ["Nein"], 2)
    assert _approved_valid(PLAN, [change], rows) - valid == 2


def test_strict_mode_gets_its_refused_yes_no_words_proposed_and_approved_words_pass_strict():
    plan = ImportPlan.from_dict({"importMode": "strict"}, SCHEMA)
    rows = [_row(1, vip="yes"), _row(2, vip="no"), _row(3)]
    proposal, valid = _proposal(plan, rows)
    change = _change(proposal, "boolean_words")
    assert change["recoversRows"] == 2 == _approved_valid(plan, [change], rows) - valid


def test_enum_values_in_another_case_or_misspelt_map_to_the_allowed_value_with_samples():
    rows = [_row(1, tier="Gold"), _row(2, tier="silvr"), _row(3, tier="GOLD"), _row(4, tier="zinc"),
            _row(5, tier="Gold")] + [_row(i) for i in range(6, 30)]
    proposal, valid = _proposal(PLAN, rows)
    change = _change(proposal, "enum_map")
    assert change["enumMap"] == {"GOLD": "gold", "Gold": "gold", "silvr": "silver"}
    assert change["samples"][0] == {"value": "Gold", "becomes": "gold", "rows": 2}
    assert change["recoversRows"] == 4 == _approved_valid(PLAN, [change], rows) - valid


def test_a_required_field_with_one_allowed_value_left_empty_gets_set_value():
    rows = [_row(1, country=""), _row(2, country=""), _row(3)]
    proposal, valid = _proposal(PLAN, rows)
    change = _change(proposal, "set_value")
    assert (change["field"], change["value"], change["recoversRows"]) == ("country", "FR", 2)
    assert _approved_valid(PLAN, [change], rows) - valid == 2


def test_a_column_remap_is_offered_when_the_mapped_column_fails_everywhere():
    header = ["id", "contact", "mail"]
    plan = ImportPlan.from_dict({"fieldMap": {"id": "id", "contact": "email"}}, SCHEMA)
    rows = [["1", "Ada", "ada@x.io"], ["2", "Bob", "bob@y.org"]]
    proposal, valid = _proposal(plan, rows, header)
    change = _change(proposal, "column_remap")
    assert (change["field"], change["sourceColumn"], change["recoversRows"]) == ("email", "mail", 2)
    assert _approved_valid(plan, [change], rows, header) - valid == 2


def test_a_row_failing_two_fields_is_recovered_only_by_both_changes_together():
    rows = [_row(1, joined="05.01.2024", tier="Gould"), _row(2)]
    proposal, valid = _proposal(PLAN, rows)
    date, enum = _change(proposal, "date_format"), _change(proposal, "enum_map")
    assert (date["recoversRows"], enum["recoversRows"], proposal["recoversRows"]) == (0, 0, 1)
    assert _approved_valid(PLAN, [date, enum], rows) - valid == 1


def test_recovered_rows_that_share_a_key_count_once_as_the_rerun_keeps_only_the_first():
    rows = [_row(1, tier="gould"), _row(1, tier="goold"), _row(2)]
    proposal, valid = _proposal(PLAN, rows)
    change = _change(proposal, "enum_map")
    assert change["recoversRows"] == 1 == _approved_valid(PLAN, [change], rows) - valid


def test_every_proposal_ends_with_delete_invalid_rows_which_completes_the_run():
    rows = [_row(1, email="nope"), _row(2)]
    proposal, _ = _proposal(PLAN, rows)
    assert proposal["changes"] == [{"kind": "delete_invalid_rows", "recoversRows": 0,
                                    "deletesRows": 1}]
    plan = apply_proposal(PLAN.to_dict(), proposal)
    assert plan["reviewPolicy"] == "auto"


def test_an_edited_proposal_is_counted_by_the_same_rules():
    rows = [_row(1, tier="gould"), _row(2, tier="silvr"), _row(3)]
    _, errors, labels = _run(PLAN, rows)
    edited = [{"kind": "enum_map", "field": "tier", "enumMap": {"gould": "gold"}}]
    assert recovered_rows(SCHEMA, PLAN, edited, errors, labels) == 1


def test_applying_a_proposal_merges_fixes_and_rewrites_the_field_map():
    plan = {"fieldMap": {"id": "id", "contact": "email"}, "fixes": {"tier": {"enumMap": {"A": "gold"}}}}
    out = apply_proposal(plan, {"changes": [
        {"kind": "enum_map", "field": "tier", "enumMap": {"B": "silver"}},
        {"field": "joined", "dateFormat": "%d/%m/%Y"},  # written before kinds existed
        {"kind": "column_remap", "field": "email", "sourceColumn": "mail"},
        {"kind": "number_format", "field": "total", "numberFormat": {"decimal": ",", "group": " "}},
        {"kind": "boolean_words", "field": "vip", "trueWords": ["ja"], "falseWords": ["nein"]},
        {"kind": "set_value", "field": "country", "value": "FR"},
    ]})
    assert out["fieldMap"] == {"id": "id", "mail": "email"}
    assert out["fixes"] == {
        "tier": {"enumMap": {"A": "gold", "B": "silver"}},
        "joined": {"dateFormat": "%d/%m/%Y"},
        "total": {"numberFormat": {"decimal": ",", "group": " "}},
        "vip": {"booleanWords": {"true": ["ja"], "false": ["nein"]}},
        "country": {"setValue": "FR"},
    }
    assert ImportPlan.from_dict(out, SCHEMA).fixes == out["fixes"]
    assert plan["fieldMap"] == {"id": "id", "contact": "email"}, "the input is left as it was"


def test_a_remap_onto_a_column_that_feeds_another_field_is_refused():
    with pytest.raises(InvalidPlan, match="already feeds field 'id'"):
        apply_proposal({"fieldMap": {"id": "id", "e": "email"}},
                       {"changes": [{"kind": "column_remap", "field": "email", "sourceColumn": "id"}]})


@pytest.mark.parametrize("fixes, message", [
    ({"nope": {"enumMap": {}}}, "fixes.nope: the object has no field"),
    ({"tier": {"colour": 1}}, "fixes.tier.colour: unknown fix"),
    ({"tier": {"dateFormat": "%d/%m/%Y"}}, "fixes.tier.dateFormat: field 'tier' is string"),
    ({"joined": {"dateFormat": "%Q"}}, "fixes.joined.dateFormat: '%Q' is not a layout"),
    ({"total": {"numberFormat": {"decimal": ",", "group": ","}}}, "fixes.total.numberFormat must"),
    ({"vip": {"booleanWords": {"true": ["x"], "false": ["x"]}}}, "cannot mean both"),
    ({"country": {"setValue": "DE"}}, "fixes.country.setValue: 'DE' is not a valid string"),
    ({"id": {"setValue": "1"}}, "key or unique"),
])
def test_fixes_that_cannot_apply_are_refused_with_their_path(fixes, message):
    with pytest.raises((InvalidPlan, UnknownField), match=message):
        ImportPlan.from_dict({"fixes": fixes}, SCHEMA)


def test_approved_layouts_and_words_pass_strict_mode_in_the_engine_rules():
    plan = ImportPlan.from_dict({"importMode": "strict", "fixes": {
        "total": {"numberFormat": {"decimal": ",", "group": "."}},
        "joined": {"dateFormat": "%d/%m/%Y"}, "vip": {"booleanWords": {"true": ["ja"]}}}}, SCHEMA)
    valid, errors, _ = _run(plan, [_row(1, total="1.234,5", joined="05/01/2024", vip="ja")])
    assert (valid, errors) == (1, [])


def test_two_equally_likely_columns_become_remap_choices_and_an_approved_one_maps():
    plan = ImportPlan.from_dict({"fieldMap": {"id": "id", "email": "email"}}, SCHEMA)
    header = ["id", "Work Email", "Home Email"]
    with pytest.raises(ColumnsMissing) as raised:
        match_headers(header, plan.field_map, strict=False)
    proposal = propose_remaps(raised.value, plan)
    assert [(c["field"], c["sourceColumn"]) for c in proposal["changes"]] == [
        ("email", "Work Email"), ("email", "Home Email")]
    approved = ImportPlan.from_dict(apply_proposal(plan.to_dict(), {"changes": [
        proposal["changes"][1]]}), SCHEMA)
    assert match_headers(header, approved.field_map, strict=False).columns == {"id": 0,
                                                                              "Home Email": 2}
