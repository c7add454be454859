"""The `lading` command line (SPEC §6): a thin driving adapter over ImportJobs.

Exit codes: 0 completed (even with rejected rows), 1 failed, 2 usage or input error (one line on
stderr, no traceback), 3 needs_attention.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import click

from lading.application.projections import JobFilter
from lading.application.status_view import public_status
from lading.domain.lifecycle import JobState
from lading.entrypoints.logging_setup import configure_logging
from lading.entrypoints.cli_support import (
    InputError,
    app,
    handles_errors,
    job_id,
    print_json,
    workspace_option,
)
from lading.entrypoints.settings import load_settings

log = logging.getLogger("lading.worker")
EXIT_FOR_STATE = {"completed": 0, "failed": 1, "needs_attention": 3, "reverted": 0}


# Shared by every command module (cli_support.py); the underscored names read as before here.
_app = app
_job_id = job_id
_print_json = print_json


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lading", prog_name="lading")
def main() -> None:
    """Lading: bulk import jobs — validate every row, upsert the valid ones, report exactly."""


# -- import ---------------------------------------------------------------------------------


def _parse_maps(pairs: tuple[str, ...]) -> dict[str, str] | None:
    if not pairs:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source or not target:
            raise InputError(f"--map takes SOURCE=FIELD, not '{pair}'")
        out[source] = target
    return out


def _parse_review(value: str | None) -> Any:
    if value is None:
        return None
    if value.startswith("{"):
        return json.loads(value)
    try:
        return {"maxInvalidRatio": float(value)}
    except ValueError:
        return value


class _Progress:
    """A rich progress display on a terminal; plain lines otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self._progress = None
        self._last_line = 0.0

    def __enter__(self) -> "_Progress":
        if self.enabled and self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(),
                TextColumn("{task.completed:,.0f} rows"), TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(), console=Console(stderr=True), transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("validating", total=None, rate="")
        return self

    def __call__(self, update: dict[str, Any]) -> None:
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        stage = update["stage"]
        done = update.get("rowsMerged", 0) if stage == "merging" else update["rowsValidated"]
        rate = f"{update['rowsValidated'] / elapsed:,.0f} rows/s"
        if self._progress is not None:
            total = update.get("validRows") if stage == "merging" else None
            self._progress.update(self._task, description=stage, completed=done, total=total, rate=rate)
        elif time.monotonic() - self._last_line >= 1.0:
            self._last_line = time.monotonic()
            click.echo(f"{stage}: {done:,} rows ({rate})", err=True)

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()


