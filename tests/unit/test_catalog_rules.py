"""The pure rules behind the catalog: object names and API key scopes."""

from __future__ import annotations

import pytest

from lading.domain.api_keys import SCOPES, check_scopes
from lading.domain.errors import InvalidObjectName, InvalidScopes
from lading.domain.object_names import check_object_name


@pytest.mark.parametrize("name", ["profiles", "Orders-2024", "a", "_", "9" * 63])
def test_letters_digits_underscore_and_dash_make_an_object_name(name):
    assert check_object_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 64, "white space", "dot.ted", "ünï", "a\n", None, 3])
def test_anything_else_is_not_an_object_name(name):
    with pytest.raises(InvalidObjectName):
        check_object_name(name)


def test_scopes_are_read_write_and_admin():
    assert SCOPES == ("imports:read", "imports:write", "admin")
    assert check_scopes(["admin", "imports:read"]) == frozenset({"admin", "imports:read"})


def test_a_single_scope_may_be_given_as_a_string():
    assert check_scopes("imports:write") == frozenset({"imports:write"})


@pytest.mark.parametrize("scopes", [[], ["imports:admin"], ["admin", "superuser"], ["Admin"]])
def test_unknown_or_missing_scopes_are_refused(scopes):
    with pytest.raises(InvalidScopes):
        check_scopes(scopes)
