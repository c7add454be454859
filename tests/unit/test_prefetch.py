"""ahead_of: the next item is prepared while the caller handles the current one."""

from __future__ import annotations

import threading

import pytest

from lading.application.prefetch import ahead_of


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
