"""A process wired by the composition root allocates Arrow buffers from jemalloc (ADR 0135),
unless Arrow's own ARROW_DEFAULT_MEMORY_POOL names another pool."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

WIRED_THEN_ALLOCATING = (
    "import sys, pyarrow as pa\n"
    "from lading.entrypoints.bootstrap import bootstrap\n"
    "from lading.entrypoints.settings import load_settings\n"
    "bootstrap(load_settings({'LADING_HOME': sys.argv[1]})).close()\n"
    "column = pa.array(['a value'] * 1000)\n"
    "print(pa.default_memory_pool().backend_name, pa.total_allocated_bytes() > 0)\n"
)


@pytest.mark.parametrize("chosen, backend", [(None, "jemalloc"), ("system", "system")])
def test_the_composition_root_chooses_jemalloc_unless_arrow_is_told_otherwise(tmp_path, chosen, backend):
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    done = subprocess.run([sys.executable, "-c", WIRED_THEN_ALLOCATING, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == [backend, "True"]
