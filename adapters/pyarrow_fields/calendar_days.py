"""Proleptic Gregorian arithmetic over numpy arrays: days since 1970-01-01 and the datetime
range (years 1 to 9999), as domain/value_formats.py's `date_from_match` and
`datetime_from_match` decide them with Python's `date` and `datetime`."""

from __future__ import annotations

import numpy as np

from lading.domain import value_formats as vf


DAY_US = 86_400_000_000


DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _calendar_tables() -> tuple[np.ndarray, np.ndarray]:
    years = np.arange(vf.MAX_YEAR + 2, dtype=np.int64)
    leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
    before = (years - 1) * 365 + (years - 1) // 4 - (years - 1) // 100 + (years - 1) // 400
    start = before - before[1970]
    return start, leap


YEAR_START, LEAP = _calendar_tables()


MONTH_START = np.array([0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334], dtype=np.int64)


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid proleptic Gregorian dates (year >= 1)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = np.where(m > 2, m - 3, m + 9)
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


MIN_US = int(days_from_civil(np.array([1]), np.array([1]), np.array([1]))[0]) * DAY_US


MAX_US = (int(days_from_civil(np.array([9999]), np.array([12]), np.array([31]))[0]) + 1) * DAY_US - 1
