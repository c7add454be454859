"""Prepare the next item on a second thread while the caller works on the current one."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


@contextmanager
def ahead_of(prepare: Callable[[T], Any], items: Sequence[T],
             release: Callable[[Any], None]) -> Iterator[Iterator[tuple[T, Any]]]:
    """Yield an iterator of (item, prepare(item)), in order, with the next item's preparation
    running while the caller handles the current one. Each prepared value handed out is the
    caller's; one prepared ahead but never handed out (the caller stopped or failed) is given
    to `release`. A preparation's error is raised when its item's turn comes."""
    pending: list[Future[Any]] = []

    def prepared(pool: ThreadPoolExecutor) -> Iterator[tuple[T, Any]]:
        if not items:
            return
        pending.append(pool.submit(prepare, items[0]))
        for position, item in enumerate(items):
            current = pending.pop().result()
            if position + 1 < len(items):
                pending.append(pool.submit(prepare, items[position + 1]))
            yield item, current

    with ThreadPoolExecutor(1, thread_name_prefix="lading-prepare") as pool:
        try:
            yield prepared(pool)
        finally:
            for future in pending:
                if future.exception() is None:  # waits; a failed one has nothing to release
                    release(future.result())
