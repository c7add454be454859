"""Processes started at the same moment on one PostgreSQL database (a cluster's API nodes and
workers) all come up: the event store's tables, type and function are set up one process at a
time. Without that, two of three rounds of four lost a process ("tuple concurrently updated",
or a duplicate key on pg_type)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.postgres

_START = textwrap.dedent("""
    import sys, time
    from lading.entrypoints.bootstrap import bootstrap
    from lading.entrypoints.settings import load_settings

    settings = load_settings()
    time.sleep(max(0.0, float(sys.argv[1]) - time.time()))  # all at once
    bootstrap(settings).close()
""")


def _start_together(tmp_path, url: str, processes: int, round_: str) -> list[subprocess.CompletedProcess]:
    at = time.time() + 3  # every process has imported Lading by then
    running = [subprocess.Popen(
        [sys.executable, "-c", _START, str(at)],
        env={**os.environ, "LADING_HOME": str(tmp_path / f"{round_}-{i}"),
             "LADING_EVENT_STORE": url, "LADING_DESTINATION": url},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(processes)]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=120), *p.communicate())
            for p in running]


@pytest.mark.parametrize("round_", ["fresh", "existing"])
def test_four_processes_starting_at_once_all_set_up_the_event_store(tmp_path, postgres_url, round_):
    if round_ == "existing":
        assert all(p.returncode == 0 for p in _start_together(tmp_path, postgres_url, 1, "first"))
    started = _start_together(tmp_path, postgres_url, 4, round_)
    assert [p.stderr.strip().splitlines()[-3:] for p in started if p.returncode] == []
