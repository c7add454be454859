"""How big one record and one header may be: the bounds that keep a hostile file from taking
a reader's memory (ADR 0015). Configured by LADING_MAX_RECORD_BYTES and LADING_MAX_COLUMNS."""

from __future__ import annotations

from dataclasses import dataclass

from lading.domain.errors import SourceUnreadable

DEFAULT_MAX_RECORD_BYTES = 64 << 20
DEFAULT_MAX_COLUMNS = 10_000
# pyarrow's CSV block size is a 32-bit int; a record may span up to two blocks of the cap's size
# before pyarrow gives up, so the cap stays well below that.
MOST_RECORD_BYTES = 1 << 30


@dataclass(frozen=True)
class SourceLimits:
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    max_columns: int = DEFAULT_MAX_COLUMNS

    def __post_init__(self) -> None:
        if not 1 <= self.max_record_bytes <= MOST_RECORD_BYTES:
            raise ValueError(f"max_record_bytes must be 1 to {MOST_RECORD_BYTES}")
        if self.max_columns < 1:
            raise ValueError("max_columns must be at least 1")

    def record_too_large(self, where: str, hint: str = "") -> SourceUnreadable:
        return SourceUnreadable(
            f"{where} is longer than {self.max_record_bytes:,} bytes, the most one record may "
            f"have (LADING_MAX_RECORD_BYTES){hint}", "RECORD_TOO_LARGE")

    def too_many_columns(self) -> SourceUnreadable:
        return SourceUnreadable(
            f"the file has more than {self.max_columns:,} columns, the most a file may have "
            "(LADING_MAX_COLUMNS)", "TOO_MANY_COLUMNS")

    def check_columns(self, count: int) -> None:
        if count > self.max_columns:
            raise self.too_many_columns()
