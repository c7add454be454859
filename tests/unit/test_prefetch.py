"""ahead_of: the next item is prepared while the caller handles the current one; side_by_side:
several items worked on at once, their results taken in order."""

from __future__ import annotations

import threading
import time

import pytest

from lading.application.prefetch import ahead_of, side_by_side


def test_items_come_in_order_with_their_prepared_values():
    with ahead_of(lambda n: n * 10, [1, 2, 3], release=lambda v: None) as prepared:
        assert list(prepared) == [(1, 10), (2, 20), (3, 30)]


def test_the_next_item_is_prepared_while_the_current_one_is_handled():
    second_started = threading.Event()

    def prepare(n: int) -> int:
        if n == 2:
            second_started.set()
        return n

    with ahead_of(prepare, [1, 2], release=lambda v: None) as prepared:
        for item, _ in prepared:
            if item == 1:
                assert second_started.wait(timeout=10), "item 2 was not prepared meanwhile"


def test_a_value_prepared_ahead_but_never_handed_out_is_released():
    released = []
    with pytest.raises(RuntimeError, match="merge failed"):
        with ahead_of(lambda n: f"staged {n}", [1, 2, 3], release=released.append) as prepared:
            for item, _ in prepared:
                raise RuntimeError("merge failed")
    assert released == ["staged 2"]


def test_a_failed_preparation_is_raised_at_its_turn_after_the_earlier_items():
    def prepare(n: int) -> int:
        if n == 2:
            raise ValueError("chunk 2 is unreadable")
        return n

    handled = []
    with pytest.raises(ValueError, match="chunk 2"):
        with ahead_of(prepare, [1, 2, 3], release=lambda v: None) as prepared:
            for item, _ in prepared:
                handled.append(item)
    assert handled == [1]


def test_no_items_prepare_nothing():
    with ahead_of(lambda n: pytest.fail("prepared"), [], release=lambda v: None) as prepared:
        assert list(prepared) == []


# -- side_by_side: works run together, their results taken in order --------------------------


def test_works_run_side_by_side_and_their_results_come_in_the_items_order():
    first_may_end = threading.Event()
    running, most = [0], [0]
    lock = threading.Lock()

    def work(n: int, value: str) -> str:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        if n == 1:  # the first work ends only once the second has begun beside it
            assert first_may_end.wait(timeout=10), "the second work did not start meanwhile"
        if n == 2:
            first_may_end.set()
        with lock:
            running[0] -= 1
        return f"{value} merged"

    items = [(n, f"chunk {n}") for n in range(1, 6)]
    with side_by_side(work, items, at_once=2) as merged:
        assert list(merged) == [(n, f"chunk {n} merged") for n in range(1, 6)]
    assert most[0] == 2


def test_one_at_a_time_runs_each_work_in_the_callers_thread():
    threads = []
    with side_by_side(lambda n, v: threads.append(threading.current_thread()), [(1, 1), (2, 2)],
                      at_once=1) as merged:
        list(merged)
    assert threads == [threading.current_thread()] * 2


def test_a_failed_work_is_raised_at_its_turn_and_leaving_waits_for_the_one_beside_it():
    ended = []

    def work(n: int, value: int) -> int:
        if n == 1:
            raise RuntimeError("chunk 1 failed")
        time.sleep(0.2)
        ended.append(n)
        return value

    with pytest.raises(RuntimeError, match="chunk 1"):
        with side_by_side(work, [(1, 1), (2, 2), (3, 3)], at_once=2) as merged:
            list(merged)
    assert ended == [2], "the work already running beside the failed one ended before leaving"
