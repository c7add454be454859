"""`lading templates …` and `lading configurations …`: the saved mappings a workspace reuses,
so `lading import --config ID` and `lading watch DIR --config ID` need no HTTP call first."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click

from lading.entrypoints.cli_support import (
    InputError,
    app,
    camel,
    handles_errors,
    print_json,
    workspace_option,
)


def _descriptor(file: Path) -> dict[str, Any]:
    try:
        found = json.loads(Path(file).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{file}: not a UTF-8 JSON file") from None
    if not isinstance(found, dict):
        raise InputError(f"{file}: expected a JSON object")
    return found


def _required(descriptor: dict[str, Any], key: str, file: Path) -> Any:
    if not isinstance(descriptor.get(key), (str, dict)) or not descriptor[key]:
        raise InputError(f"{file}: '{key}' is required")
    return descriptor[key]


def _line(saved: Any) -> str:
    return f"{saved.id}  {saved.object_name:<20} {saved.name}"


def _doc(saved: Any) -> dict[str, Any]:
    return camel(dataclasses.asdict(saved))


@click.group()
def templates() -> None:
    """Mapping templates: a checked mapping for one object, reused by id."""


@templates.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print an array of templates as JSON.")
@workspace_option
@handles_errors
def templates_list(as_json: bool, workspace: str) -> None:
    found = app().library.templates(workspace)
    if as_json:
        print_json([_doc(t) for t in found])
        return
    for t in found:
        click.echo(_line(t))


@templates.command("show")
@click.argument("template_id")
@workspace_option
@handles_errors
def templates_show(template_id: str, workspace: str) -> None:
    print_json(_doc(app().library.template(workspace, template_id)))


@templates.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@workspace_option
@handles_errors
def templates_create(file: Path, workspace: str) -> None:
    """Create a template from FILE.json: {"name", "objectName", "mapping"}; prints its id."""
    d = _descriptor(file)
    saved = app().library.save_template(workspace, _required(d, "name", file),
                                        _required(d, "objectName", file), _required(d, "mapping", file))
    click.echo(saved.id)


@templates.command("delete")
@click.argument("template_id")
@workspace_option
@handles_errors
def templates_delete(template_id: str, workspace: str) -> None:
    app().library.delete_template(workspace, template_id)


@click.group()
def configurations() -> None:
    """Import configurations: an object, a mapping and options that files are pushed to."""


@configurations.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print an array of configurations as JSON.")
@workspace_option
@handles_errors
def configurations_list(as_json: bool, workspace: str) -> None:
    found = app().library.configurations(workspace)
    if as_json:
        print_json([_doc(c) for c in found])
        return
    for c in found:
        click.echo(_line(c))


@configurations.command("show")
@click.argument("configuration_id")
@workspace_option
@handles_errors
def configurations_show(configuration_id: str, workspace: str) -> None:
    print_json(_doc(app().library.configuration(workspace, configuration_id)))


@configurations.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@workspace_option
@handles_errors
def configurations_create(file: Path, workspace: str) -> None:
    """Create a configuration from FILE.json: {"name", "objectName", "mapping", "source"?,
    "labels"?}; prints its id."""
    d = _descriptor(file)
    labels = d.get("labels") or []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise InputError(f"{file}: 'labels' must be a list of strings")
    saved = app().library.save_configuration(
        workspace, _required(d, "name", file), _required(d, "objectName", file),
        _required(d, "mapping", file), source=d.get("source"), labels=labels)
    click.echo(saved.id)
