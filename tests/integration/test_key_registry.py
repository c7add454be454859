"""The key registry answers exactly like a set of the keys accepted so far, on disk or not.

Runs are frozen to memory-mapped spill files at FROZEN_RUN keys; the tests shrink that bound so
a few small chunks exercise frozen, merged and fresh runs together.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lading.adapters import numpy_key_registry
from lading.adapters.numpy_key_registry import KeyRegistry

INTS = st.lists(st.lists(st.integers(-50, 50), max_size=12), min_size=1, max_size=12)
PAIRS = st.lists(st.lists(st.tuples(st.sampled_from(["", "a", "b", "ab", "é", "ba"]),
                                    st.integers(0, 3)), max_size=12), min_size=1, max_size=12)


@pytest.fixture(autouse=True)
def tiny_runs(monkeypatch):
    monkeypatch.setattr(numpy_key_registry, "FROZEN_RUN", 4)


def replay(registry: KeyRegistry, chunks: list[list[tuple]], types: list[pa.DataType]) -> None:
    """Ask about each chunk's keys, then add its distinct new ones, checking against a set."""
    accepted: set[tuple] = set()
    for index, keys in enumerate(chunks):
        columns = [pa.array([k[i] for k in keys], t) for i, t in enumerate(types)]
        assert registry.contains(columns).tolist() == [k in accepted for k in keys]
        new = list(dict.fromkeys(k for k in keys if k not in accepted))
        registry.add([pa.array([k[i] for k in new], t) for i, t in enumerate(types)], index)
        accepted.update(new)
    assert len(registry) == len(accepted)


@settings(max_examples=60, deadline=None)
@given(INTS)
def test_integer_keys_are_remembered_exactly_across_frozen_runs(chunks):
    with tempfile.TemporaryDirectory() as spill:
        replay(KeyRegistry([pa.int64()], Path(spill), "keys"),
               [[(k,) for k in chunk] for chunk in chunks], [pa.int64()])


@settings(max_examples=60, deadline=None)
@given(PAIRS)
def test_composite_text_keys_are_remembered_exactly_across_frozen_runs(chunks):
    with tempfile.TemporaryDirectory() as spill:
        replay(KeyRegistry([pa.string(), pa.int64()], Path(spill), "keys"), chunks,
               [pa.string(), pa.int64()])


def test_full_runs_move_to_memory_mapped_files(tmp_path):
    registry = KeyRegistry([pa.int64()], tmp_path, "keys")
    for index in range(5):
        registry.add([pa.array(range(index * 4, index * 4 + 4), pa.int64())], index)
    frozen = sorted(p.name for p in tmp_path.iterdir())
    assert frozen and all(name.startswith("keys-run-") for name in frozen)
    assert registry.contains([pa.array([0, 19, 20], pa.int64())]).tolist() == [True, True, False]


def test_negative_zero_is_the_same_number_key(tmp_path):
    registry = KeyRegistry([pa.float64()], tmp_path, "keys")
    registry.add([pa.array([0.0, 1.5, 2.5, 3.5], pa.float64())], 0)
    assert registry.contains([pa.array([-0.0, 2.5, 4.5], pa.float64())]).tolist() == [True, True, False]
