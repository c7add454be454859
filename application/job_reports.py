"""A job's detailed report (SPEC §4 `includeDetailedReport`, `GET …/report`, `lading jobs show
--report`): merge totals, skipped rows by source column and reason, healing, warnings and, for a
job created with autoProfileAfterImport, its data profile. Read from what the job keeps (its
status, the rejection summary made when validation ended, the profile blob), never from the
error file on each request.

    reports.report("acme", job_id)   # {"totals", "columns", "rowProblems", "healing", ...}
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from lading.application.import_jobs import ImportJobs
from lading.application.job_profiles import JobProfiles
from lading.application.ports import BlobStore
from lading.application.skipped_rows import RejectionSummary, summarise_rejections
from lading.application.status_view import detailed_report
from lading.application.value_samples import ValueSamples
from lading.domain.import_job import ImportJob
from lading.domain.lifecycle import JobState


class JobReports:
    def __init__(self, jobs: ImportJobs, blobs: BlobStore, profiles: JobProfiles) -> None:
        self.jobs = jobs
        self.blobs = blobs
        self.profiles = profiles

    def report(self, workspace: str, job_id: UUID) -> dict[str, Any]:
        doc = self.jobs.status(workspace, job_id)
        job = self.jobs.load(job_id, workspace)
        profile = None
        if job.auto_profile and job.state == JobState.COMPLETED and not job.purged:
            profile = self.profiles.profile(workspace, job_id)
        return detailed_report(doc, self._rejections(job), profile, self._value_samples(job))

    def _value_samples(self, job: ImportJob) -> ValueSamples:
        key = self.jobs.files(job).value_samples
        if not self.blobs.exists(key):  # validated before samples were kept, or not yet
            return ValueSamples()
        return ValueSamples.from_json(self.blobs.local_path(key).read_text("utf-8"))

    def rejections(self, workspace: str, job_id: UUID) -> RejectionSummary:
        """The rejected rows by (source column, primary code), with samples."""
        return self._rejections(self.jobs.load(job_id, workspace))

    def _rejections(self, job: ImportJob) -> RejectionSummary:
        key = self.jobs.files(job).rejection_summary
        if self.blobs.exists(key):
            return RejectionSummary.from_json(self.blobs.local_path(key).read_text("utf-8"))
        error_file = self.jobs.error_file(job.workspace, job.id)
        summary = summarise_rejections(error_file)
        if error_file is not None:  # a job validated before summaries were kept: once, then kept
            store_rejection_summary(self.blobs, key, summary)
        return summary


def store_rejection_summary(blobs: BlobStore, key: str, summary: RejectionSummary) -> None:
    with blobs.writer(key) as out:
        out.write(summary.to_json().encode("utf-8"))
