"""A primary key's value as JSON shows it, wherever Lading writes one: the per-row results
file, a rejected row's key, a list member. Instants are in UTC with `Z`, as the records API
shows them; dates and times in ISO 8601; other values as they are."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any


def key_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, (date, time)):
        return value.isoformat()
    return value


def key_of(names: Sequence[str], values: Sequence[Any]) -> Any:
    """A key as one value, or an object of its fields' values for a composite key."""
    return key_value(values[0]) if len(names) == 1 else {
        n: key_value(v) for n, v in zip(names, values)}
