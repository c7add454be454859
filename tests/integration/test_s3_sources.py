"""A configuration's s3:// sourceUrl is read from a real S3 protocol server (moto) when S3 is
configured: triggered, it imports the object as it is at that moment."""

from __future__ import annotations

import pytest

from lading.adapters.s3_blob_store import s3_client
from lading.adapters.s3_sources import s3_download
from lading.application.sources import SourceRefused, Sources
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.samples import profiles_object
from lading.entrypoints.settings import load_settings
from tests.s3_server import CREDENTIALS


@pytest.fixture
def client(moto_endpoint):
    return s3_client(moto_endpoint, CREDENTIALS["AWS_REGION"], CREDENTIALS["AWS_ACCESS_KEY_ID"],
                     CREDENTIALS["AWS_SECRET_ACCESS_KEY"])


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
    settings = load_settings({"LADING_HOME": str(tmp_path), "LADING_BLOBS": f"s3://{s3_bucket}/blobs",
                              "LADING_S3_ENDPOINT_URL": moto_endpoint, **CREDENTIALS})
    app = bootstrap(settings)
    try:
        app.objects.catalog.add("acme", "profiles", TableSchema.from_dict(profiles_object()["schema"]))
        config = app.library.save_configuration(
            "acme", "feed", "profiles", {"fieldMap": {"id": "id", "email": "email"}},
            source_url=f"s3://{s3_bucket}/feeds/today.csv")
        client.put_object(Bucket=s3_bucket, Key="feeds/today.csv",
                          Body=b"id,email\n1,a@example.com\n2,nope\n")
        job_id = app.library.trigger("acme", config.id)
        app.runner.process(job_id)
        status = app.jobs.status("acme", job_id)
        assert (status["state"], status["fileName"], status["validRows"], status["invalidRows"]) == (
            "completed", "today.csv", 1, 1)
    finally:
        app.close()
