"""The data profile (SPEC §4 autoProfileAfterImport): per column filled, empty, distinct
(exact to 100,000, then estimated), min, max, top 5, built chunk by chunk in bounded memory."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from lading.domain import data_profile
from lading.domain.data_profile import ColumnProfile, DataProfile


def test_a_column_profile_counts_filled_empty_distinct_bounds_and_top_values():
    profile = DataProfile(["tier", "joined"])
    profile.add_rows([
        {"tier": "gold", "joined": date(2024, 1, 5)}, {"tier": "gold", "joined": None},
        {"tier": "silver", "joined": date(2023, 3, 1)}, {"tier": None, "joined": date(2025, 2, 2)},
    ])
    assert profile.to_dict() == {
        "tier": {"filled": 3, "empty": 1, "distinct": 2, "distinctApproximate": False,
                 "min": "gold", "max": "silver",
                 "top": [{"value": "gold", "count": 2}, {"value": "silver", "count": 1}]},
        "joined": {"filled": 3, "empty": 1, "distinct": 3, "distinctApproximate": False,
                   "min": "2023-03-01", "max": "2025-02-02",
                   "top": [{"value": "2023-03-01", "count": 1}, {"value": "2024-01-05", "count": 1},
                           {"value": "2025-02-02", "count": 1}]},
    }


def test_only_the_five_most_frequent_values_are_listed_ties_in_a_fixed_order():
    column = ColumnProfile("n")
    column.add([1, 1, 1, 2, 2, 3, 4, 5, 6, 7])
    assert column.top() == [(1, 3), (2, 2), (3, 1), (4, 1), (5, 1)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 30) | st.none(), max_size=200), st.integers(1, 50))
def test_chunking_never_changes_the_profile(values, size):
    whole = ColumnProfile("v")
    whole.add(values)
    chunked = ColumnProfile("v")
    for start in range(0, len(values), size):
        chunked.add(values[start:start + size])
    merged = ColumnProfile("v")
    for start in range(0, len(values), size):
        part = ColumnProfile("v")
        part.add(values[start:start + size])
        merged.merge(part)
    assert whole.to_dict() == chunked.to_dict() == merged.to_dict()
    filled = [v for v in values if v is not None]
    assert whole.distinct == len(set(filled)) and whole.filled == len(filled)


def test_past_the_exact_bound_distinct_is_estimated_within_a_few_percent(monkeypatch):
    monkeypatch.setattr(data_profile, "EXACT_DISTINCT", 1000)
    column = ColumnProfile("id")
    for start in range(0, 50_000, 5000):
        column.add(range(start, start + 5000))
    column.add([7] * 100)  # one heavy value survives the sketch
    assert column.approximate
    assert abs(column.distinct - 50_000) / 50_000 < 0.03
    assert (column.min, column.max, column.filled) == (0, 49_999, 50_100)
    ((value, count),) = column.top(1)
    assert value == 7 and 100 <= count <= 101
    assert len(column._heavy) <= data_profile.PRUNE_AT


def test_the_estimate_is_the_same_in_every_process():
    # BLAKE2b, not the per-process salted hash(): a fixed input gives a fixed estimate
    registers = bytearray(1 << data_profile.HLL_BITS)
    for i in range(20_000):
        data_profile._hll_add(registers, f"user{i}@example.com")
    first = data_profile._hll_estimate(registers)
    again = bytearray(1 << data_profile.HLL_BITS)
    for i in reversed(range(20_000)):
        data_profile._hll_add(again, f"user{i}@example.com")
    assert data_profile._hll_estimate(again) == first
    assert abs(first - 20_000) / 20_000 < 0.03


def test_arrow_chunks_profile_exactly_like_python_rows():
    import pyarrow as pa

    from lading.adapters.arrow_profile import add_table

    rows = [{"id": i, "tier": ["gold", "silver", None][i % 3], "joined": date(2024, 1, 1 + i % 9)}
            for i in range(100)]
    from_rows = DataProfile(["id", "tier", "joined"])
    from_rows.add_rows(rows)
    from_arrow = DataProfile(["id", "tier", "joined"])
    table = pa.Table.from_pylist(rows)
    for batch in table.to_batches(max_chunksize=17):
        add_table(from_arrow, batch)
    assert from_arrow.to_dict() == from_rows.to_dict()
