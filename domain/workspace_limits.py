"""A workspace's limits (SPEC §5): jobs queued or running at once, file size, rows a job may
read and API requests a minute per key. Each is the workspace's own value where one is set and
the server's setting otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from lading.domain.errors import DomainError

# The limits by their wire name (what `workspaces show --json` prints and `set` takes).
LIMIT_NAMES = {"maxActiveJobs": "max_active_jobs", "maxFileSize": "max_file_size",
               "maxRows": "max_rows", "rateLimit": "rate_limit"}


class InvalidLimits(DomainError):
    """A limit that is not one of LIMIT_NAMES, or not a whole number in its range."""


@dataclass(frozen=True)
class WorkspaceLimits:
    max_active_jobs: int
    max_file_size: int  # bytes
    max_rows: int  # rows one job may read; more fails it with LIMIT_ROWS
    rate_limit: int  # requests a minute per API key or token; 0: none

    def with_overrides(self, overrides: Mapping[str, int]) -> WorkspaceLimits:
        return replace(self, **{LIMIT_NAMES[name]: value for name, value in overrides.items()})

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, attribute) for name, attribute in LIMIT_NAMES.items()}


def check_overrides(changes: Mapping[str, Any]) -> dict[str, int | None]:
    """The changes, checked: each a known limit set to a whole number (rateLimit may be 0, for
    none; the others at least 1) or None, which returns it to the server's setting."""
    checked: dict[str, int | None] = {}
    for name, value in changes.items():
        if name not in LIMIT_NAMES:
            raise InvalidLimits(f"unknown limit {name!r}; the limits are {', '.join(LIMIT_NAMES)}")
        lowest = 0 if name == "rateLimit" else 1
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < lowest):
            raise InvalidLimits(f"{name} must be a whole number of at least {lowest}, not {value!r}")
        checked[name] = value
    return checked
