"""A one-worker job's staged chunks are copied into a shared blob store (S3, a moto server) as
it is validated, under the parts home split jobs use (ADR 0122); a node without the local work
files (an API node, another worker) then builds the same valid-rows export from the copies.
With the filesystem store nothing is copied."""

from __future__ import annotations

import io
import shutil

import pytest

from lading.application.job_parts import JobParts
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import load_settings
from tests.builders import PROFILES_SCHEMA, generate_profiles
from tests.s3_server import CREDENTIALS


def _imported(app, data):
    app.objects.catalog.add("default", "profiles", TableSchema.from_dict(PROFILES_SCHEMA))
    job_id, _ = app.jobs.create_job("default", "profiles", data.name, data.stat().st_size)
    app.jobs.attach_file("default", job_id, data)
    app.jobs.map("default", job_id, {})
    app.jobs.start("default", job_id)
    assert app.runner.process(job_id) == "completed"
    return job_id, app.jobs.load(job_id)


def _export(app, job_id) -> bytes:
    out = io.BytesIO()
    app.exports.export_valid_rows("default", job_id, out)
    return out.getvalue()


@pytest.mark.parametrize("shared", [True, False], ids=["s3", "filesystem"])
def test_staged_chunks_are_kept_in_a_shared_store_and_read_from_it_when_not_here(
        tmp_path, moto_endpoint, s3_bucket, shared):
    data = tmp_path / "profiles.csv"
    generate_profiles(20_000, data, invalid_rate=0.01)
    env = {"LADING_HOME": str(tmp_path / "home"), "LADING_CHUNK_BYTES": "262144"}
    if shared:
        env.update({"LADING_BLOBS": f"s3://{s3_bucket}/blobs", "LADING_S3_ENDPOINT_URL": moto_endpoint,
                    **CREDENTIALS})
    app = bootstrap(load_settings(env))
    try:
        job_id, job = _imported(app, data)
        files = app.jobs.files(job)
        parts = JobParts(app.jobs.blobs, files.parts, tmp_path / "scratch")
        assert len(job.chunks_with_rows) > 3
        stored = [(parts.has(JobParts.staged(c)), parts.has(JobParts.rows(c)))
                  for c in range(job.total_chunks)]
        assert stored == [(shared and c in job.chunks_with_rows, shared)
                          for c in range(job.total_chunks)]
        here = _export(app, job_id)
        assert here.count(b"\n") > job.valid_rows  # a header and every valid row
        shutil.rmtree(files.job_work_dir)  # as on a node that did not validate the job
        elsewhere = _export(app, job_id)
        if shared:
            assert elsewhere == here
        else:
            assert elsewhere.count(b"\n") <= 1, "a filesystem store keeps no copies"
    finally:
        app.close()
