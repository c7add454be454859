"""Workspaces' own limits stored beside the catalog, one set of tests on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from lading.adapters.sql_workspace_limits import SqlWorkspaceLimits
from lading.adapters.sqlite_destination import database_path
from lading.application.workspaces import Workspaces
from lading.domain.workspace_limits import WorkspaceLimits
from tests.integration.conftest import Database

DEFAULTS = WorkspaceLimits(max_active_jobs=10, max_file_size=1000, max_rows=200_000_000,
                           rate_limit=600)


def store(database: Database) -> SqlWorkspaceLimits:
    target = database.target
    return SqlWorkspaceLimits(database_path(target) if isinstance(target, Path) else target)


def test_a_workspace_without_limits_of_its_own_has_none(database):
    assert store(database).overrides("acme") == {}


def test_limits_are_kept_per_workspace_and_survive_a_reopen(database):
    first = store(database)
    first.set_overrides("acme", {"maxRows": 5, "rateLimit": 0})
    first.set_overrides("beta", {"maxActiveJobs": 2})
    first.close()
    again = store(database)
    assert again.overrides("acme") == {"maxRows": 5, "rateLimit": 0}
    assert again.overrides("beta") == {"maxActiveJobs": 2}


def test_setting_an_empty_set_of_limits_returns_the_workspace_to_the_defaults(database):
    limits = store(database)
    limits.set_overrides("acme", {"maxRows": 5})
    limits.set_overrides("acme", {})
    assert limits.overrides("acme") == {}
    assert database.sql("select count(*) from lading_workspace_limits")[0][0] == 0


def test_the_application_sets_some_limits_and_resets_others_on_a_real_store(database):
    workspaces = Workspaces(store(database), DEFAULTS)
    workspaces.set_limits("acme", {"maxRows": 5, "maxFileSize": 10})
    shown = workspaces.set_limits("acme", {"maxFileSize": None, "maxActiveJobs": 1})
    assert shown["limits"] == {"maxActiveJobs": 1, "maxFileSize": 1000, "maxRows": 5,
                               "rateLimit": 600}
    assert shown["own"] == ["maxActiveJobs", "maxRows"]
    assert workspaces.limits("other") == DEFAULTS