def _print_status(status: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(show_header=False, box=None)
    for key in ("jobId", "objectName", "fileName", "state", "errorMessage", "readRows", "validRows",
                "invalidRows", "mergedInserts", "mergedUpdates", "mergedUnchanged", "mergedDeletes",
                "successRate"):
        value = status.get(key)
        if value is not None:
            table.add_row(key, str(value))
    console.print(table)
    if status.get("errorSummary"):
        summary = Table(title="errorSummary")
        summary.add_column("code")
        summary.add_column("rows", justify="right")
        for code, n in sorted(status["errorSummary"].items(), key=lambda kv: -kv[1]):
            summary.add_row(code, f"{n:,}")
        console.print(summary)
    if status.get("proposal"):
        console.print("proposal:", json.dumps(status["proposal"], indent=2))
    if status.get("diff"):
        diff = status["diff"]
        console.print("dry run, nothing written: would " + ", ".join(
            f"{word} {diff[kind]:,}" for word, kind in (
                ("insert", "inserted"), ("update", "updated"), ("leave unchanged", "unchanged"),
                ("delete", "deleted"), ("reject", "rejected"))))


@main.command("import")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--object", "object_name", help="The destination object.")
@click.option("--map", "maps", multiple=True, metavar="SRC=FIELD", help="Map a column to a field.")
@click.option("--mode", type=click.Choice(["balanced", "strict", "landing_friendly", "custom"]))
@click.option("--operation", type=click.Choice(["upsert", "insert", "update", "delete"]))
@click.option("--config", "config_id", help="An import configuration id.")
@click.option("--review", help="auto, review_on_errors, or a max invalid ratio such as 0.05.")
@click.option("--dry-run", is_flag=True,
              help="Run the whole import and write nothing; the status shows what it would do.")
@click.option("--json", "as_json", is_flag=True, help="Print the final status as JSON.")
@workspace_option
@handles_errors
def import_(files: tuple[Path, ...], object_name, maps, mode, operation, config_id, review, dry_run,
            as_json, workspace) -> None:
    """Import FILE into an object and wait for the result; several FILEs are read in order as one
    source (each header matched on its own, row numbers continuing).

    Without FILE, --config imports the configuration's sourceUrl as it is now."""
    if not files and not config_id:
        raise InputError("give a FILE to import, or --config ID to import its sourceUrl")
    for file in files:
        if not file.exists():
            raise InputError(f"no such file: {file}")
    lading = _app()
    jobs = lading.jobs
    mapping: dict[str, Any] = {}
    source, labels = "cli", None
    if config_id:
        config = lading.library.configuration(workspace, config_id)
        object_name = object_name or config.object_name
        if object_name != config.object_name:
            raise InputError(f"configuration {config_id} imports into '{config.object_name}'")
        mapping = dict(config.mapping)
        source, labels = config.source or "cli", config.labels
    if not object_name:
        raise InputError("--object (or --config) is required")
    field_map = _parse_maps(maps)
    if field_map is not None:
        mapping["fieldMap"] = field_map
    for key, value in (("importMode", mode), ("operation", operation),
                       ("reviewPolicy", _parse_review(review))):
        if value is not None:
            mapping[key] = value
    if not files:
        if dry_run:
            raise InputError("--dry-run needs the FILE to import")
        job_id = lading.library.trigger(workspace, config_id, mapping)
    elif len(files) == 1:
        job_id, _ = jobs.submit_path(workspace, object_name, files[0], mapping, source=source,
                                     labels=labels, dry_run=dry_run)
    else:
        job_id, _ = jobs.submit_files(workspace, object_name, [(f.name, f) for f in files], mapping,
                                      source=source, labels=labels, dry_run=dry_run)
    with _Progress(enabled=not as_json) as progress:
        lading.runner.process(job_id, on_progress=progress)
    status = public_status(jobs.status(workspace, job_id))
    if as_json:
        _print_json(status)
    else:
        _print_status(status)
    sys.exit(EXIT_FOR_STATE.get(status["state"], 1))


# -- jobs -----------------------------------------------------------------------------------


@main.group()
def jobs() -> None:
    """Inspect import jobs, and decide the ones waiting for a person."""


_LISTED_STATES = [str(s) for s in JobState if s != JobState.DELETED]


@jobs.command("list")
@click.option("--state", multiple=True, type=click.Choice(_LISTED_STATES),
              help="Only jobs in this state (repeat for several).")
@click.option("--object", "object_name", help="Only jobs into this object.")
@click.option("--limit", default=50, show_default=True, help="At most this many jobs.")
@click.option("--json", "as_json", is_flag=True, help="Print an array of status objects.")
@workspace_option
@handles_errors
def jobs_list(state, object_name, limit, as_json, workspace) -> None:
    """List jobs, newest first."""
    docs = _app().jobs.list_jobs(JobFilter(workspace=workspace, states=tuple(state),
                                          object_name=object_name, limit=limit))
    statuses = [public_status(d) for d in docs]
    if as_json:
        _print_json(statuses)
        return
    for s in statuses:
        click.echo(f"{s['jobId']}  {s['state']:<15} {s['objectName']:<20} {s['readRows']:>10,} read"
                   f" {s['invalidRows']:>8,} rejected  {s['createdAt']}")


@jobs.command("show")
@click.argument("job")
@click.option("--json", "as_json", is_flag=True)
@workspace_option
@handles_errors
def jobs_show(job, as_json, workspace) -> None:
    """Show one job's status."""
    status = public_status(_app().jobs.status(workspace, _job_id(job)))
    _print_json(status) if as_json else _print_status(status)


@jobs.command("errors")
@click.argument("job")
@click.option("--json", "as_json", is_flag=True, help="Accepted for symmetry: output is JSON Lines.")
@workspace_option
@handles_errors
def jobs_errors(job, as_json, workspace) -> None:
    """Print the job's error file (JSON Lines, one rejected row a line)."""
    path = _app().jobs.error_file(workspace, _job_id(job))
    if path is None:
        return
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            sys.stdout.buffer.write(block)


@jobs.command("events")
@click.argument("job")
@click.option("--json", "as_json", is_flag=True)
@workspace_option
@handles_errors
def jobs_events(job, as_json, workspace) -> None:
    """Print the job's event history, in order."""
    events = _app().jobs.history(workspace, _job_id(job))
    if as_json:
        _print_json(events)
        return
    for e in events:
        click.echo(f"{e['version']:>4}  {e['timestamp']}  {e['type']:<20} {json.dumps(e['data'])}")


@jobs.command("export")
@click.argument("job")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rows", "which", type=click.Choice(["valid", "rejected", "all"]), default="valid",
              show_default=True,
              help="valid: the object's fields; rejected: source columns and _errors; all: every "
                   "source row with _status and _errors.")
