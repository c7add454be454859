"""Cursor pages (entrypoints/http/cursors.py): rows are fetched one beyond the page's limit, and
that one row alone says whether another page follows; a cursor is opaque and round-trips."""

from __future__ import annotations

import pytest

from lading.entrypoints.http.cursors import decode_cursor, encode_cursor, page_of
from lading.entrypoints.http.errors import RequestInvalid


def test_a_row_beyond_the_limit_gives_the_cursor_of_the_pages_last_row():
    rows, cursor = page_of(["a", "b", "c"], 2, encode_cursor)
    assert rows == ["a", "b"] and decode_cursor(cursor) == "b"


@pytest.mark.parametrize("found", [["a", "b"], ["a"], []])
def test_no_row_beyond_the_limit_is_the_last_page(found):
    assert page_of(found, 2, encode_cursor) == (found, None)


def test_a_cursor_holds_any_json_value_and_a_foreign_one_is_the_clients_error():
    value = ["2026-12-03T10:00:00.000000Z", "lïst-1"]
    assert decode_cursor(encode_cursor(value)) == value
    with pytest.raises(RequestInvalid):
        decode_cursor("%%%")
