"""Which allocator the process's Arrow buffers come from (ADR 0135)."""

from __future__ import annotations

import os

import pyarrow as pa


def use_jemalloc() -> None:
    """Allocate Arrow buffers from jemalloc, which kept an import's peak RSS about a quarter
    below pyarrow's default (mimalloc) at the same speed; keep the pool named by Arrow's own
    ARROW_DEFAULT_MEMORY_POOL where it is set, and the default where this pyarrow has no
    jemalloc."""
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        try:
            pa.set_memory_pool(pa.jemalloc_memory_pool())
        except NotImplementedError:
            pass  # a build without jemalloc (Windows wheels)
