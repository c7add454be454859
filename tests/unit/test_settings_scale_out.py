"""Scale-out settings (SPEC §7): object storage, Redis, log level, worker concurrency, uploads."""

from __future__ import annotations

import pytest

from lading.entrypoints.settings import ConfigError, load_settings


def test_an_s3_url_selects_object_storage_with_its_endpoint_and_credentials(tmp_path):
    settings = load_settings({"LADING_HOME": str(tmp_path), "LADING_BLOBS": "s3://bucket/some/prefix",
                              "LADING_S3_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-1",
                              "LADING_S3_PUBLIC_ENDPOINT_URL": "https://files.example.test",
                              "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"})
    assert settings.s3 is not None and settings.blobs is None
    assert (settings.s3.url, settings.s3.endpoint_url, settings.s3.region) == (
        "s3://bucket/some/prefix", "http://127.0.0.1:9000", "eu-west-1")
    assert (settings.s3.access_key_id, settings.s3.secret_access_key) == ("id", "secret")
    assert settings.s3.public_endpoint_url == "https://files.example.test"
    assert "secret" not in repr(settings.s3)


def test_a_directory_keeps_blobs_on_local_disk(tmp_path):
    settings = load_settings({"LADING_HOME": str(tmp_path), "LADING_BLOBS": str(tmp_path / "b")})
    assert settings.s3 is None and settings.blob_root == tmp_path / "b"


@pytest.mark.parametrize("value", ["gs://bucket", "s3://", "s3:///prefix", "http://x/y"])
def test_other_blob_urls_are_refused_with_the_key_named(tmp_path, value):
    with pytest.raises(ConfigError, match="LADING_BLOBS"):
        load_settings({"LADING_HOME": str(tmp_path), "LADING_BLOBS": value})


def test_redis_log_level_and_concurrency_are_read_and_checked(tmp_path):
    settings = load_settings({"LADING_HOME": str(tmp_path), "LADING_REDIS_URL": "redis://127.0.0.1:6379/3",
                              "LADING_LOG_LEVEL": "debug", "LADING_WORKER_CONCURRENCY": "4"})
    assert (settings.redis_url, settings.log_level, settings.worker_concurrency) == (
        "redis://127.0.0.1:6379/3", "DEBUG", 4)
    with pytest.raises(ConfigError, match="LADING_REDIS_URL"):
        load_settings({"LADING_HOME": str(tmp_path), "LADING_REDIS_URL": "127.0.0.1:6379"})
    with pytest.raises(ConfigError, match="LADING_LOG_LEVEL"):
        load_settings({"LADING_HOME": str(tmp_path), "LADING_LOG_LEVEL": "loud"})
    with pytest.raises(ConfigError, match="number"):
        load_settings({"LADING_HOME": str(tmp_path), "LADING_WORKER_CONCURRENCY": "many"})


def test_concurrent_uploads_per_key_default_to_four_and_must_be_at_least_one(tmp_path):
    assert load_settings({"LADING_HOME": str(tmp_path)}).max_concurrent_uploads_per_key == 4
    settings = load_settings({"LADING_HOME": str(tmp_path), "LADING_MAX_CONCURRENT_UPLOADS_PER_KEY": "9"})
    assert settings.max_concurrent_uploads_per_key == 9
    with pytest.raises(ConfigError, match="LADING_MAX_CONCURRENT_UPLOADS_PER_KEY"):
        load_settings({"LADING_HOME": str(tmp_path), "LADING_MAX_CONCURRENT_UPLOADS_PER_KEY": "0"})
