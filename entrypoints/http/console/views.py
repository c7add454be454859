"""What templates need beyond the values: number and time formats, the error-summary chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment
from litestar.response import Template

from lading.entrypoints.http.auth import WRITE, Identity

TERMINAL = ("completed", "failed", "cancelled", "reverted")
STATES = ("pending", "ready", "queued", "running", "needs_attention", "completed", "failed",
          "cancelled", "reverting", "reverted")


def number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else ("" if value is None else str(value))


def percent(value: Any) -> str:
    if value is None:
        return ""
    return f"{float(value) * 100:.2f} %"


def moment(value: Any) -> str:
    """An ISO instant, shorter: the date and the time to the second, in UTC."""
    if not isinstance(value, str) or "T" not in value:
        return "" if value is None else str(value)
    date, _, time = value.partition("T")
    return f"{date} {time[:8]} UTC"


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    width: float  # 0..100, the share of the widest bar
    y: int


def error_bars(summary: dict[str, int] | None, height: int = 28) -> list[Bar]:
    """The error summary as horizontal bars, largest first, drawn as SVG rects server-side."""
    items = sorted((summary or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    top = max((c for _, c in items), default=0) or 1
    return [Bar(label=code, count=count, width=round(100 * count / top, 2), y=i * height)
            for i, (code, count) in enumerate(items)]


def summary(data: Any, limit: int = 240) -> str:
    """An event's data on one line: scalars as they are, collections by their size."""
    if not isinstance(data, dict):
        return "" if data is None else str(data)[:limit]
    parts = []
    for key, value in data.items():
        if value is None or value == {} or value == []:
            continue
        if isinstance(value, dict):
            shown = ", ".join(f"{k}: {v}" for k, v in list(value.items())[:4]
                              if not isinstance(v, (dict, list)))
            parts.append(f"{key} {{{shown}{', …' if len(value) > 4 else ''}}}" if shown
                         else f"{key} ({len(value)} entries)")
        elif isinstance(value, list):
            parts.append(f"{key} ({len(value)} items)")
        else:
            parts.append(f"{key}: {value}")
    text = " · ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def register_filters(environment: Environment) -> None:
    environment.filters.update(number=number, percent=percent, moment=moment, summary=summary)
    environment.globals.update(error_bars=error_bars, TERMINAL=TERMINAL, STATES=STATES)


def page(template: str, identity: Identity | None, status_code: int = 200, **context: Any) -> Template:
    """A console page: every template knows who is signed in and what they may do."""
    return Template(template_name=template, status_code=status_code, context={
        "identity": identity,
        "can_write": identity is not None and identity.has(WRITE),
        **context,
    })
