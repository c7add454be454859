"""The one way Lading writes an instant: ISO 8601 in UTC with a `Z` (`2024-05-17T10:00:00Z`)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(moment: datetime, timespec: str = "auto") -> str:
    """`moment` in UTC as ISO 8601 with `Z`; a naive moment is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def now_utc() -> str:
    """Now, to the microsecond, so stored instants sort in the order they were taken."""
    return iso_utc(datetime.now(UTC), "microseconds")
