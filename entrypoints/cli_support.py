"""What every `lading` command shares: the wired application, one-line refusals (exit 2, never a
traceback), the workspace option and JSON output."""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import click

from lading.domain.errors import DomainError
from lading.domain.workspace_names import check_workspace_name
from lading.entrypoints.settings import ConfigError, load_settings

F = TypeVar("F", bound=Callable[..., Any])


class InputError(click.ClickException):
    """A refusal: one line on stderr, or a JSON error object when the command was given --json."""

    exit_code = 2

    def __init__(self, message: str, code: str = "INPUT_INVALID") -> None:
        super().__init__(message)
        self.code = code
        self.as_json = False

    def show(self, file: Any = None) -> None:
        if self.as_json:
            click.echo(json.dumps({"error": {"code": self.code, "message": self.format_message()}},
                                  ensure_ascii=False), err=True)
        else:
            click.echo(f"error: {printable(self.format_message())}", err=True)


def app() -> Any:
    from lading.entrypoints.bootstrap import bootstrap

    settings = load_settings()
    announce_new_home(settings.home)
    return bootstrap(settings)


def announce_new_home(home: Path) -> None:
    """Say once, when Lading is about to create it, where its data folder is (not under --json,
    whose stderr is for JSON errors)."""
    context = click.get_current_context(silent=True)
    if context is not None and context.params.get("as_json"):
        return
    if not home.exists():
        click.echo(f"lading: keeping data in {home.resolve()} (LADING_HOME; default ./var)", err=True)


def handles_errors(fn: F) -> F:
    """Turn every refusal into one line on stderr and exit 2; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return _refusing(fn, *args, **kwargs)
        except InputError as exc:
            exc.as_json = bool(kwargs.get("as_json"))
            raise

    return wrapper  # type: ignore[return-value]


def _refusing(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except DomainError as exc:
        raise InputError(str(exc), exc.code) from None
    except ConfigError as exc:
        raise InputError(str(exc), "CONFIGURATION_INVALID") from None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise InputError(f"{exc.strerror}: {exc.filename}", "FILE_UNREADABLE") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise InputError("the file is not UTF-8 text") from None


# C0 and C1 control characters (ESC, BEL, CSI…) would drive the terminal; tab stays as it is.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_C1 = re.compile(r"[\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with its terminal control characters shown escaped (`\\x1b`), for printing."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@contextmanager
def stops_quietly_on_ctrl_c() -> Iterator[None]:
    """Ctrl-C ends a long-running command with exit 130 (128 + SIGINT), the shell's convention,
    and no traceback."""
    try:
        yield
    except KeyboardInterrupt:
        sys.exit(130)


class InterruptibleGroup(click.Group):
    """Ctrl-C anywhere in a command exits 130 quietly, not with click's "Aborted!" and 1."""

    def invoke(self, ctx: click.Context) -> Any:
        with stops_quietly_on_ctrl_c():
            return super().invoke(ctx)


def workspace_option(fn: F) -> F:
    return click.option(
        "--workspace", "-w", envvar="LADING_WORKSPACE", default="default", show_default=True,
        help="The workspace (tenant) to act in.", callback=_checked_workspace,
    )(fn)


def _checked_workspace(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_workspace_name(value)
    except DomainError as exc:
        raise click.BadParameter(str(exc)) from None


def job_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise InputError(f"'{value}' is not a job id") from None


def print_json(data: Any) -> None:
    # json escapes C0 characters itself; DEL and C1 (a one-byte CSI) are escaped here too.
    text = json.dumps(data, indent=2, ensure_ascii=False)
    click.echo(_C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def camel(doc: dict[str, Any]) -> dict[str, Any]:
    """snake_case keys as the API's camelCase (every output Lading prints speaks camelCase)."""
    def word(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(part.title() for part in rest)
    return {word(k): v for k, v in doc.items()}
