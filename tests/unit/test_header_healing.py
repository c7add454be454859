"""Header healing beyond exact and normalised names (SPEC §3 "Self-healing", issue 10 point 1):
token containment, similarity, sample values, ties reported and never guessed."""

from __future__ import annotations

import pytest

from lading.domain.errors import ColumnsMissing, SourceUnreadable
from lading.domain.header_matching import header_tokens, match_headers
from lading.domain.table_schema import Constraints, Field

FIELDS = {
    "id": Field("id", "integer"),
    "email": Field("email", "string", "email"),
    "vip": Field("vip", "boolean"),
    "joined": Field("joined", "date"),
    "tier": Field("tier", "string", constraints=Constraints(enum=("gold", "silver"))),
    "name": Field("name", "string"),
    "score": Field("score", "integer"),
}


def _values(table: dict[str, list[str]], header: list[str]):
    return lambda position: table[header[position]]


def test_words_of_a_column_name_ignore_case_and_separators_and_split_camel_case():
    assert header_tokens("Is VIP") == header_tokens("is_vip") == header_tokens("isVIP") \
        == {"is", "vip"}
    assert header_tokens("Customer Email Address") == {"customer", "email", "address"}


def test_a_column_whose_words_contain_the_mapped_name_is_matched_and_reported():
    # issue 10: `Is VIP` for `VIP` failed the whole job (similarity 0.75 < 0.8)
    match = match_headers(["id", "Is VIP", "Customer Email Address"],
                          {"id": "id", "VIP": "vip", "email": "email"}, strict=False)
    assert match.columns == {"id": 0, "VIP": 1, "email": 2}
    assert match.renamed == {"Is VIP": "vip", "Customer Email Address": "email"}
    assert [r.reason for r in match.renames] == ["contained", "contained"]


def test_containment_prefers_the_column_with_fewest_extra_words():
    match = match_headers(["Customer Email Address", "Email Address"], {"email": "email"},
                          strict=False)
    assert match.columns == {"email": 1}


def test_two_columns_equally_containing_a_name_are_not_guessed_between():
    with pytest.raises(ColumnsMissing) as raised:
        match_headers(["Work Email", "Home Email"], {"email": "email"}, strict=False)
    assert raised.value.failure_code == "COLUMNS_MISSING"
    assert raised.value.candidates == {"email": ["Work Email", "Home Email"]}
    assert "equally likely: 'Work Email', 'Home Email'" in str(raised.value)


def test_a_mistyped_mapped_name_says_which_column_took_its_place():
    # issue 10: `--map Emial=email` was silently replaced by the real `email` column
    match = match_headers(["id", "email"], {"id": "id", "Emial": "email"}, strict=False)
    assert match.columns["Emial"] == 1
    (rename,) = match.renames
    assert (rename.column, rename.mapped, rename.field) == ("email", "Emial", "email")
    assert "column 'email' used for mapped column 'Emial'" in rename.describe()


def test_a_missing_mapped_column_suggests_close_names():
    with pytest.raises(SourceUnreadable, match=r"cntry \(did you mean 'Country Code'\?\)"):
        match_headers(["id", "Country Code", "zzz"], {"id": "id", "cntry": "country"},
                      strict=True)


def test_strict_mode_names_candidates_but_never_heals_with_them():
    with pytest.raises(ColumnsMissing) as raised:
        match_headers(["id", "Is VIP"], {"id": "id", "VIP": "vip"}, strict=True)
    assert raised.value.candidates == {"VIP": ["Is VIP"]}


def test_an_unmatched_field_takes_the_one_free_column_whose_values_fit_it():
    header = ["id", "col_7", "remarks"]
    table = {"id": ["1", "2", "3"], "col_7": ["a@x.io", "b@y.org", ""],
             "remarks": ["hello", "world", "again"]}
    match = match_headers(header, {"id": "id", "mail": "email"}, strict=False,
                          fields=FIELDS, column_values=_values(table, header))
    assert match.columns == {"id": 0, "mail": 1}
    assert match.renames[0].reason == "values" and match.renames[0].score == 1.0


def test_values_fit_uses_the_engines_column_formats_day_first_dates_included():
    header = ["id", "x", "y"]
    table = {"id": ["1", "2"], "x": ["5 Sept 2024", "17/05/2023"], "y": ["13/05/2023", "31/12/2024"]}
    match = match_headers(header, {"id": "id", "joined": "joined"}, strict=False,
                          fields=FIELDS, column_values=_values(table, header))
    assert match.columns["joined"] == 2


def test_two_columns_whose_values_fit_equally_are_reported_not_guessed():
    header = ["id", "a", "b"]
    table = {"id": ["1", "2"], "a": ["true", "no"], "b": ["yes", "false"]}
    with pytest.raises(ColumnsMissing) as raised:
        match_headers(header, {"id": "id", "vip": "vip"}, strict=False, fields=FIELDS,
                      column_values=_values(table, header))
    assert raised.value.candidates["vip"] == ["a", "b"]


def test_plain_text_fields_are_never_matched_by_values():
    header = ["id", "whatever"]
    table = {"id": ["1"], "whatever": ["Ada"]}
    with pytest.raises(ColumnsMissing):
        match_headers(header, {"id": "id", "name": "name"}, strict=False, fields=FIELDS,
                      column_values=_values(table, header))


def test_a_free_column_named_like_another_field_is_not_taken_by_values():
    header = ["id", "score"]
    table = {"id": ["1", "2"], "score": ["10", "20"]}
    # `score` belongs to the object's `score` field, even when the mapping leaves it out
    with pytest.raises(ColumnsMissing):
        match_headers(header, {"id": "id", "points": "id2"}, strict=False,
                      fields={**FIELDS, "id2": Field("id2", "integer")},
                      column_values=_values(table, header))


def test_enum_values_pick_the_column_that_holds_them():
    header = ["id", "level", "notes"]
    table = {"id": ["1", "2"], "level": ["Gold", "Silver"], "notes": ["gold star", "x"]}
    match = match_headers(header, {"id": "id", "tier": "tier"}, strict=False, fields=FIELDS,
                          column_values=_values(table, header))
    assert match.columns["tier"] == 1


def test_header_healing_is_deterministic():
    header = ["Customer Email Address", "Is VIP", "ID"]
    field_map = {"id": "id", "email": "email", "vip": "vip"}
    assert match_headers(header, field_map, strict=False) == match_headers(header, field_map,
                                                                             strict=False)
