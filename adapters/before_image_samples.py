"""A dry run's diff (SPEC §8) the same from every destination: its sample rows as the diff shows
them, and the merge run to its end and rolled back (ADR 0093)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lading.application.ports import ChunkDiff
from lading.domain.table_schema import Field, TableSchema

Row = tuple[Any, ...]


@dataclass(frozen=True)
class ChunkSamples:
    schema: TableSchema

    def to_json(self, found: dict[str, list[tuple[Row, Row]]],
                json_ready: Callable[[Field], Callable[[Any], Any]]) -> dict[str, list[dict[str, Any]]]:
        """`found`: per kind, (before, after) pairs of every field in schema order, either
        empty where the kind has none. An update shows only the fields it changes."""
        every = list(self.schema.fields)
        keys = list(self.schema.primary_key)
        samples: dict[str, list[dict[str, Any]]] = {}
        for kind, pairs in found.items():
            shown = []
            for before_row, after_row in pairs:
                before = {f.name: json_ready(f)(v) for f, v in zip(every, before_row)}
                after = {f.name: json_ready(f)(v) for f, v in zip(every, after_row)}
                key = {k: (after or before)[k] for k in keys}
                if kind == "updated":
                    changed = [n for n in after if n not in keys and after[n] != before.get(n)]
                    shown.append({"key": key, "before": {n: before.get(n) for n in changed},
                                  "after": {n: after[n] for n in changed}})
                elif kind == "inserted":
                    shown.append({"key": key, "after": after})
                else:
                    shown.append({"key": key, "before": before})
            samples[kind] = shown
        return samples


class Previewed(Exception):
    """Carries a dry run's diff out of its transaction, which rolls back on the way."""

    def __init__(self, diff: ChunkDiff) -> None:
        self.diff = diff


def diff_by_rollback(merge: Callable[[], object]) -> ChunkDiff:
    """Run a merge that ends by raising Previewed (so its transaction rolls back); its diff."""
    try:
        merge()
    except Previewed as previewed:
        return previewed.diff
    raise AssertionError("a preview always ends in a rollback")
