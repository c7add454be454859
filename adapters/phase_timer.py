"""Where an import's time goes: seconds per phase (read, validate, stage, key checks, convert, load,
write, commit), summed over the process's chunks, for `make bench` to print.

A phase entered inside another (key checks during validation) pauses the outer one, so each
second is counted once per thread. Phases are per chunk, never per row: the cost is a few
clock reads a chunk. The stager's thread times its own `stage` beside the main thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_totals: dict[str, float] = {}
_local = threading.local()


@contextmanager
def phase(name: str) -> Iterator[None]:
    stack: list[list] = _local.__dict__.setdefault("stack", [])
    now = time.perf_counter()
    if stack:
        _add(stack[-1][0], now - stack[-1][1])
    stack.append([name, now])
    try:
        yield
    finally:
        now = time.perf_counter()
        _add(name, now - stack.pop()[1])
        if stack:
            stack[-1][1] = now  # the outer phase resumes


def timed_iter(name: str, items: Iterable[T]) -> Iterator[T]:
    """Yield from `items`, counting the time spent producing each one as `name`."""
    iterator = iter(items)
    while True:
        with phase(name):
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item


def timed_call(name: str, function: Callable[..., T]) -> Callable[..., T]:
    def call(*args, **kwargs) -> T:
        with phase(name):
            return function(*args, **kwargs)
    return call


def totals() -> dict[str, float]:
    with _lock:
        return dict(_totals)


def _add(name: str, seconds: float) -> None:
    with _lock:
        _totals[name] = _totals.get(name, 0.0) + seconds
