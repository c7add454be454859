"""Work on a job's chunks on more than one thread: the next one prepared while the caller
works on the current one, and several worked on side by side, their results taken in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


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


@contextmanager
def side_by_side(work: Callable[[T, Any], R], items: Iterable[tuple[T, Any]],
                 at_once: int) -> Iterator[Iterator[tuple[T, R]]]:
    """Yield an iterator of (item, work(item, value)) for each (item, value) of `items`, in
    their order, with up to `at_once` works running together on threads of their own (with 1,
    each runs in the caller's thread when its turn comes). A work's error is raised when its
    item's turn comes; leaving waits for the works still running, so none outlives the caller."""
    if at_once <= 1:
        yield ((item, work(item, value)) for item, value in items)
        return
    running: deque[tuple[T, Future[R]]] = deque()

    def results(pool: ThreadPoolExecutor) -> Iterator[tuple[T, R]]:
        for item, value in items:
            running.append((item, pool.submit(work, item, value)))
            if len(running) >= at_once:
                first, future = running.popleft()
                yield first, future.result()
        while running:
            first, future = running.popleft()
            yield first, future.result()

    with ThreadPoolExecutor(at_once, thread_name_prefix="lading-merge") as pool:
        yield results(pool)
