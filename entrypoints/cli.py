"""The `lading` command line (SPEC §6): a thin driving adapter over ImportJobs.

Exit codes: 0 completed (even with rejected rows), 1 failed, 2 usage or input error (one line on
stderr, no traceback), 3 needs_attention, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import msgspec

from lading.application.projections import JobFilter
from lading.application.status_view import public_status
from lading.domain.lifecycle import JobState
from lading.entrypoints.cli_progress import ImportProgress
from lading.entrypoints.logging_setup import configure_logging
from lading.entrypoints.cli_support import (
    InputError,
    InterruptibleGroup,
    announce_new_home,
    app,
    camel,
    handles_errors,
    job_id,
    print_json,
    printable,
    workspace_option,
)
from lading.entrypoints.settings import load_settings

log = logging.getLogger("lading.worker")
EXIT_FOR_STATE = {"completed": 0, "failed": 1, "needs_attention": 3, "reverted": 0}


# Shared by every command module (cli_support.py); the underscored names read as before here.
_app = app
_job_id = job_id
_print_json = print_json


@click.group(cls=InterruptibleGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def _print_status(status: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(show_header=False, box=None)
    for key in ("jobId", "objectName", "fileName", "state", "declaredStatus", "expectedRows",
                "errorMessage", "readRows", "validRows",
                "invalidRows", "mergedInserts", "mergedUpdates", "mergedUnchanged", "mergedDeletes",
                "successRate"):
        value = status.get(key)
        if value is not None:
            table.add_row(key, printable(str(value)))
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


def _print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if report["columns"] or report["rowProblems"]["skipped"]:
        table = Table(title="skipped rows by column")
        for name in ("field", "source column", "skipped", "reasons", "also failing", "samples"):
            table.add_column(name)
        rows = list(report["columns"].items())
        if report["rowProblems"]["skipped"]:
            rows.append(("(whole row)", {**report["rowProblems"], "sourceColumn": None, "alsoFailing": 0}))
        for name, col in rows:
            table.add_row(name, col["sourceColumn"] or "", f"{col['skipped']:,}",
                          ", ".join(f"{c} {n:,}" for c, n in col["reasons"].items()),
                          f"{col['alsoFailing']:,}",
                          ", ".join(json.dumps(s["value"], ensure_ascii=False) for s in col["samples"]))
        console.print(table)
    for rename in report["healing"]["headers"]:
        console.print(f"header {rename['column']!r} read as {rename['mappedColumn']!r} ({rename['reason']})")
    if report.get("profile"):
        console.print("profile:", json.dumps(report["profile"], indent=2, ensure_ascii=False))


@main.command("import")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--object", "object_name", help="The destination object.")
@click.option("--map", "maps", multiple=True, metavar="SRC=FIELD", help="Map a column to a field.")
@click.option("--mode", type=click.Choice(["balanced", "strict", "landing_friendly", "custom"]),
              help="How strictly values are judged (SPEC §3 import modes); default balanced.")
@click.option("--operation", type=click.Choice(["upsert", "insert", "update", "delete"]),
              help="What valid rows do to the object's records; default upsert.")
@click.option("--config", "config_id", help="An import configuration id.")
@click.option("--review", help="auto, review_on_errors, or a max invalid ratio such as 0.05.")
@click.option("--audience", "audience_name", metavar="NAME",
              help="Make a dynamic audience of the records this import writes last.")
@click.option("--profile", "auto_profile", is_flag=True,
              help="Profile what the import wrote once it completes (jobs show --report).")
@click.option("--dry-run", is_flag=True,
              help="Run the whole import and write nothing; the status shows what it would do.")
@click.option("--json", "as_json", is_flag=True, help="Print the final status as JSON.")
@workspace_option
@handles_errors
def import_(files: tuple[Path, ...], object_name, maps, mode, operation, config_id, review,
            audience_name, auto_profile, dry_run, as_json, workspace) -> None:
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
    created = {"audience_name": audience_name, "auto_profile": auto_profile}
    if not files:
        if audience_name or auto_profile or dry_run:
            raise InputError("--audience, --profile and --dry-run need a FILE")
        job_id = lading.library.trigger(workspace, config_id, mapping)
    elif len(files) == 1:
        job_id, _ = jobs.submit_path(workspace, object_name, files[0], mapping, source=source,
                                     labels=labels, dry_run=dry_run, **created)
    else:
        job_id, _ = jobs.submit_files(workspace, object_name, [(f.name, f) for f in files], mapping,
                                      source=source, labels=labels, dry_run=dry_run, **created)
    with ImportProgress(enabled=not as_json) as progress:
        lading.runner.process(job_id, on_progress=progress)
    status = public_status(jobs.status(workspace, job_id))
    if as_json:
        _print_json(status)
    else:
        _print_status(status)
    if status["state"] == "needs_attention":
        # On stderr, so stdout stays the status alone under --json.
        click.echo(f"job {job_id} needs attention: read its proposal (lading jobs show {job_id}"
                   f" --json), then run `lading jobs approve {job_id}` (or with --proposal FILE,"
                   f" the proposal edited) or `lading jobs cancel {job_id}`", err=True)
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
@click.option("--report", is_flag=True,
              help="Add the detailed report (skipped rows by column, healing, warnings, profile).")
@click.option("--json", "as_json", is_flag=True, help="Print the status as a JSON object.")
@click.option("--as-of-version", "as_of_version", type=int, metavar="N",
              help="The status as it was after the job's event N.")
@click.option("--as-of", "as_of", metavar="TIMESTAMP",
              help="The status after the last event at or before this ISO 8601 instant.")
@workspace_option
@handles_errors
def jobs_show(job, report, as_json, as_of_version, as_of, workspace) -> None:
    """Show one job's status (now, or as it was after an earlier event)."""
    lading = _app()
    if as_of_version is None and as_of is None:
        doc = lading.jobs.status(workspace, _job_id(job))
    else:
        if report:
            raise InputError("--report shows the job as it is now: leave out --as-of-version/--as-of")
        doc = lading.time_travel.status_as_of(workspace, _job_id(job), version=as_of_version,
                                              instant=as_of)
    status = public_status(doc)
    if report:
        status["detailedReport"] = lading.reports.report(workspace, _job_id(job))
        if not as_json:
            _print_status(status)
            _print_report(status["detailedReport"])
            return
    _print_json(status) if as_json else _print_status(status)


