"""Cohorts: import jobs created before their data, made through an import configuration.

A cohort's status is its client's to declare while it holds no data (each change a
StatusDeclared event); once rows or a file are attached it is mapped by the configuration,
started, and from then on Lading's state decides (SDR agent, SPEC §9.3). Every cohort carries
the label `configuration:{id}`, so `/v1` and the CLI can find a configuration's jobs too.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from lading.application.errors import JobNotFound, PayloadTooLarge
from lading.application.import_jobs import ImportJobs
from lading.application.projections import JobFilter
from lading.application.saved_mappings import ImportConfiguration, MappingLibrary
from lading.domain.errors import TransitionNotAllowed
from lading.domain.plan import ImportPlan

CONFIGURATION_LABEL = "configuration:"


def configuration_label(configuration_id: str) -> str:
    """The label every job made through this configuration carries."""
    return f"{CONFIGURATION_LABEL}{configuration_id}"


class Cohorts:
    def __init__(self, jobs: ImportJobs, library: MappingLibrary) -> None:
        self.jobs = jobs
        self.library = library

    def create(self, workspace: str, configuration_id: str, *, source: str,
               file_name: str | None = None, labels: list[str] | None = None,
               status: str | None = None, expected_rows: int | None = None) -> dict[str, Any]:
        """A job with no data yet; its declared status and expected rows recorded at once."""
        config = self.library.configuration(workspace, configuration_id)
        job_id, _ = self.jobs.create_job(workspace, config.object_name, file_name, None,
                                         source=source,
                                         labels=[configuration_label(config.id), *(labels or [])])
        if status is not None or expected_rows is not None:
            self.jobs.declare_status(workspace, job_id, status, expected_rows)
        return self.jobs.status(workspace, job_id)

    def get(self, workspace: str, configuration_id: str, job_id: UUID) -> dict[str, Any]:
        doc = self.jobs.status(workspace, job_id)
        if configuration_label(configuration_id) not in (doc.get("labels") or []):
            raise JobNotFound(job_id)  # another configuration's job is not one of these cohorts
        return doc

    def find(self, workspace: str, configuration_id: str,
             label: str | None = None) -> list[dict[str, Any]]:
        """The configuration's cohorts, newest first; with `label`, only those carrying it too."""
        self.library.configuration(workspace, configuration_id)
        docs = self.jobs.list_jobs(JobFilter(workspace=workspace, label=configuration_label(configuration_id),
                                             limit=10_000))
        return [d for d in docs if label is None or label in (d.get("labels") or [])]

    def update(self, workspace: str, configuration_id: str, job_id: UUID, *,
               source: str | None = None, file_name: str | None = None,
               labels: list[str] | None = None, status: str | None = None,
               expected_rows: int | None = None, word_of: Callable[[dict[str, Any]], str] = str,
               cancel_word: str = "failed") -> dict[str, Any]:
        """Change only what is given. Before data, status and expected rows are the client's;
        after, `status` may only repeat the job's word (`word_of(status)`, the calling API's
        word for Lading's state) or be `cancel_word`, which cancels the job."""
        doc = self.get(workspace, configuration_id, job_id)
        if has_data(doc):  # refused before anything changes
            if status is not None and status not in (word_of(doc), cancel_word):
                raise TransitionNotAllowed(doc["state"], "declare_status",
                                           f"it holds data, so its status is '{word_of(doc)}'")
            if expected_rows is not None and expected_rows != doc["readRows"]:
                raise TransitionNotAllowed(doc["state"], "declare_status",
                                           "it holds data, so its row count is the rows read")
        if labels is not None:
            labels = [configuration_label(configuration_id), *labels]
        if source is not None or file_name is not None or labels is not None:
            self.jobs.edit_metadata(workspace, job_id, source=source, labels=labels, file_name=file_name)
        if not has_data(doc):
            if status is not None or expected_rows is not None:
                self.jobs.declare_status(workspace, job_id, status, expected_rows)
        elif status == cancel_word and status != word_of(doc):
            self.jobs.cancel(workspace, job_id)
        return self.jobs.status(workspace, job_id)

    def delete(self, workspace: str, configuration_id: str, job_id: UUID) -> None:
        self.get(workspace, configuration_id, job_id)
        self.jobs.delete(workspace, job_id)

    def attach_rows(self, workspace: str, configuration_id: str, job_id: UUID,
                    rows: list[dict[str, Any]]) -> dict[str, Any]:
        """The cohort's data as rows: mapped by the configuration and started."""
        if len(rows) > self.jobs.limits.max_inline_rows:
            raise PayloadTooLarge(f"inline rows are limited to {self.jobs.limits.max_inline_rows} a job")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "contacts.ndjson"
            with open(path, "w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            return self._attach(workspace, configuration_id, job_id, path, "contacts.ndjson")

    def attach_file(self, workspace: str, configuration_id: str, job_id: UUID, file: IO[bytes],
                    file_name: str) -> dict[str, Any]:
        """The cohort's data as a file (CSV, NDJSON, Parquet): mapped and started."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "upload"
            with open(path, "wb") as out:
                shutil.copyfileobj(file, out, 1 << 20)
            return self._attach(workspace, configuration_id, job_id, path, file_name)

    def _attach(self, workspace: str, configuration_id: str, job_id: UUID, path: Path,
                file_name: str) -> dict[str, Any]:
        doc = self.get(workspace, configuration_id, job_id)
        if has_data(doc):
            raise TransitionNotAllowed(doc["state"], "receive_file", "this cohort already has data")
        config = self.library.configuration(workspace, configuration_id)
        mapping = _checked(self.jobs, workspace, config)
        self.jobs.attach_file(workspace, job_id, path, file_name)
        self.jobs.map(workspace, job_id, mapping)
        self.jobs.start(workspace, job_id)
        return self.jobs.status(workspace, job_id)


def has_data(doc: dict[str, Any]) -> bool:
    """Whether rows or a file were attached (from then on Lading's state is the status)."""
    return doc.get("fileSha256") is not None or bool(doc.get("inlineRows"))


def campaign_of(doc: dict[str, Any], prefix: str) -> str | None:
    """The value of the job's first label with this prefix, or None."""
    for label in doc.get("labels") or []:
        if label.startswith(prefix):
            return str(label[len(prefix):])
    return None


def _checked(jobs: ImportJobs, workspace: str, config: ImportConfiguration) -> dict[str, Any]:
    """The configuration's mapping, checked before any data is stored."""
    ImportPlan.from_dict(config.mapping, jobs.schema_of(workspace, config.object_name))
    return dict(config.mapping)
