"""The file watcher (`lading watch DIR --config ID`): a driving adapter that imports each file
dropped into a directory with a saved import configuration.

A file is taken once it has stopped growing; after its job ends it moves to `processed/`
(completed or needs_attention) or `failed/`, with `<name>.job.json` beside it holding the job's
final status, so the directory itself shows what happened.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import watchfiles

from lading.application.status_view import public_status
from lading.domain.errors import DomainError

SETTLE_SECONDS = 1.0


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

    def _settled(self, path: Path) -> bool:
        before = path.stat()
        if time.time() - before.st_mtime >= self.settle_seconds:
            return True
        time.sleep(self.settle_seconds)
        after = path.stat()
        return (before.st_size, before.st_mtime) == (after.st_size, after.st_mtime)

    def import_file(self, path: Path) -> str:
        jobs = self.lading.jobs
        try:
            config = self.lading.library.configuration(self.workspace, self.configuration_id)
            job_id, _ = jobs.submit_path(self.workspace, config.object_name, path, dict(config.mapping),
                                         source=config.source or "watcher", labels=config.labels)
            self.lading.runner.process(job_id)
            status = public_status(jobs.status(self.workspace, job_id))
            settled = jobs.file_accepted(self.workspace, job_id)
        except DomainError as exc:
            status = {"state": "failed", "errorMessage": str(exc)}
            settled = False
        target = self.processed if settled else self.failed
        moved = target / path.name
        if moved.exists():
            moved = target / f"{path.stem}.{int(time.time() * 1000)}{path.suffix}"
        shutil.move(str(path), moved)
        moved.with_name(moved.name + ".job.json").write_text(json.dumps(status, indent=2))
        return status["state"]
