"""`lading jobs results JOB`: the per-row results file of a completed job (SPEC §8)."""

from __future__ import annotations

import sys

import click

from lading.entrypoints.cli_support import app, handles_errors, job_id, workspace_option


@click.command("results")
@click.argument("job")
@click.option("--format", "file_format", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True, help="JSON Lines, or CSV with rowNumber,outcome,key,code.")
@workspace_option
@handles_errors
def jobs_results(job, file_format, workspace) -> None:
    """Print one line per source row, in source order: its outcome, key and, when rejected, code."""
    app().results.write_results(workspace, job_id(job), sys.stdout.buffer, file_format)
