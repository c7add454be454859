"""A configuration's s3:// sourceUrl is read from a real S3 protocol server (moto) when S3 is
configured: triggered, it imports the object as it is at that moment."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from lading.adapters.s3_blob_store import s3_client
from lading.adapters.s3_sources import s3_download
from lading.application.projections import JobFilter
from lading.application.sources import SourceRefused, Sources
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.samples import profiles_object
from lading.entrypoints.settings import load_settings
from tests.s3_server import CREDENTIALS, create_bucket, running_moto_server


@pytest.fixture
def client(moto_endpoint):
    return s3_client(moto_endpoint, CREDENTIALS["AWS_REGION"], CREDENTIALS["AWS_ACCESS_KEY_ID"],
                     CREDENTIALS["AWS_SECRET_ACCESS_KEY"])


@contextmanager
def feed_configuration(home: Path, endpoint: str, blobs: str, source_url: str):
    """A Lading on S3 blobs with a `profiles` object and a configuration `feed` reading
    `source_url`: (app, configuration id)."""
    app = bootstrap(load_settings({"LADING_HOME": str(home), "LADING_BLOBS": blobs,
                                   "LADING_S3_ENDPOINT_URL": endpoint, **CREDENTIALS}))
    try:
        app.objects.catalog.add("acme", "profiles", TableSchema.from_dict(profiles_object()["schema"]))
        config = app.library.save_configuration(
            "acme", "feed", "profiles", {"fieldMap": {"id": "id", "email": "email"}},
            source_url=source_url)
        yield app, config.id
    finally:
        app.close()


def test_an_s3_source_is_downloaded_for_the_import_and_removed_after(client, s3_bucket):
    client.put_object(Bucket=s3_bucket, Key="feeds/daily.csv", Body=b"id\n1\n")
    sources = Sources(None, s3=s3_download(client))
    with sources.fetched(f"s3://{s3_bucket}/feeds/daily.csv") as local:
        assert (local.name, local.read_bytes()) == ("daily.csv", b"id\n1\n")
    assert not local.exists()


def test_a_missing_object_is_refused_with_its_reason(client, s3_bucket):
    sources = Sources(None, s3=s3_download(client))
    with pytest.raises(SourceRefused, match="cannot be read"):
        with sources.fetched(f"s3://{s3_bucket}/nothing.csv"):
            pass


def test_triggering_a_configuration_imports_the_s3_object_as_it_is_now(tmp_path, moto_endpoint,
                                                                       s3_bucket, client):
    with feed_configuration(tmp_path, moto_endpoint, f"s3://{s3_bucket}/blobs",
                            f"s3://{s3_bucket}/feeds/today.csv") as (app, config_id):
        client.put_object(Bucket=s3_bucket, Key="feeds/today.csv",
                          Body=b"id,email\n1,a@example.com\n2,nope\n")
        job_id = app.library.trigger("acme", config_id)
        app.runner.process(job_id)
        status = app.jobs.status("acme", job_id)
        assert (status["state"], status["fileName"], status["validRows"], status["invalidRows"]) == (
            "completed", "today.csv", 1, 1)


def _requests(recording: Path) -> list[tuple[str, str, bool]]:
    """(method, path, a copy?) of every request the server received."""
    entries = [json.loads(line) for line in recording.read_text().splitlines()]
    return [(e["method"], urlparse(e["url"]).path,
             any(h.lower() == "x-amz-copy-source" for h in e["headers"])) for e in entries]


def test_a_triggered_s3_source_is_copied_inside_the_store_never_through_the_node(tmp_path):
    recording = tmp_path / "requests.jsonl"
    with running_moto_server(recording) as endpoint:
        create_bucket(endpoint, "lading")
        create_bucket(endpoint, "landing")
        client = s3_client(endpoint, CREDENTIALS["AWS_REGION"], CREDENTIALS["AWS_ACCESS_KEY_ID"],
                           CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
        body = b"id,email\n" + b"".join(f"{n},u{n}@example.com\n".encode() for n in range(1, 500))
        client.put_object(Bucket="landing", Key="feeds/today.csv", Body=body + b"500,nope\n")
        with feed_configuration(tmp_path / "home", endpoint, "s3://lading/blobs",
                                "s3://landing/feeds/today.csv") as (app, config_id):
            job_id = app.library.trigger("acme", config_id)
            triggered = _requests(recording)
            app.runner.process(job_id)
            status = app.jobs.status("acme", job_id)
        source = "/landing/feeds/today.csv"
        assert (status["state"], status["fileName"], status["validRows"], status["invalidRows"]) == (
            "completed", "today.csv", 499, 1)
        copies = [path for method, path, copy in triggered if method == "PUT" and copy]
        assert copies == [f"/lading/blobs/acme/jobs/{job_id}/source.object"]
        assert ("GET", source, False) not in _requests(recording), \
            "the source object's bytes were read by a node"
        assert not any(method == "GET" and path.startswith("/lading/") for method, path, _ in triggered), \
            "the triggering node read the job's copy"


def test_a_triggered_s3_source_that_is_missing_leaves_no_job(tmp_path, moto_endpoint, s3_bucket):
    with feed_configuration(tmp_path, moto_endpoint, f"s3://{s3_bucket}/blobs",
                            f"s3://{s3_bucket}/feeds/gone.csv") as (app, config_id):
        with pytest.raises(SourceRefused, match="cannot be read"):
            app.library.trigger("acme", config_id)
        app.jobs.projector.catch_up()
        assert app.jobs.list_jobs(JobFilter("acme")) == [], "a refused object leaves no job behind"
