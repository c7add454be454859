"""`lading workspaces show|set`: a workspace's limits (SPEC §5), its own where set and the
server's settings (LADING_MAX_ACTIVE_JOBS, …) otherwise."""

from __future__ import annotations

import re
from typing import Any

import click

from lading.entrypoints.cli_support import InputError, app, handles_errors, print_json

_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_SIZE = re.compile(r"(\d+)\s*([a-z]*)")
DEFAULT = "default"


def _count(value: str, name: str) -> int | None:
    if value == DEFAULT:
        return None
    if not value.isdigit():
        raise InputError(f"{name} takes a whole number or '{DEFAULT}', not {value!r}")
    return int(value)


def _size(value: str, name: str) -> int | None:
    """Bytes, or a size with a unit: 500MB, 10GiB (1000s and 1024s)."""
    if value == DEFAULT:
        return None
    found = _SIZE.fullmatch(value.strip().lower())
    if found is None or found.group(2) not in _UNITS:
        raise InputError(f"{name} takes bytes or a size such as 500MB or 10GiB, or "
                         f"'{DEFAULT}', not {value!r}")
    return int(found.group(1)) * _UNITS[found.group(2)]


def _print(shown: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(shown)
        return
    for name, value in shown["limits"].items():
        origin = "this workspace" if name in shown["own"] else "server default"
        click.echo(f"{name:<14} {value:>15,}  ({origin})")


@click.group()
def workspaces() -> None:
    """Workspaces' limits: active jobs, file size, rows a job, API requests a minute."""


@workspaces.command("show")
@click.argument("workspace")
@click.option("--json", "as_json", is_flag=True, help="Print the limits, own and defaults as JSON.")
@handles_errors
def workspaces_show(workspace: str, as_json: bool) -> None:
    """Show the limits in force in WORKSPACE and where each comes from."""
    _print(app().workspaces.show(workspace), as_json)


_HELP = " ('default': back to the server's setting)"


@workspaces.command("set")
@click.argument("workspace")
@click.option("--max-active-jobs", metavar="N", help="Jobs queued or running at once." + _HELP)
@click.option("--max-file-size", metavar="SIZE", help="Largest file, e.g. 10GiB." + _HELP)
@click.option("--max-rows", metavar="N", help="Rows one job may read; more fails it (LIMIT_ROWS)."
              + _HELP)
@click.option("--rate-limit", metavar="N", help="API requests a minute per key; 0: none." + _HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the limits after the change as JSON.")
@handles_errors
def workspaces_set(workspace: str, max_active_jobs: str | None, max_file_size: str | None,
                   max_rows: str | None, rate_limit: str | None, as_json: bool) -> None:
    """Set some of WORKSPACE's limits; the others stay as they are."""
    changes: dict[str, int | None] = {}
    for name, value, parse in (("maxActiveJobs", max_active_jobs, _count),
                               ("maxFileSize", max_file_size, _size),
                               ("maxRows", max_rows, _count), ("rateLimit", rate_limit, _count)):
        if value is not None:
            changes[name] = parse(value, "--" + re.sub(r"([A-Z])", r"-\1", name).lower())
    if not changes:
        raise InputError("name at least one limit to set, e.g. --max-active-jobs 5")
    _print(app().workspaces.set_limits(workspace, changes), as_json)