@jobs.command("errors")
@click.argument("job")
@click.option("--json", "as_json", is_flag=True, help="Accepted for symmetry: output is JSON Lines.")
@click.option("--csv", "as_csv", is_flag=True,
              help="As CSV instead: rowNumber, code, error and the row's source columns.")
@workspace_option
@handles_errors
def jobs_errors(job, as_json, as_csv, workspace) -> None:
    """Print the job's error file (JSON Lines, one rejected row a line)."""
    if as_csv:
        _app().exports.export_errors(workspace, _job_id(job), sys.stdout.buffer)
        return
    path = _app().jobs.error_file(workspace, _job_id(job))
    if path is None:
        return
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            sys.stdout.buffer.write(block)


@jobs.command("events")
@click.argument("job")
@click.option("--json", "as_json", is_flag=True, help="Print the events as a JSON array (data in camelCase).")
@workspace_option
@handles_errors
def jobs_events(job, as_json, workspace) -> None:
    """Print the job's event history, in order."""
    events = [{**e, "data": camel(e["data"])} for e in _app().jobs.history(workspace, _job_id(job))]
    if as_json:
        _print_json(events)
        return
    for e in events:
        click.echo(f"{e['version']:>4}  {e['timestamp']}  {e['type']:<20} {json.dumps(e['data'])}")


@jobs.command("export")
@click.argument("job")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")
@click.option("--rows", "which", type=click.Choice(["valid", "rejected", "all"]),
              help="valid (default): the object's fields; rejected: source columns and _errors; "
                   "all: every source row with _status and _errors.")
@click.option("--annotated", is_flag=True,
              help="Every source row in source order with _status and _errors (= --rows all).")
@click.option("--json", "as_json", is_flag=True, help="Accepted for symmetry: output is CSV.")
@workspace_option
@handles_errors
def jobs_export(job, output, which, annotated, as_json, workspace) -> None:
    """Write the job's rows as CSV (stdout unless --output): its valid rows by default."""
    if annotated and which not in (None, "all"):
        raise click.UsageError(f"--annotated writes every row; it cannot go with --rows {which}")
    which = "all" if annotated else which or "valid"
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
@click.option("--json", "as_json", is_flag=True, help="Print the names as a JSON array.")
@workspace_option
@handles_errors
def objects_list(as_json, workspace) -> None:
    names = [o["name"] for o in _app().objects.list_objects(workspace)]
    _print_json(names) if as_json else [click.echo(printable(n)) for n in names]


