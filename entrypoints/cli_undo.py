"""`lading jobs revert JOB [--force]` and `lading jobs apply JOB`: undo a completed job, or run
a completed dry run for real (SPEC §8). Both run the work in this process, like `import`."""

from __future__ import annotations

import json
import sys

import click

from lading.application.errors import RevertConflict
from lading.application.status_view import public_status
from lading.entrypoints.cli_support import app, handles_errors, job_id, print_json, workspace_option


@click.command("revert")
@click.argument("job")
@click.option("--force", is_flag=True,
              help="Restore the job's before-images over rows later jobs changed too.")
@click.option("--json", "as_json", is_flag=True, help="Print the final status as JSON.")
@workspace_option
@handles_errors
def jobs_revert(job, force, as_json, workspace) -> None:
    """Undo a completed job: rows it inserted deleted, rows it updated or deleted restored.

    Rows a later job changed again are conflicts: they are printed and nothing is undone
    (exit 1) unless --force."""
    lading = app()
    try:
        lading.reverts.revert(workspace, job_id(job), force)
    except RevertConflict as refused:
        click.echo(f"error: {refused}", err=True)
        for conflict in refused.details["conflicts"]:
            click.echo(f"  {json.dumps(conflict['key'], ensure_ascii=False)}"
                       f"  changed by job {conflict['jobId']}", err=True)
        sys.exit(1)
    lading.runner.process(job_id(job))
    _report(public_status(lading.jobs.status(workspace, job_id(job))), as_json)


@click.command("apply")
@click.argument("job")
@click.option("--json", "as_json", is_flag=True, help="Print the new job's final status as JSON.")
@workspace_option
@handles_errors
def jobs_apply(job, as_json, workspace) -> None:
    """Run a completed dry run for real, as a new job with the same source and plan."""
    lading = app()
    new_id = lading.dry_runs.apply(workspace, job_id(job))
    lading.runner.process(new_id)
    _report(public_status(lading.jobs.status(workspace, new_id)), as_json)


def _report(status: dict, as_json: bool) -> None:
    if as_json:
        print_json(status)
    else:
        click.echo(f"{status['jobId']}  {status['state']}")
        revert = status.get("revert")
        if revert:
            click.echo(f"removed {revert['removed']:,}, restored {revert['restored']:,}")
        else:
            click.echo(f"inserted {status['mergedInserts']:,}, updated {status['mergedUpdates']:,},"
                       f" unchanged {status['mergedUnchanged']:,}, deleted {status['mergedDeletes']:,}")
    sys.exit(0 if status["state"] in ("completed", "reverted") else 1)
