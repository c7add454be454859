"""Header matching: by name, never by position (SPEC §3 "Header matching", "Self-healing")."""

from __future__ import annotations

import pytest

from lading.domain.errors import SourceUnreadable
from lading.domain.header_matching import match_headers, normalize_header, similarity, unique_names
from lading.domain.value_formats import UNICODE_WHITESPACE
from tests.growth import growth_factor


def test_case_surrounding_whitespace_and_separators_are_ignored():
    assert normalize_header("  First_Name ") == normalize_header("first-name") == \
        normalize_header("FIRST NAME") == "firstname"


def test_columns_are_found_by_name_whatever_their_order():
    match = match_headers(["b", "extra", "a"], {"a": "a", "b": "b"}, strict=False)
    assert match.columns == {"a": 2, "b": 0} and match.unused == ("extra",) and match.renamed == {}


def test_an_exact_name_wins_over_a_normalised_one():
    match = match_headers(["Email", "email"], {"email": "email"}, strict=False)
    assert match.columns == {"email": 1}


def test_normalised_names_match_even_in_strict_mode_and_are_reported_as_renames():
    # issue 10: `E-mail` -> `email` was matched but missing from healing.headers
    match = match_headers([" Email_Address "], {"email address": "email"}, strict=True)
    assert match.columns == {"email address": 0}
    assert match.renamed == {" Email_Address ": "email"}
    assert match.renames[0].reason == "normalised"


def test_an_exact_match_is_not_a_rename():
    match = match_headers(["id", "email"], {"id": "id", "email": "email"}, strict=False)
    assert match.renamed == {} and match.renames == ()


def test_a_similar_header_is_renamed_and_reported_as_healing():
    match = match_headers(["id", "E-mail"], {"id": "id", "email_address": "email"}, strict=False)
    assert match.columns["email_address"] == 1
    assert match.renamed == {"E-mail": "email"}


def test_similarity_renames_are_not_done_in_strict_mode():
    with pytest.raises(SourceUnreadable, match="email_address"):
        match_headers(["id", "E-mail"], {"id": "id", "email_address": "email"}, strict=True)


def test_short_names_are_not_guessed_from_longer_ones():
    assert similarity("name", "firstname") < 0.8
    with pytest.raises(SourceUnreadable):
        match_headers(["name"], {"first_name": "first_name"}, strict=False)


def test_a_missing_mapped_column_is_named_in_the_error():
    with pytest.raises(SourceUnreadable, match="mapped column\\(s\\) missing.*: country"):
        match_headers(["id", "email"], {"id": "id", "country": "country"}, strict=False)


def test_a_header_that_looks_like_data_gets_a_hint():
    with pytest.raises(SourceUnreadable, match="first row looks like data"):
        match_headers(["1", "2023-01-01", "3.5"], {"id": "id"}, strict=False)


def test_strict_mode_refuses_unused_columns_and_names_them():
    with pytest.raises(SourceUnreadable, match="'notes', 'x'"):
        match_headers(["id", "notes", "x"], {"id": "id"}, strict=True)


def test_duplicate_header_names_are_made_unique_for_the_error_file():
    assert unique_names(["id", "id", "a", "id"]) == ["id", "id (2)", "a", "id (3)"]
    assert unique_names(["a", "a (2)", "a"]) == ["a", "a (2)", "a (3)"]


def test_the_whitespace_list_is_exactly_what_python_calls_space():
    assert set(UNICODE_WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


def test_a_repeated_name_feeds_the_first_free_column_exact_before_normalised():
    match = match_headers(["id", "ID", "id"], {"id": "a", " Id ": "b"}, strict=False)
    assert match.columns == {"id": 0, " Id ": 1}
    assert match.unused == ("id",)


def test_a_header_of_thousands_of_columns_maps_in_linear_time():
    # frictionless-py's wide.csv has 9,074 columns; scanning the header once per mapped column
    # made that quadratic (seconds per file).
    def match(n: int) -> None:
        header = [f"col {i}" for i in range(n)]
        found = match_headers(header, {f"COL_{i}": f"c{i}" for i in range(n)}, strict=True)
        assert found.columns[f"COL_{n - 1}"] == n - 1

    assert growth_factor(match, 5_000) < 9  # linear: about 4; quadratic: about 16
