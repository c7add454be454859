"""Where each of a job's files lives: named once, for every module that reads or writes them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4


@dataclass(frozen=True)
class JobFiles:
    """A job's blob keys (source, error file, exports) and local work files (staged chunks).

    Blob keys live under the job's prefix, so deleting or purging a job removes them all at
    once; work files belong to one plan version, so a re-validation never reads stale chunks.
    """

    workspace: str
    job_id: UUID
    plan_version: int
    work_root: Path

    @property
    def prefix(self) -> str:
        return f"{self.workspace}/jobs/{self.job_id}"

    @property
    def source(self) -> str:
        """The upload slot: the source's key before a unique suffix (see `new_upload`)."""
        return f"{self.prefix}/source"

    def new_upload(self) -> str:
        # Each upload gets its own key, so a replaced file never overwrites bytes a job holds.
        return f"{self.source}.{uuid4().hex}"

    @property
    def error_file(self) -> str:
        return f"{self.prefix}/errors.v{self.plan_version}.jsonl"

    def diff_samples(self, chunk: int) -> str:
        """A dry run's sample rows from one chunk (JSON), kept while the diff is shown."""
        return f"{self.prefix}/diff.v{self.plan_version}/chunk-{chunk:06d}.json"

    @property
    def rejection_summary(self) -> str:
        """The rejected rows by source column and code, with samples (application/skipped_rows)."""
        return f"{self.prefix}/rejections.v{self.plan_version}.json"

    @property
    def value_samples(self) -> str:
        """The first rows of each healing and warning (application/value_samples)."""
        return f"{self.prefix}/value-samples.v{self.plan_version}.json"

    @property
    def valid_rows_export(self) -> str:
        return f"{self.prefix}/exports/valid-rows.v{self.plan_version}.csv"

    def results_part(self, chunk: int) -> str:
        """One chunk's lines of the per-row results file, written with the chunk's merge."""
        return f"{self.prefix}/results/v{self.plan_version}/part-{chunk:06d}.jsonl"

    def results_file(self, file_format: str) -> str:
        """The whole per-row results file (`jsonl` or `csv`), assembled from the parts once."""
        return f"{self.prefix}/exports/results.v{self.plan_version}.{file_format}"

    @property
    def annotated_export(self) -> str:
        return f"{self.prefix}/exports/annotated.v{self.plan_version}.csv"

    @property
    def error_csv_export(self) -> str:
        return f"{self.prefix}/exports/errors.v{self.plan_version}.csv"

    @property
    def parts(self) -> str:
        """The prefix of the chunk files workers share through the blob store (JobParts)."""
        return f"{self.prefix}/parts/v{self.plan_version}"

    @property
    def job_work_dir(self) -> Path:
        """Every plan version's work files of this job."""
        return self.work_root / str(self.job_id)

    @property
    def work_dir(self) -> Path:
        return self.job_work_dir / f"v{self.plan_version}"

    @property
    def error_work_file(self) -> Path:
        """The error file as validation writes it, before it is stored as a blob."""
        return self.work_dir / "errors.jsonl"

    def staged_chunk(self, chunk: int) -> Path:
        return self.work_dir / f"chunk-{chunk:06d}.arrow"

    def row_index(self, chunk: int) -> Path:
        """Every row the chunk read, with the rejected ones' codes and keys (for the results)."""
        return self.work_dir / f"chunk-{chunk:06d}.rows.arrow"