@click.option("--json", "as_json", is_flag=True, help="Accepted for symmetry: output is CSV.")
@workspace_option
@handles_errors
def jobs_export(job, output, which, as_json, workspace) -> None:
    """Write the job's rows as CSV (stdout unless --output): its valid rows by default."""
    exports = _app().exports

    def write(out) -> None:
        if which == "valid":
            exports.export_valid_rows(workspace, _job_id(job), out)
        else:
            exports.export_annotated(workspace, _job_id(job), out, rejected_only=which == "rejected")

    if output:
        with open(output, "wb") as fh:
            write(fh)
    else:
        write(sys.stdout.buffer)


# -- objects, records, keys ----------------------------------------------------------------


@main.group()
def objects() -> None:
    """Destination objects and their Table Schemas."""


@objects.command("list")
@click.option("--json", "as_json", is_flag=True)
@workspace_option
@handles_errors
def objects_list(as_json, workspace) -> None:
    names = [o["name"] for o in _app().objects.list_objects(workspace)]
    _print_json(names) if as_json else [click.echo(n) for n in names]


@objects.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@workspace_option
@handles_errors
def objects_show(name, as_json, workspace) -> None:
    schema = _app().objects.schema_of(workspace, name)
    _print_json({"name": name, "schema": schema.to_dict()})


@objects.command("add")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@workspace_option
@handles_errors
def objects_add(file, workspace) -> None:
    """Add an object from FILE.json: {"name": …, "schema": <Table Schema>}."""
    descriptor = json.loads(Path(file).read_text(encoding="utf-8"))
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("name"), str):
        raise InputError(f"{file}: expected {{\"name\": …, \"schema\": …}}")
    _app().objects.add_object(workspace, descriptor["name"], descriptor.get("schema"))
    click.echo(descriptor["name"])


@main.command("records")
@click.argument("object_name")
@click.option("--limit", type=int)
@click.option("--json", "as_json", is_flag=True)
@workspace_option
@handles_errors
def records(object_name, limit, as_json, workspace) -> None:
    """Print the object's stored records."""
    objects = _app().objects
    schema = objects.schema_of(workspace, object_name)
    rows = list(objects.records(workspace, object_name, limit))
    if as_json:
        _print_json(rows)
        return
    names = list(schema.field_names)
    click.echo("\t".join(names))
    for row in rows:
        click.echo("\t".join("" if row[n] is None else str(row[n]) for n in names))


@main.group()
def keys() -> None:
    """API keys."""


@jobs.command("cancel")
@click.argument("job")
@click.option("--json", "as_json", is_flag=True, help="Print the status after cancelling as JSON.")
@workspace_option
@handles_errors
def jobs_cancel(job, as_json, workspace) -> None:
    """Cancel a job that has not ended."""
    lading = _app()
    lading.jobs.cancel(workspace, _job_id(job))
    status = public_status(lading.jobs.status(workspace, _job_id(job)))
    _print_json(status) if as_json else _print_status(status)


@jobs.command("approve")
@click.argument("job")
@click.option("--proposal", "proposal_file", type=click.Path(dir_okay=False, path_type=Path),
              help="An edited proposal (JSON, {\"changes\": [...]}); without it the proposal as shown.")
@click.option("--json", "as_json", is_flag=True, help="Print the final status as JSON.")
@workspace_option
@handles_errors
def jobs_approve(job, proposal_file, as_json, workspace) -> None:
    """Approve the proposal of a job at needs_attention, then run it to the end."""
    lading = _app()
    edits = json.loads(Path(proposal_file).read_text(encoding="utf-8")) if proposal_file else None
    lading.jobs.approve(workspace, _job_id(job), edits)
    lading.runner.process(_job_id(job))
    status = public_status(lading.jobs.status(workspace, _job_id(job)))
    _print_json(status) if as_json else _print_status(status)
    sys.exit(EXIT_FOR_STATE.get(status["state"], 1))


