"""One rule for workspace names wherever they enter: keys, JWT claims, the CLI (issue 9.7)."""

from __future__ import annotations

import pytest

from lading.domain.workspace_names import InvalidWorkspaceName, check_workspace_name


@pytest.mark.parametrize("name", ["acme", "default", "acme-eu.2", "A_b", "x" * 64])
def test_plain_identifiers_are_workspace_names(name):
    assert check_workspace_name(name) == name


@pytest.mark.parametrize("name", ["", ".", "..", "../etc", "a/b", "a\x00b", "x" * 65, " acme",
                                  "-acme", "acmé", 5, None])
def test_anything_else_is_refused_with_a_short_message(name):
    with pytest.raises(InvalidWorkspaceName) as refused:
        check_workspace_name(name)
    assert len(str(refused.value)) < 250


def test_a_five_thousand_character_name_is_not_echoed_whole():
    with pytest.raises(InvalidWorkspaceName) as refused:
        check_workspace_name("w" * 5000)
    assert "w" * 65 not in str(refused.value)


def test_a_key_cannot_be_made_for_an_invalid_workspace(tmp_path):
    from lading.adapters.sql_catalog import SqliteCatalog

    catalog = SqliteCatalog(tmp_path)
    with pytest.raises(InvalidWorkspaceName):
        catalog.create("..", frozenset({"admin"}))
    catalog.close()


def test_the_cli_refuses_an_invalid_workspace_before_doing_anything(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from lading.entrypoints.cli import main

    monkeypatch.setenv("LADING_HOME", str(tmp_path))
    result = CliRunner().invoke(main, ["jobs", "list", "--workspace", "a\x00b"])
    assert result.exit_code == 2 and "not a valid name" in result.output
