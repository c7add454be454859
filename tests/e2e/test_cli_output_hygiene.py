"""What the CLI prints is safe and uniform (issue 16.5): keys listed without secrets, --json
errors as JSON on stderr, event data in camelCase, terminal control characters escaped, help for
every option."""

from __future__ import annotations

import json

import click

from lading.entrypoints.cli import main
from tests.builders import CONTACTS_SCHEMA, write_csv
from tests.e2e.cli import Lading


def test_keys_are_listed_by_public_id_with_their_state_and_never_their_secret(tmp_path):
    cli = Lading(tmp_path / "home")
    first = cli.run("keys", "create", "--workspace", "acme").stdout.strip()
    public_id, secret = "_".join(first.split("_")[:2]), first.split("_", 2)[2]
    cli.run("keys", "create", "--workspace", "acme", "--scopes", "imports:read")
    cli.run("keys", "revoke", public_id)
    listed = cli.json("keys", "list", "--workspace", "acme", "--json")
    assert listed[0]["publicId"] == public_id
    assert [k["revokedAt"] is None for k in listed] == [False, True]
    assert listed[1]["scopes"] == ["imports:read"]
    assert secret not in json.dumps(listed)
    assert cli.json("keys", "list", "--workspace", "other", "--json") == []


def test_with_json_a_refusal_is_a_json_error_on_stderr(tmp_path):
    cli = Lading(tmp_path / "home")
    done = cli.run("jobs", "show", "00000000-0000-0000-0000-000000000000", "--json", check_code=2)
    assert done.stdout == ""
    assert json.loads(done.stderr) == {"error": {
        "code": "NOT_FOUND", "message": "import job 00000000-0000-0000-0000-000000000000 not found"}}
    plain = cli.run("jobs", "show", "00000000-0000-0000-0000-000000000000", check_code=2)
    assert plain.stderr.startswith("error: import job")


def test_event_data_is_camel_case_and_control_characters_are_escaped_when_printed(tmp_path):
    cli = Lading(tmp_path / "home")
    cli.add_object(tmp_path, "contacts", CONTACTS_SCHEMA)
    path = write_csv(tmp_path / "evil\x1b]0;owned\x07.csv", ["id", "email"], [["1", "a@example.com"]])
    job = cli.json("import", str(path), "--object", "contacts", "--json")["jobId"]
    created = cli.json("jobs", "events", job, "--json")[0]["data"]
    assert created["objectName"] == "contacts" and "object_name" not in created
    shown = cli.run("jobs", "show", job).stdout
    assert "\x1b" not in shown and "\x07" not in shown and "evil\\x1b]0;owned\\x07.csv" in shown
    assert "\x1b" not in cli.run("jobs", "events", job).stdout


def _options(command: click.Command, path: str):
    for param in command.params:
        if isinstance(param, click.Option):
            yield f"{path} {param.opts[0]}", param
    for name, sub in getattr(command, "commands", {}).items():
        yield from _options(sub, f"{path} {name}")


def test_every_option_of_every_command_has_help():
    missing = [name for name, option in _options(main, "lading")
               if not option.help and "--help" not in option.opts and "--version" not in option.opts]
    assert missing == []
