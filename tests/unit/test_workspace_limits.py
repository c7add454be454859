"""A workspace's limits: its own where set, the server's otherwise; changes are checked."""

from __future__ import annotations

import pytest

from lading.application.workspaces import CACHE_SECONDS, Workspaces
from lading.domain.errors import DomainError
from lading.domain.workspace_limits import InvalidLimits, WorkspaceLimits, check_overrides

DEFAULTS = WorkspaceLimits(max_active_jobs=10, max_file_size=1 << 30, max_rows=200_000_000,
                           rate_limit=600)


class MemoryLimitStore:
    def __init__(self) -> None:
        self.saved: dict[str, dict[str, int]] = {}
        self.reads = 0

    def overrides(self, workspace: str) -> dict[str, int]:
        self.reads += 1
        return dict(self.saved.get(workspace, {}))

    def set_overrides(self, workspace: str, overrides: dict[str, int]) -> None:
        self.saved[workspace] = dict(overrides)


@pytest.mark.parametrize(("changes", "said"), [
    ({"maxRow": 5}, "unknown limit 'maxRow'"),
    ({"maxRows": 0}, "maxRows must be a whole number of at least 1"),
    ({"maxActiveJobs": "3"}, "maxActiveJobs must be a whole number"),
    ({"maxFileSize": True}, "maxFileSize must be a whole number"),
    ({"rateLimit": -1}, "rateLimit must be a whole number of at least 0"),
])
def test_a_change_outside_the_limits_or_their_ranges_is_refused_by_name(changes, said):
    with pytest.raises(InvalidLimits, match=said):
        check_overrides(changes)
    assert issubclass(InvalidLimits, DomainError)


def test_a_rate_limit_of_zero_means_none_and_is_allowed():
    assert check_overrides({"rateLimit": 0, "maxRows": None}) == {"rateLimit": 0, "maxRows": None}


def test_a_workspace_has_the_servers_limits_until_it_sets_its_own():
    workspaces = Workspaces(MemoryLimitStore(), DEFAULTS)
    assert workspaces.limits("acme") == DEFAULTS
    workspaces.set_limits("acme", {"maxActiveJobs": 2})
    assert workspaces.limits("acme").max_active_jobs == 2
    assert workspaces.limits("acme").max_rows == DEFAULTS.max_rows
    assert workspaces.limits("beta") == DEFAULTS


def test_none_returns_one_limit_to_the_servers_setting_and_keeps_the_others():
    workspaces = Workspaces(MemoryLimitStore(), DEFAULTS)
    workspaces.set_limits("acme", {"maxActiveJobs": 2, "maxRows": 7})
    shown = workspaces.set_limits("acme", {"maxActiveJobs": None})
    assert shown["own"] == ["maxRows"]
    assert shown["limits"]["maxActiveJobs"] == 10 and shown["limits"]["maxRows"] == 7


def test_limits_are_read_once_per_cache_period_and_a_change_here_is_seen_at_once():
    now = [0.0]
    store = MemoryLimitStore()
    workspaces = Workspaces(store, DEFAULTS, clock=lambda: now[0])
    workspaces.limits("acme")
    workspaces.limits("acme")
    assert store.reads == 1
    store.saved["acme"] = {"maxRows": 3}  # another node's change
    now[0] += CACHE_SECONDS
    assert workspaces.limits("acme").max_rows == 3
    workspaces.set_limits("acme", {"maxRows": 4})
    assert workspaces.limits("acme").max_rows == 4


def test_a_bad_workspace_name_is_refused():
    with pytest.raises(DomainError):
        Workspaces(MemoryLimitStore(), DEFAULTS).set_limits("../x", {"maxRows": 1})
