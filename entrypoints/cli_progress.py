"""`lading import`'s progress: a rich bar on a terminal, a line a second otherwise, and a one-line
summary when it ends.

Validation is measured in bytes of the source read (its size is known, its row count is not);
merging in rows of the valid total. Each stage's rate is its own rows over its own time, so the
merge's rate is not diluted by the validation before it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class Reading:
    """One stage's progress as shown: `done` of `total` (None: unknown) and the stage's rate."""

    stage: str
    rows: int
    done: int
    total: int | None
    rows_per_second: float
    seconds_left: float | None

    @property
    def percent(self) -> float | None:
        return 100.0 * self.done / self.total if self.total else None

    def line(self) -> str:
        said = f"{self.stage}: {self.rows:,} rows ({self.rows_per_second:,.0f} rows/s)"
        if self.percent is not None:
            said += f", {self.percent:.0f}%"
        if self.seconds_left is not None:
            said += f", about {_duration(self.seconds_left)} left"
        return said


class ProgressMeter:
    """Turns the runner's updates into readings, timing each stage from its first update."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._began = clock()
        self._stage_began: dict[str, float] = {}
        self._stage_rows: dict[str, int] = {}
        self._stage_ended: dict[str, float] = {}

    def read(self, update: dict[str, Any]) -> Reading:
        now = self._clock()
        stage = update["stage"]
        if stage not in self._stage_began:
            # A stage's clock starts where the previous stage's stopped (validation: at start).
            self._stage_began[stage] = max(self._stage_ended.values(), default=self._began)
        if stage == "merging":
            rows, done, total = update["rowsMerged"], update["rowsMerged"], update.get("validRows")
        else:
            rows = update["rowsValidated"]
            done, total = update.get("bytesRead", 0), update.get("bytesTotal") or None
        self._stage_rows[stage] = rows
        self._stage_ended[stage] = now
        elapsed = max(now - self._stage_began[stage], 1e-6)
        left = elapsed * (total - done) / done if total and done else None
        return Reading(stage, rows, done, total, rows / elapsed, left)

    def summary(self) -> str:
        parts = []
        for stage, said in (("validating", "validated"), ("merging", "merged")):
            if stage in self._stage_rows:
                seconds = max(self._stage_ended[stage] - self._stage_began[stage], 1e-6)
                rows = self._stage_rows[stage]
                parts.append(f"{said} {rows:,} rows in {_duration(seconds)}"
                             f" ({rows / seconds:,.0f} rows/s)")
        return "; ".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


class ImportProgress:
    """The display around one `runner.process` call (a context manager, and its callback)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.meter = ProgressMeter()
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}
        self._last_line = 0.0

    def __enter__(self) -> "ImportProgress":
        if self.enabled and self.tty:
            from rich.console import Console
            from rich.progress import (BarColumn, Progress, TaskProgressColumn, TextColumn,
                                       TimeRemainingColumn)

            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                TextColumn("{task.fields[rows]:,} rows"), TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(), console=Console(stderr=True), transient=True,
            )
            self._bar.start()
        return self

    def __call__(self, update: dict[str, Any]) -> None:
        if not self.enabled:
            return
        reading = self.meter.read(update)
        if self._bar is not None:
            self._show(reading)
        elif time.monotonic() - self._last_line >= 1.0:
            self._last_line = time.monotonic()
            click.echo(reading.line(), err=True)

    def _show(self, reading: Reading) -> None:
        if reading.stage not in self._tasks:
            for task in self._tasks.values():
                self._bar.update(task, visible=False)
            self._tasks[reading.stage] = self._bar.add_task(reading.stage, total=reading.total,
                                                            rows=0, rate="")
        self._bar.update(self._tasks[reading.stage], completed=reading.done, total=reading.total,
                         rows=reading.rows, rate=f"{reading.rows_per_second:,.0f} rows/s")

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.stop()
        if self.enabled and (summary := self.meter.summary()):
            click.echo(summary, err=True)
