"""Workspace limits as use cases: read a workspace's limits, set or reset some of them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from lading.application.ports import WorkspaceLimitStore
from lading.domain.workspace_limits import WorkspaceLimits, check_overrides
from lading.domain.workspace_names import check_workspace_name

# Limits are read on every start, upload and API request: each node keeps them this long, so a
# change reaches every node within this many seconds.
CACHE_SECONDS = 5.0


class Workspaces:
    def __init__(self, store: WorkspaceLimitStore, defaults: WorkspaceLimits,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.defaults = defaults
        self._clock = clock
        self._cache: dict[str, tuple[float, WorkspaceLimits]] = {}
        self._lock = threading.Lock()

    def limits(self, workspace: str) -> WorkspaceLimits:
        """The limits that apply to the workspace now: its own where set, the server's otherwise."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(workspace)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        limits = self.defaults.with_overrides(self.store.overrides(workspace))
        with self._lock:
            self._cache[workspace] = (now, limits)
        return limits

    def show(self, workspace: str) -> dict[str, Any]:
        """The limits in force, and which of them are the workspace's own."""
        check_workspace_name(workspace)
        own = self.store.overrides(workspace)
        return {"workspace": workspace, "limits": self.defaults.with_overrides(own).to_dict(),
                "own": sorted(own), "defaults": self.defaults.to_dict()}

    def set_limits(self, workspace: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Set some limits of a workspace (None: back to the server's setting); the others stay."""
        check_workspace_name(workspace)
        checked = check_overrides(changes)
        own = self.store.overrides(workspace)
        own.update({name: value for name, value in checked.items() if value is not None})
        for name in (name for name, value in checked.items() if value is None):
            own.pop(name, None)
        self.store.set_overrides(workspace, own)
        with self._lock:
            self._cache.pop(workspace, None)
        return self.show(workspace)
