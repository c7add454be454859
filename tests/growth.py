"""How a function's cost grows with its input, measured in CPU time of this process.

A complexity regression (a lookup that scans once per item) turns linear work quadratic. Wall
clocks on a shared machine say nothing about that; the ratio of CPU seconds between a size and
four times that size does: about 4 when linear, about 16 when quadratic.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def cpu_seconds(work: Callable[[], object], repeats: int = 3) -> float:
    """The least CPU time of `repeats` runs (the least is the one with the least interference)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def growth_factor(work: Callable[[int], object], size: int) -> float:
    """CPU time at 4 × size divided by CPU time at size."""
    small = cpu_seconds(lambda: work(size))
    large = cpu_seconds(lambda: work(4 * size))
    return large / max(small, 1e-4)
