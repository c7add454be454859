"""Bundled sample objects and files, used by `make run`, the benchmarks and the tests."""

import json
from pathlib import Path

SAMPLES = Path(__file__).parent


def profiles_object() -> dict:
    """The demo `profiles` object: {"name": ..., "schema": <Table Schema>} (gen_data.py's columns)."""
    return json.loads((SAMPLES / "profiles.json").read_text())
