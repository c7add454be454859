"""What `lading import` shows while it runs: percent and time left from the bytes read while
validating, the merge's own rate while merging, and a one-line summary at the end."""

from __future__ import annotations

from lading.entrypoints.cli_progress import ProgressMeter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_validation_shows_the_share_of_bytes_read_and_the_time_left():
    clock = Clock()
    meter = ProgressMeter(clock)
    clock.now += 2.0
    reading = meter.read({"stage": "validating", "rowsValidated": 50_000, "bytesRead": 250,
                          "bytesTotal": 1000})
    assert reading.percent == 25.0
    assert reading.seconds_left == 6.0  # 2 s for a quarter: 6 s for the rest
    assert reading.rows_per_second == 25_000
    assert reading.line() == "validating: 50,000 rows (25,000 rows/s), 25%, about 6.0 s left"


def test_merging_is_timed_from_the_end_of_validation_not_from_the_start():
    clock = Clock()
    meter = ProgressMeter(clock)
    clock.now += 10.0
    meter.read({"stage": "validating", "rowsValidated": 1_000_000, "bytesRead": 9, "bytesTotal": 9})
    clock.now += 4.0
    reading = meter.read({"stage": "merging", "rowsValidated": 1_000_000, "rowsMerged": 400_000,
                          "validRows": 800_000})
    assert reading.rows_per_second == 100_000  # 400,000 rows in the merge's own 4 s
    assert (reading.percent, reading.seconds_left) == (50.0, 4.0)


def test_the_summary_names_each_stage_with_its_rows_time_and_rate():
    clock = Clock()
    meter = ProgressMeter(clock)
    clock.now += 2.0
    meter.read({"stage": "validating", "rowsValidated": 3000, "bytesRead": 10, "bytesTotal": 10})
    clock.now += 1.0
    meter.read({"stage": "merging", "rowsValidated": 3000, "rowsMerged": 2000, "validRows": 2000})
    assert meter.summary() == ("validated 3,000 rows in 2.0 s (1,500 rows/s); "
                               "merged 2,000 rows in 1.0 s (2,000 rows/s)")


def test_an_unknown_size_shows_no_percent_and_no_time_left():
    reading = ProgressMeter(Clock()).read({"stage": "validating", "rowsValidated": 10})
    assert (reading.percent, reading.seconds_left) == (None, None)
    assert "%" not in reading.line()
