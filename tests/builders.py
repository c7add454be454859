"""Small builders shared by tests: the demo `profiles` object and files to import."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any
from uuid import UUID

from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.samples import profiles_object
from lading.entrypoints.settings import Settings

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
GEN_DATA = SHARED / "bench" / "gen_data.py"

PROFILES_SCHEMA = profiles_object()["schema"]

CONTACTS_SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer"},
        {"name": "email", "type": "string", "format": "email", "constraints": {"required": True}},
        {"name": "zip", "type": "string"},
        {"name": "born", "type": "date"},
        {"name": "tier", "type": "string", "constraints": {"enum": ["free", "pro"]}},
    ],
    "primaryKey": ["id"],
}

# One field of every Table Schema type a destination stores, keyed by an integer.
EVERY_TYPE_SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer"},
        {"name": "name", "type": "string"},
        {"name": "score", "type": "number"},
        {"name": "active", "type": "boolean"},
        {"name": "born", "type": "date"},
        {"name": "seen", "type": "datetime"},
        {"name": "opens", "type": "time"},
        {"name": "since", "type": "year"},
    ],
    "primaryKey": ["id"],
}


@contextmanager
def embedded_lading(home: Path, workspace: str, objects: dict[str, dict[str, Any]], *,
                    in_memory_events: bool = True, **settings: Any) -> Iterator[Any]:
    """Lading wired on `home` (with `settings`), with `objects` (name -> Table Schema) in
    `workspace`; its events kept in memory unless `in_memory_events` is False (then in the
    settings' event store); closed at the end."""
    lading = bootstrap(Settings(home=home, **settings), eventsourcing=(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"} if in_memory_events else None))
    try:
        for name, schema in objects.items():
            lading.objects.catalog.add(workspace, name, TableSchema.from_dict(schema))
        yield lading
    finally:
        lading.close()


def process_file(lading: Any, workspace: str, object_name: str, path: Path,
                 mapping: dict[str, Any] | None = None) -> UUID:
    """A job for the file at `path`, created, mapped, started and processed to its end by the
    application's own runner, in this thread; its id."""
    jobs = lading.jobs
    job_id, _ = jobs.create_job(workspace, object_name, path.name, path.stat().st_size)
    jobs.attach_file(workspace, job_id, path)
    jobs.map(workspace, job_id, mapping or {})
    jobs.start(workspace, job_id)
    lading.runner.process(job_id)
    return job_id


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def generate_profiles(n: int, out: Path, *, seed: int = 42, ndjson: bool = False,
                      invalid_rate: float = 0.005) -> dict:
    """Run the shared deterministic generator; return its expected counts."""
    args = [sys.executable, str(GEN_DATA), str(n), str(out), "--seed", str(seed),
            "--invalid-rate", str(invalid_rate)]
    if ndjson:
        args.append("--ndjson")
    subprocess.run(args, check=True, capture_output=True)
    return json.loads(Path(str(out) + ".expected.json").read_text())


def timed_merges(destination: Any) -> list[tuple[float, float]]:
    """Wrap `destination.merge_chunk` so that each merge's (start, end) is appended to the list
    returned: a test can then see whether two merges ran at once."""
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()
    merge_chunk = destination.merge_chunk

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.monotonic()
        try:
            return merge_chunk(*args, **kwargs)
        finally:
            with lock:
                spans.append((began, time.monotonic()))

    destination.merge_chunk = timed
    return spans


def merged_at_once(spans: list[tuple[float, float]]) -> bool:
    """Whether two of the merges `timed_merges` recorded overlapped."""
    ordered = sorted(spans)
    return any(start < end for (_, end), (start, _) in pairwise(ordered))
