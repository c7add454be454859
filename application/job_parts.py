"""A job's shared files: a split job's raw chunks as read and each chunk's validation outputs
(ADR 0055); a one-worker job's staged rows and row indexes with a shared blob store (ADR 0122).

They live in the blob store under the job's prefix, so any worker on any machine can take any
chunk (with LADING_BLOBS=s3://… they are objects in the bucket) and a purge removes them with
the job. Each part is stored whole (a reader never sees half of one), and a chunk's result is
stored after every file it names.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lading.application.ports import BlobStore


@dataclass(frozen=True)
class JobParts:
    blobs: BlobStore
    prefix: str  # <workspace>/jobs/<jobId>/parts/v<plan version>
    scratch_dir: Path  # this process's local work files (one directory per process)

    CONTEXT = "context.json"  # the header and how many chunks make the sample
    READ_DONE = "read.json"  # written once the whole source is read: {"chunks": n}

    @staticmethod
    def raw(index: int) -> str:
        return f"raw-{index:06d}.arrow"

    # A chunk's result, staged rows and error lines as its own validation made them, and (with
    # `settled`) as settling corrected them: the staged rows settling drops, not a copy. The
    # first are never replaced, so settling again after a crash starts from the same inputs.
    @staticmethod
    def result(index: int, settled: bool = False) -> str:
        return f"{'settled-' if settled else ''}result-{index:06d}.json"

    @staticmethod
    def staged(index: int, settled: bool = False) -> str:
        return f"{'settled-' if settled else ''}staged-{index:06d}.arrow"

    @staticmethod
    def rows(index: int, settled: bool = False) -> str:
        """The chunk's row index (what the results file is rendered from), numbered as the
        error file numbers its rows."""
        return f"{'settled-' if settled else ''}rows-{index:06d}.arrow"

    @staticmethod
    def dropped(index: int) -> str:
        return f"settled-dropped-{index:06d}.arrow"

    @staticmethod
    def errors(index: int, settled: bool = False) -> str:
        return f"{'settled-' if settled else ''}errors-{index:06d}.jsonl"

    @staticmethod
    def decided(index: int) -> str:
        """Settling's decision on a chunk: {"corrections": rows to judge again, 0 for none}."""
        return f"decided-{index:06d}.json"

    @staticmethod
    def keys(index: int, kind: str) -> str:
        """Keys a chunk's validation judged (`kind` "candidates": their row numbers and key
        columns) or accepted ("accepted-keys"), and one unique field's values it asked about
        or accepted ("asked-unique-<field>", "accepted-unique-<field>")."""
        return f"{kind}-{index:06d}.arrow"

    def scratch(self, name: str) -> Path:
        """A local path for this process's work files (spills, the reader's temporaries)."""
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        return self.scratch_dir / name

    def put(self, name: str, data: bytes) -> None:
        """Store a part whole (a chunk's worth of bytes at most). Parts are work files, like a
        one-worker run's staged chunks: not synced to disk one by one (ADR 0127)."""
        with self.blobs.writer(f"{self.prefix}/{name}", durable=False) as out:
            out.write(data)

    def path(self, name: str) -> Path:
        """A local file with the part's bytes, as stored."""
        return self.blobs.local_path(f"{self.prefix}/{name}")

    def put_file(self, name: str, source: Path) -> None:
        """Store a local file as a part (read from disk, never whole in memory)."""
        self.blobs.put_file(f"{self.prefix}/{name}", source)

    def drop(self, names: list[str]) -> None:
        """Remove these parts (those not stored are skipped)."""
        self.blobs.delete_many([f"{self.prefix}/{name}" for name in names])

    def has(self, name: str) -> bool:
        return self.blobs.exists(f"{self.prefix}/{name}")

    def settled_inputs(self, index: int) -> tuple[Path, Path | None]:
        """Local copies of chunk `index`'s row index and valid rows as settled (None: no valid
        rows stored): a settled correction where settling made one, else the chunk's own."""
        settled = self.has(JobParts.result(index, settled=True))
        staged = JobParts.staged(index, settled)
        return self.path(JobParts.rows(index, settled)), \
            self.path(staged) if self.has(staged) else None

    def put_json(self, name: str, document: dict[str, Any]) -> None:
        self.put(name, json.dumps(document).encode("utf-8"))

    def get_json(self, name: str) -> dict[str, Any] | None:
        if not self.has(name):
            return None
        document: dict[str, Any] = json.loads(self.path(name).read_text(encoding="utf-8"))
        return document


def link_or_copy(part: Path, target: Path) -> None:
    """A part's local file at `target` too: a hard link where the file system allows one (a
    part's file is replaced whole, never changed in place, so the link keeps its bytes), else
    a copy."""
    target.unlink(missing_ok=True)
    try:
        os.link(part, target)
    except OSError:
        shutil.copyfile(part, target)
