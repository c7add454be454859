"""kill -9 a process in the middle of merging chunks: the ledger and the table still agree, and
resuming merges every chunk exactly once (ADR 0020)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from uuid import UUID, uuid4

import pyarrow as pa
import pytest

from lading.adapters.postgres_destination import PostgresDestination
from lading.adapters.sqlite_destination import SqliteDestination
from lading.application.ports import LedgerEntry, MergeCounts
from lading.domain.table_schema import TableSchema

ROOT = Path(__file__).resolve().parents[2]
WS = "crash"
CHUNKS = 30
SIZE = 2000  # rows a chunk
STEP = 1000  # each chunk's keys overlap the previous chunk's by half: inserts and updates
SCHEMA = TableSchema.from_dict({
    "fields": [{"name": "id", "type": "integer"}, {"name": "written_by", "type": "integer"},
               {"name": "note", "type": "string"}],
    "primaryKey": ["id"],
})

_MERGER = textwrap.dedent("""
    import sys, uuid
    sys.path.insert(0, sys.argv[1])
    from tests.integration.test_destination_crash import merge_all, open_store
    store = open_store(sys.argv[2], sys.argv[3])
    merge_all(store, sys.argv[4], uuid.UUID(sys.argv[5]), progress=lambda c: print(c, flush=True))
""")


def open_store(kind: str, target: str):
    return SqliteDestination(Path(target)) if kind == "sqlite" else PostgresDestination(target)


def chunk_rows(chunk: int) -> pa.Table:
    ids = list(range(chunk * STEP, chunk * STEP + SIZE))
    return pa.table({"id": pa.array(ids, pa.int64()),
                     "written_by": pa.array([chunk] * SIZE, pa.int64()),
                     "note": pa.array([f"chunk {chunk}, row {i}" for i in ids])})


def merge_all(store, object_name: str, job: UUID, progress=lambda chunk: None) -> dict[int, MergeCounts]:
    """What a worker does: merge every chunk in order; ledgered ones come back unchanged."""
    out = {}
    for chunk in range(CHUNKS):
        out[chunk] = store.merge_chunk(WS, object_name, SCHEMA, "upsert", chunk_rows(chunk),
                                       LedgerEntry(job, 1, chunk))
        progress(chunk)
    return out


def expected_table(chunks: list[int]) -> dict[int, int]:
    """id -> the last chunk that wrote it, had exactly `chunks` been merged in order."""
    written: dict[int, int] = {}
    for chunk in sorted(chunks):
        for i in range(chunk * STEP, chunk * STEP + SIZE):
            written[i] = chunk
    return written


def table_contents(store, object_name: str) -> dict[int, int]:
    return {r["id"]: r["written_by"] for r in store.read_records(WS, object_name, SCHEMA)}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request, tmp_path) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "destination")
    return "postgres", request.getfixturevalue("postgres_url")


@pytest.mark.parametrize("round_", range(3))
def test_a_merger_killed_at_a_random_moment_leaves_ledger_and_rows_in_agreement(target, round_):
    kind, where = target
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    kill_after = rng.randrange(1, CHUNKS - 2)  # the chunk whose completion we wait for
    object_name, job = f"contacts{round_}", uuid4()
    child = subprocess.Popen(
        [sys.executable, "-c", _MERGER, str(ROOT), kind, where, object_name, str(job)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        seen = [time.monotonic()]
        for chunk in range(kill_after + 1):
            line = child.stdout.readline()
            assert line.strip() == str(chunk), child.stderr.read()
            seen.append(time.monotonic())
        # Somewhere inside the next chunk or the one after: during conversion, inside the
        # transaction, or while committing.
        pause = rng.uniform(0.0, 1.5 * (seen[-1] - seen[-2]))
        time.sleep(pause)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
    why = f"seed {seed}: killed {pause:.4f}s after chunk {kill_after} was merged"

    store = open_store(kind, where)
    try:
        ledger = store.merged_chunks(job, 1)
        done = sorted(ledger)
        assert done == list(range(len(done))), why  # chunks merge in order
        assert table_contents(store, object_name) == expected_table(done), why
        assert sum(c.inserts for c in ledger.values()) == len(expected_table(done)), why
        assert sum(c.inserts + c.updates for c in ledger.values()) == SIZE * len(done), why

        # Resuming merges what is missing and returns the recorded counts for the rest.
        resumed = merge_all(store, object_name, job)
        assert {c: resumed[c] for c in done} == ledger, why
        everything = expected_table(list(range(CHUNKS)))
        assert table_contents(store, object_name) == everything, why
        final = store.merged_chunks(job, 1)
        assert final == resumed
        assert sum(c.inserts for c in final.values()) == len(everything)
        assert sum(c.updates for c in final.values()) == SIZE * CHUNKS - len(everything)
    finally:
        store.close()