@objects.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Accepted for symmetry: output is JSON.")
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
    try:
        descriptor = json.loads(Path(file).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{file} is not a JSON file: it is not even UTF-8 text") from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("name"), str):
        raise InputError(f"{file}: expected {{\"name\": …, \"schema\": …}}")
    _app().objects.add_object(workspace, descriptor["name"], descriptor.get("schema"))
    click.echo(descriptor["name"])


@main.command("records")
@click.argument("object_name")
@click.option("--limit", type=click.IntRange(min=0),
              help="Print at most this many records (default: all of them).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one record a line.")
@workspace_option
@handles_errors
def records(object_name, limit, as_json, workspace) -> None:
    """Print the object's stored records in key order, streamed (memory stays bounded)."""
    objects = _app().objects
    schema = objects.schema_of(workspace, object_name)
    rows = objects.records(workspace, object_name, limit)
    out = sys.stdout  # one write a record: click.echo costs more than reading the record
    if as_json:
        # One record a line as it is read: the whole table never sits in memory.
        out.write("[\n")
        line = None
        for row in rows:
            if line is not None:
                out.write(f"  {line},\n")
            line = msgspec.json.encode(row).decode()
        out.write("]\n" if line is None else f"  {line}\n]\n")
        return
    names = list(schema.field_names)
    out.write("\t".join(names) + "\n")
    for row in rows:
        out.write("\t".join("" if row[n] is None else str(row[n]) for n in names) + "\n")


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


@jobs.command("declare")
@click.argument("job")
@click.option("--status", "word", help="The job's own status word, kept until it holds data.")
@click.option("--expected-rows", type=click.IntRange(min=0), help="The rows it expects.")
@click.option("--json", "as_json", is_flag=True, help="Print the status after declaring as JSON.")
@workspace_option
@handles_errors
def jobs_declare(job, word, expected_rows, as_json, workspace) -> None:
    """Declare the status of a job that holds no data yet (a cohort); each change is recorded."""
    if word is None and expected_rows is None:
        raise InputError("give --status, --expected-rows or both")
    lading = _app()
    lading.jobs.declare_status(workspace, _job_id(job), word, expected_rows)
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


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the keys as a JSON array.")
@workspace_option
@handles_errors
def keys_list(as_json, workspace) -> None:
    """List the workspace's keys by public id (secrets are never shown again)."""
    found = _app().keys.list_keys(workspace)
    if as_json:
        _print_json(found)
        return
    for key in found:
        state = f"revoked {key['revokedAt']}" if key["revokedAt"] else "live"
        click.echo(f"{key['publicId']}  {','.join(key['scopes']):<40} {key['createdAt']}  {state}")


@keys.command("revoke")
@click.argument("key_id")
@handles_errors
def keys_revoke(key_id) -> None:
    """Revoke a key for good, by the public id `keys create` printed before its secret."""
    if not _app().keys.revoke(key_id):
        raise InputError(f"no live key {key_id}")
    click.echo(f"revoked {key_id}")


@keys.command("create")
@click.option("--scopes", default="imports:read,imports:write", show_default=True,
              help="Comma-separated: imports:read, imports:write, admin.")
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
    announce_new_home(settings.home)
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


class _Duration(click.ParamType):
    """A duration as a count and a unit: 90s, 30m, 12h, 7d."""

    name = "DURATION"
    _UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

    def convert(self, value: Any, param: Any, ctx: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip()
        if len(text) < 2 or not text[:-1].isdigit() or text[-1] not in self._UNITS:
            self.fail(f"{value!r} is not a duration such as 90s, 30m, 12h or 7d", param, ctx)
        return timedelta(**{self._UNITS[text[-1]]: int(text[:-1])})


@main.command("purge")
@click.option("--older-than", "days", default=30, show_default=True, type=int,
              help="Only jobs that finished at least this many days ago.")
@click.option("--pending-older-than", "pending", type=_Duration(), default=None,
              help="Also jobs never started (pending, ready) untouched for this long (7d, 12h).")
@workspace_option
@handles_errors
def purge(days, pending, workspace) -> None:
    """Delete blobs of finished jobs older than DAYS (their history is kept)."""
    removed = _app().housekeeping.purge(workspace, older_than_days=days, pending_older_than=pending)
    click.echo(f"removed {removed} blob(s)")


@main.command("describe")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rows", default=5000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="How many rows to read.")
@handles_errors
def describe(file, rows) -> None:
    """Infer a Table Schema from FILE's first rows: types, formats, required, enums, a key."""
    _print_json(_app().suggestions.describe(file, file.name, rows))


from lading.entrypoints.cli_audiences import audiences  # noqa: E402  (commands join main)
from lading.entrypoints.cli_library import configurations, templates  # noqa: E402
from lading.entrypoints.cli_results import jobs_results  # noqa: E402
from lading.entrypoints.cli_undo import jobs_apply, jobs_revert  # noqa: E402
from lading.entrypoints.cli_workspaces import workspaces  # noqa: E402

main.add_command(templates)
jobs.add_command(jobs_revert)
jobs.add_command(jobs_apply)
main.add_command(configurations)
main.add_command(workspaces)
main.add_command(audiences)
jobs.add_command(jobs_results)


if __name__ == "__main__":
    main()
