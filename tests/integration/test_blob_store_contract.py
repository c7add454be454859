"""One contract for every BlobStore: the filesystem store and the S3 store against a real
S3 protocol server (moto_server on loopback). Each test runs on both."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import tracemalloc

import httpx
import pytest

from lading.adapters.filesystem_blob_store import BlobTooLarge, FilesystemBlobStore
from lading.adapters.s3_blob_store import S3BlobStore, S3Location, s3_client
from lading.application.ports import ObjectUnreadable
from tests.s3_server import CREDENTIALS

MIB = 1024 * 1024
S3_PART = 5 * MIB  # the smallest part S3 accepts, so multi-part paths run on small blobs


def _s3_store(endpoint: str, bucket: str, cache_dir) -> S3BlobStore:
    client = s3_client(endpoint, CREDENTIALS["AWS_REGION"], CREDENTIALS["AWS_ACCESS_KEY_ID"],
                       CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    return S3BlobStore(S3Location(bucket, "tenant/blobs"), client, cache_dir, part_size=S3_PART)


@pytest.fixture(params=["filesystem", "s3"])
def store(request, tmp_path):
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = request.getfixturevalue("s3_bucket")
        return _s3_store(endpoint, bucket, tmp_path / "cache")
    return FilesystemBlobStore(tmp_path / "blobs")


async def _blocks(count: int, size: int):
    for i in range(count):
        yield bytes([i % 251]) * size


def test_put_file_records_size_and_sha256_and_the_bytes_read_back(store, tmp_path):
    data = b"abc" * 100_000
    (tmp_path / "src.bin").write_bytes(data)
    info = store.put_file("ws/jobs/1/source", tmp_path / "src.bin")
    assert (info.key, info.size, info.sha256) == ("ws/jobs/1/source", len(data),
                                                 hashlib.sha256(data).hexdigest())
    assert store.local_path("ws/jobs/1/source").read_bytes() == data
    assert store.exists("ws/jobs/1/source") and store.size("ws/jobs/1/source") == len(data)


def test_a_missing_blob_does_not_exist_and_has_no_size(store):
    assert not store.exists("ws/jobs/1/nothing")
    assert store.size("ws/jobs/1/nothing") is None
    assert not store.local_path("ws/jobs/1/nothing").exists()


def test_a_writer_streams_a_blob_of_several_parts(store):
    blocks = [bytes([i]) * MIB for i in range(12)]  # 12 MiB: three S3 parts
    with store.writer("ws/export.csv") as out:
        for block in blocks:
            out.write(block)
    assert store.local_path("ws/export.csv").read_bytes() == b"".join(blocks)


def test_a_writer_that_fails_leaves_no_blob(store):
    with pytest.raises(RuntimeError):
        with store.writer("ws/half.csv") as out:
            out.write(b"x" * (6 * MIB))
            raise RuntimeError("the export broke")
    assert not store.exists("ws/half.csv")


def test_a_writer_holds_about_one_part_in_memory_whatever_the_blob_size(store):
    block = b"y" * MIB
    tracemalloc.start()
    try:
        with store.writer("ws/big.bin") as out:
            for _ in range(40):
                out.write(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert store.size("ws/big.bin") == 40 * MIB
    assert peak < 4 * S3_PART, f"peak {peak / MIB:.1f} MiB for a 40 MiB blob"


def test_a_streamed_write_records_size_and_sha256(store):
    info = asyncio.run(store.write_stream("ws/up", _blocks(7, MIB), max_size=7 * MIB))
    expected = b"".join(bytes([i % 251]) * MIB for i in range(7))
    assert (info.size, info.sha256) == (len(expected), hashlib.sha256(expected).hexdigest())
    assert store.local_path("ws/up").read_bytes() == expected


def test_a_streamed_write_over_its_limit_leaves_nothing(store):
    with pytest.raises(BlobTooLarge):
        asyncio.run(store.write_stream("ws/up", _blocks(8, MIB), max_size=6 * MIB))
    assert not store.exists("ws/up")


def test_delete_prefix_purges_a_jobs_blobs_and_spares_a_sibling_prefix(store):
    for key in ("ws/jobs/1/a", "ws/jobs/1/b/c", "ws/jobs/10/a"):
        with store.writer(key) as out:
            out.write(key.encode())
    store.local_path("ws/jobs/1/a")  # cached on S3: the cache copy goes too
    assert store.delete_prefix("ws/jobs/1") == 2
    assert not store.exists("ws/jobs/1/a") and not store.exists("ws/jobs/1/b/c")
    assert not store.local_path("ws/jobs/1/a").exists()
    assert store.exists("ws/jobs/10/a")
    assert store.delete_prefix("ws/jobs/10/a") == 1
    assert store.delete_prefix("ws/jobs/nothing") == 0


def test_delete_many_removes_exactly_the_named_blobs(store):
    for key in ("ws/jobs/3/a", "ws/jobs/3/b", "ws/jobs/3/c"):
        with store.writer(key, durable=False) as out:  # a work file reads back like any blob
            out.write(key.encode())
    assert store.local_path("ws/jobs/3/a").read_bytes() == b"ws/jobs/3/a"  # cached on S3
    store.delete_many(["ws/jobs/3/a", "ws/jobs/3/c", "ws/jobs/3/never-written"])
    assert not store.exists("ws/jobs/3/a") and not store.exists("ws/jobs/3/c")
    assert not store.local_path("ws/jobs/3/a").exists()
    assert store.local_path("ws/jobs/3/b").read_bytes() == b"ws/jobs/3/b"


def test_only_a_durable_write_is_synced_to_disk(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr("lading.adapters.filesystem_blob_store.os.fsync", synced.append)
    store = FilesystemBlobStore(tmp_path / "blobs")
    with store.writer("ws/jobs/4/error-file") as out:
        out.write(b"kept")
    with store.writer("ws/jobs/4/parts/v1/raw-000000.arrow", durable=False) as out:
        out.write(b"work")
    assert len(synced) == 1
    assert store.local_path("ws/jobs/4/parts/v1/raw-000000.arrow").read_bytes() == b"work"


def test_a_head_holds_the_first_bytes_and_says_whether_it_is_the_whole_blob(store):
    data = bytes(range(256)) * 4096  # 1 MiB
    with store.writer("ws/jobs/5/source") as out:
        out.write(data)
    path, whole = store.local_head("ws/jobs/5/source", 1000)
    if isinstance(store, S3BlobStore):  # only the first bytes fetched, not the blob
        assert not whole and path.read_bytes() == data[:1000]
    else:
        assert whole and path.read_bytes() == data
    path, whole = store.local_head("ws/jobs/5/source", 2 * MIB)
    assert whole and path.read_bytes() == data
    store.delete_prefix("ws/jobs/5")
    assert not store.local_head("ws/jobs/5/source", 1000)[0].exists()
    left = [p for p in path.parent.iterdir() if p.name.startswith("source")] \
        if path.parent.is_dir() else []
    assert not left, "a deleted blob's head leaves the cache with it"


def test_a_replaced_blob_reads_back_its_new_bytes(store):
    with store.writer("ws/jobs/2/source") as out:
        out.write(b"first version")
    assert store.local_path("ws/jobs/2/source").read_bytes() == b"first version"
    with store.writer("ws/jobs/2/source") as out:
        out.write(b"second, longer version")
    assert store.local_path("ws/jobs/2/source").read_bytes() == b"second, longer version"


@pytest.mark.parametrize("key", ["../outside", "ws/../../outside", "/etc/passwd"])
def test_keys_cannot_escape_the_store(store, key):
    with pytest.raises(ValueError):
        store.local_path(key)


def test_the_store_reports_itself_reachable(store):
    store.check()


def test_the_filesystem_store_has_no_presigned_urls(tmp_path):
    store = FilesystemBlobStore(tmp_path / "blobs")
    assert store.presign_put("ws/k", 60) is None
    assert store.presign_get("ws/k", 60, "k.csv", "text/csv") is None


def test_a_presigned_put_uploads_once_and_a_presigned_get_downloads(moto_endpoint, s3_bucket, tmp_path):
    store = _s3_store(moto_endpoint, s3_bucket, tmp_path / "cache")
    slot = store.presign_put("ws/jobs/3/source.direct", 600)
    assert slot.method == "PUT" and slot.headers["If-None-Match"] == "*"
    assert httpx.put(slot.url, content=b"id,email\n1,a@example.com\n", headers=slot.headers).status_code == 200
    assert store.size("ws/jobs/3/source.direct") == 25
    again = httpx.put(slot.url, content=b"something else", headers=slot.headers)
    assert again.status_code == 412, "a taken upload slot is never overwritten"
    link = store.presign_get("ws/jobs/3/source.direct", 600, "rows.csv", "text/csv")
    answer = httpx.get(link.url)
    assert answer.status_code == 200 and answer.content == b"id,email\n1,a@example.com\n"
    assert answer.headers["content-disposition"] == 'attachment; filename="rows.csv"'


def test_an_unreachable_bucket_fails_the_check(moto_endpoint, tmp_path):
    store = _s3_store(moto_endpoint, "lading-no-such-bucket", tmp_path / "cache")
    with pytest.raises(Exception):
        store.check()


def test_a_failed_s3_writer_leaves_no_multipart_upload_behind(moto_endpoint, s3_bucket, tmp_path):
    store = _s3_store(moto_endpoint, s3_bucket, tmp_path / "cache")
    with pytest.raises(RuntimeError):
        with store.writer("ws/half.csv") as out:
            out.write(b"x" * (11 * MIB))
            raise RuntimeError("the export broke")
    assert store.client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_presigned_urls_name_the_public_endpoint_when_one_is_given(moto_endpoint, s3_bucket, tmp_path):
    public = moto_endpoint.replace("127.0.0.1", "localhost")  # another name for the same server
    client = s3_client(moto_endpoint, CREDENTIALS["AWS_REGION"], CREDENTIALS["AWS_ACCESS_KEY_ID"],
                       CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    presigner = s3_client(public, CREDENTIALS["AWS_REGION"], CREDENTIALS["AWS_ACCESS_KEY_ID"],
                          CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    store = S3BlobStore(S3Location(s3_bucket, ""), client, tmp_path / "cache", presign_client=presigner)
    slot = store.presign_put("ws/k.direct", 600)
    assert slot.url.startswith(f"{public}/{s3_bucket}/ws/k.direct?")
    assert httpx.put(slot.url, content=b"abc", headers=slot.headers).status_code == 200
    assert store.size("ws/k.direct") == 3, "the node's own client sees what the public URL received"


def test_a_moved_file_becomes_the_blob_and_leaves_no_local_copy(store, tmp_path):
    source = tmp_path / "work" / "errors.jsonl"
    source.parent.mkdir()
    source.write_bytes(b"line\n" * 1000)
    info = store.move_file("ws/jobs/1/errors.v1.jsonl", source)
    assert (info.size, info.sha256) == (5000, hashlib.sha256(b"line\n" * 1000).hexdigest())
    assert not source.exists()
    assert store.local_path("ws/jobs/1/errors.v1.jsonl").read_bytes() == b"line\n" * 1000


def test_a_write_left_unfinished_is_removed_once_stale_and_only_under_its_prefix(store):
    from datetime import UTC, datetime, timedelta

    writer = store.writer("ws/jobs/1/source.abc")  # a process killed mid-write never exits it
    writer.__enter__().write(b"x" * (S3_PART + 1))  # past a part: S3 holds a multipart upload
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert store.delete_stale_temporaries("other", later) == 0
    assert store.delete_stale_temporaries("ws", later) == 1
    assert store.delete_stale_temporaries("ws", later) == 0
    assert not store.exists("ws/jobs/1/source.abc")
    with contextlib.suppress(Exception):  # the writer's own clean-up finds nothing left
        writer.__exit__(RuntimeError, RuntimeError("killed"), None)


def test_a_write_in_progress_is_not_stale(tmp_path):
    # moto reports a fixed `Initiated` for every multipart upload, so this runs on files only.
    from datetime import UTC, datetime, timedelta

    store = FilesystemBlobStore(tmp_path / "blobs")
    with store.writer("ws/jobs/1/source.abc") as out:
        out.write(b"x")
        assert store.delete_stale_temporaries("ws", datetime.now(UTC) - timedelta(hours=1)) == 0
    assert store.local_path("ws/jobs/1/source.abc").read_bytes() == b"x"


def test_an_object_url_is_copied_in_by_s3_and_refused_by_a_directory(moto_endpoint, s3_bucket, tmp_path):
    store = _s3_store(moto_endpoint, s3_bucket, tmp_path / "cache")
    store.client.put_object(Bucket=s3_bucket, Key="landing/today.csv", Body=b"id\n1\n2\n")
    assert store.copy_in(f"s3://{s3_bucket}/landing/today.csv", "ws/jobs/4/source.object", 100) == 7
    assert store.local_path("ws/jobs/4/source.object").read_bytes() == b"id\n1\n2\n"
    with pytest.raises(ObjectUnreadable):
        store.copy_in(f"s3://{s3_bucket}/landing/none.csv", "ws/jobs/5/source.object", 100)
    with pytest.raises(BlobTooLarge):
        store.copy_in(f"s3://{s3_bucket}/landing/today.csv", "ws/jobs/6/source.object", 6)
    assert not store.exists("ws/jobs/6/source.object")
    assert FilesystemBlobStore(tmp_path / "blobs").copy_in("s3://b/k", "ws/jobs/7/source", 100) is None
