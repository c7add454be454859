"""`lading audiences …`: the dynamic audiences imports make (`lading import --audience NAME`,
`createAudience` over HTTP), their members evaluated when read."""

from __future__ import annotations

import json

import click

from lading.entrypoints.cli_support import app, handles_errors, print_json, workspace_option

_PAGE = 1000


@click.group()
def audiences() -> None:
    """Dynamic audiences: the records whose last write came from a job."""


@audiences.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print an array of audiences.")
@workspace_option
@handles_errors
def audiences_list(as_json, workspace) -> None:
    """List the workspace's audiences, oldest first, with their member counts now."""
    jobs, found, after = app().jobs, [], None
    while page := jobs.audiences(workspace, after, _PAGE):
        found.extend(page)
        after = (page[-1]["createdAt"], page[-1]["audienceId"])
    if as_json:
        print_json(found)
        return
    for a in found:
        click.echo(f"{a['audienceId']}  {a['objectName']:<20} {a['memberCount']:>10,} members"
                   f"  {a['name']}  (job {a['jobId']})")


@audiences.command("show")
@click.argument("audience_id")
@click.option("--json", "as_json", is_flag=True, help="Print the audience as a JSON object.")
@workspace_option
@handles_errors
def audiences_show(audience_id, as_json, workspace) -> None:
    """Show one audience."""
    found = app().jobs.find_audience(workspace, audience_id)
    if as_json:
        print_json(found)
        return
    for key, value in found.items():
        click.echo(f"{key:<12} {value}")


@audiences.command("members")
@click.argument("audience_id")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many members.")
@workspace_option
@handles_errors
def audiences_members(audience_id, limit, workspace) -> None:
    """Print the audience's members (primary-key objects), one JSON object a line, key order."""
    jobs, after, printed = app().jobs, None, 0
    while limit is None or printed < limit:
        size = _PAGE if limit is None else min(_PAGE, limit - printed)
        page = jobs.audience_members(workspace, audience_id, after, size)
        for member in page:
            click.echo(json.dumps(member, ensure_ascii=False, separators=(",", ":")))
        printed += len(page)
        if len(page) < size:
            break
        after = json.dumps(page[-1], separators=(",", ":"), ensure_ascii=False)
