"""What a review proposal needs from a paused run beyond its error file: the keys of its valid
rows, so that `recoversRows` never counts a recovered row the re-run rejects as a duplicate."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lading.application.ports import ValidationEngine
from lading.domain.proposals import ValidKeys


def staged_key_lookup(engine: ValidationEngine, staged: Sequence[Path],
                      key_fields: Sequence[str]) -> ValidKeys:
    """Answer "which of these keys do the valid rows have?" by reading the staged chunks (only
    their key columns, memory-mapped) when the proposal asks, once per question."""

    def valid_keys(keys: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        wanted, found = set(keys), set()
        for path in staged:
            if not Path(path).exists():
                continue
            table = engine.load_chunk(str(path))
            columns = [table.column(k).to_pylist() for k in key_fields]
            found |= wanted & set(zip(*columns))
            if found == wanted:
                break
        return found

    return valid_keys