@keys.command("revoke")
@click.argument("key_id")
@handles_errors
def keys_revoke(key_id) -> None:
    """Revoke a key for good, by the public id `keys create` printed before its secret."""
    if not _app().keys.revoke(key_id):
        raise InputError(f"no live key {key_id}")
    click.echo(f"revoked {key_id}")


@keys.command("create")
@click.option("--scopes", default="imports:read,imports:write", show_default=True)
@workspace_option
@handles_errors
def keys_create(scopes, workspace) -> None:
    """Create a key; prints it alone on stdout (it is shown only once)."""
    wanted = frozenset(s.strip() for s in scopes.split(",") if s.strip())
    click.echo(_app().keys.create(workspace, wanted))


# -- operations -----------------------------------------------------------------------------


@main.command("replay")
@click.option("--check", is_flag=True, help="Rebuild into a fresh store and report differences.")
@workspace_option
@handles_errors
def replay(check, workspace) -> None:
    """Rebuild the read models from the event history."""
    replay = _app().replay
    if not check:
        click.echo(f"rebuilt {replay.rebuild()} job(s)")
        return
    differences = replay.check()
    for line in differences:
        click.echo(line, err=True)
    if differences:
        sys.exit(1)
    click.echo("read models match the event history")


@main.command("serve")
@click.option("--host", envvar="LADING_HOST", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", envvar="LADING_PORT", type=int, help="Port to listen on (default 8000).")
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="Run jobs in a child worker process.")
@click.option("--access-log", is_flag=True, help="Log every request.")
@handles_errors
def serve(host, port, worker, access_log) -> None:
    """Run the HTTP API (with a worker in a child process)."""
    from lading.entrypoints.http.server import serve as run_server

    settings = load_settings()
    configure_logging(settings.log_level)
    run_server(settings, host, port, worker=worker, access_log=access_log)


@main.command("worker")
@click.option("--once", is_flag=True, help="Finish every runnable job, then exit.")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks for work.")
@workspace_option
@handles_errors
def worker(once, poll, workspace) -> None:
    """Run queued jobs (and resume ones a dead process left running)."""
    lading = _app()
    configure_logging(lading.settings.log_level)
    lading.runner.work(once=once, poll_seconds=poll, concurrency=lading.settings.worker_concurrency,
                       on_done=lambda job_id, state: log.info(
                           "job processed", extra={"jobId": str(job_id), "state": state}))


@main.command("watch")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--config", "config_id", required=True, help="The import configuration to apply.")
@click.option("--polling", is_flag=True, help="Poll instead of OS events (network or bind mounts).")
@workspace_option
@handles_errors
def watch(directory, config_id, polling, workspace) -> None:
    """Import every file dropped into DIRECTORY; move it to processed/ or failed/."""
    from lading.entrypoints.watcher import DirectoryWatcher

    lading = _app()
    lading.library.configuration(workspace, config_id)  # refuse an unknown id up front
    watcher = DirectoryWatcher(lading, directory, workspace, config_id, force_polling=polling)
    click.echo(f"watching {directory} (configuration {config_id}); Ctrl-C to stop", err=True)
    try:
        watcher.run(on_result=lambda name, state: click.echo(f"{name}: {state}", err=True))
    except KeyboardInterrupt:
        pass


@main.command("purge")
@click.option("--older-than", "days", default=30, show_default=True, type=int)
@workspace_option
@handles_errors
def purge(days, workspace) -> None:
    """Delete blobs of finished jobs older than DAYS (their history is kept)."""
    removed = _app().housekeeping.purge(workspace, older_than_days=days)
    click.echo(f"removed {removed} blob(s)")


@main.command("describe")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rows", default=5000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="How many rows to read.")
@handles_errors
def describe(file, rows) -> None:
    """Infer a Table Schema from FILE's first rows: types, formats, required, enums, a key."""
    _print_json(_app().suggestions.describe(file, file.name, rows))


from lading.entrypoints.cli_library import configurations, templates  # noqa: E402  (commands join main)
from lading.entrypoints.cli_undo import jobs_apply, jobs_revert  # noqa: E402

main.add_command(templates)
jobs.add_command(jobs_revert)
jobs.add_command(jobs_apply)
main.add_command(configurations)


if __name__ == "__main__":
    main()
