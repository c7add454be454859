"""The file watcher (`lading watch DIR --config ID`): a driving adapter that imports each file
dropped into a directory with a saved import configuration.

A file is taken once it has stopped growing; after its job ends it moves to `processed/`
(completed or needs_attention) or `failed/`, with `<name>.job.json` beside it holding the job's
final status, so the directory itself shows what happened. While it is imported, a marker
`.<name>.lading-job.json` names its job; a watcher killed and restarted resumes that job
(ADR 0085).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import watchfiles

from lading.domain.errors import DomainError

SETTLE_SECONDS = 1.0
MARKER_SUFFIX = ".lading-job.json"


class DirectoryWatcher:
    def __init__(self, lading, directory: Path, workspace: str, configuration_id: str, *,
                 force_polling: bool = False, settle_seconds: float = SETTLE_SECONDS) -> None:
        self.lading = lading
        self.directory = Path(directory)
        self.workspace = workspace
        self.configuration_id = configuration_id
        self.force_polling = force_polling
        self.settle_seconds = settle_seconds
        self.processed = self.directory / "processed"
        self.failed = self.directory / "failed"
        for d in (self.directory, self.processed, self.failed):
            d.mkdir(parents=True, exist_ok=True)

    def run(self, stop: threading.Event | None = None,
            on_result: Callable[[str, str], None] = lambda name, state: None) -> None:
        self.drain(on_result)
        for _ in watchfiles.watch(self.directory, stop_event=stop, recursive=False,
                                  force_polling=self.force_polling, rust_timeout=1000,
                                  yield_on_timeout=True):
            self.drain(on_result)

    def drain(self, on_result: Callable[[str, str], None]) -> None:
        """Import every settled file now in the directory."""
        for path in sorted(self.directory.iterdir()):
            if path.is_file() and not path.name.startswith(".") and self._settled(path):
                on_result(path.name, self.import_file(path))
            elif path.name.endswith(MARKER_SUFFIX) and not path.with_name(
                    path.name[1:-len(MARKER_SUFFIX)]).exists():
                path.unlink(missing_ok=True)  # its file moved away just before a kill

    def _settled(self, path: Path) -> bool:
        before = path.stat()
        if time.time() - before.st_mtime >= self.settle_seconds:
            return True
        time.sleep(self.settle_seconds)
        after = path.stat()
        return (before.st_size, before.st_mtime) == (after.st_size, after.st_mtime)

    def import_file(self, path: Path) -> str:
        marker = _Marker(path)
        known = marker.read()
        try:
            outcome = self.lading.watched.import_file(
                self.workspace, self.configuration_id, path, sha256=known,
                on_job=lambda job_id, sha256: marker.write(job_id, sha256))
            status, settled = outcome.status, outcome.settled
        except DomainError as exc:
            status = {"state": "failed", "errorMessage": str(exc)}
            settled = False
        target = self.processed if settled else self.failed
        moved = target / path.name
        if moved.exists():
            moved = target / f"{path.stem}.{int(time.time() * 1000)}{path.suffix}"
        # The status first, then the file, then the marker: a kill between any two leaves the
        # file in place, and the restarted watcher finds the same job again.
        _write_atomically(moved.with_name(moved.name + ".job.json"), json.dumps(status, indent=2))
        shutil.move(str(path), moved)
        marker.remove()
        return status["state"]


class _Marker:
    """`.<name>.lading-job.json` beside a file being imported: its job and content digest,
    so a restarted watcher resumes that job without reading the file again to hash it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.marker = path.with_name(f".{path.name}{MARKER_SUFFIX}")

    def read(self) -> str | None:
        """The digest recorded for the file as it is now, or None (no marker, or a changed file)."""
        try:
            data = json.loads(self.marker.read_text())
            stat = self.path.stat()
        except (OSError, ValueError):
            return None
        if (data.get("size"), data.get("mtimeNs")) != (stat.st_size, stat.st_mtime_ns):
            return None
        return data.get("sha256")

    def write(self, job_id, sha256: str) -> None:
        stat = self.path.stat()
        _write_atomically(self.marker, json.dumps({
            "jobId": str(job_id), "sha256": sha256, "size": stat.st_size, "mtimeNs": stat.st_mtime_ns}))

    def remove(self) -> None:
        self.marker.unlink(missing_ok=True)


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the target, then rename: a reader (or a restart) never sees half of it."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, path)
