"""The data profile of a job (SPEC §4 `autoProfileAfterImport`): per mapped column, for the
source rows and for the merged rows, filled, empty, distinct, min, max and the 5 most frequent
values. Computed chunk by chunk (bounded memory) and kept as a blob per plan version, so the
report shows it without reading the data again.

    profiles.profile("acme", job_id)   # {"source": {column: {...}}, "merged": {field: {...}}}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

from lading.application.import_jobs import ImportJobs
from lading.application.ports import BlobStore, RowBatch, ValidationEngine
from lading.domain.data_profile import DataProfile
from lading.domain.errors import TransitionNotAllowed
from lading.domain.lifecycle import JobState

# (profile, table) -> None: add a staged chunk of merged rows
AddTable = Callable[[DataProfile, RowBatch], None]
# (profile, source path, file name, {field: source column}) -> None
AddSource = Callable[[DataProfile, Path, str, Mapping[str, str]], None]


class JobProfiles:
    def __init__(self, jobs: ImportJobs, engine: ValidationEngine, blobs: BlobStore,
                 add_table: AddTable, add_source: AddSource) -> None:
        self.jobs = jobs
        self.engine = engine
        self.blobs = blobs
        self.add_table = add_table
        self.add_source = add_source

    def profile(self, workspace: str, job_id: UUID) -> dict[str, Any]:
        """The completed job's profile, computed once per plan version and then read back."""
        job = self.jobs.load(job_id, workspace)
        if job.state != JobState.COMPLETED or job.plan is None:
            raise TransitionNotAllowed(str(job.state), "profile", "only a completed job has a profile")
        key = f"{self.jobs.files(job).prefix}/profile.v{job.plan_version}.json"
        if self.blobs.exists(key):
            profile: dict[str, Any] = json.loads(self.blobs.local_path(key).read_text("utf-8"))
            return profile
        fields = [f for f in self.jobs.schema_of(workspace, job.object_name).field_names
                  if f in set(job.plan["fieldMap"].values())]
        merged = DataProfile(fields)
        for path in self.jobs.staged_chunks(workspace, job_id):
            self.add_table(merged, self.engine.load_chunk(str(path)))
        source = DataProfile(fields)
        if job.file is not None:
            self.add_source(source, self.blobs.local_path(job.file["blobKey"]),
                            job.file_name or "source", _source_columns(job.plan, job.header_healing))
        document = {"source": source.to_dict(), "merged": merged.to_dict()}
        with self.blobs.writer(key) as out:
            out.write(json.dumps(document, ensure_ascii=False).encode("utf-8"))
        return document


def _source_columns(plan: Mapping[str, Any], header_healing: Mapping[str, str]) -> dict[str, str]:
    """Field -> the header column validation read it from (a healed rename, else the mapped name)."""
    by_field = {field: column for column, field in plan["fieldMap"].items()}
    by_field.update({field: column for column, field in header_healing.items()})
    return by_field
