"""The filesystem blob store and the two work-claim mechanisms, against their real backends."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
import textwrap
import time
from uuid import uuid4

import pytest
from lading.adapters.file_lock_work_queue import FileLockWorkQueue
from lading.adapters.filesystem_blob_store import FilesystemBlobStore
from lading.adapters.postgres_lock_work_queue import PostgresLockWorkQueue
from lading.application.ports import BlobTooLarge


def test_put_file_records_size_and_sha256(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"abc" * 1000)
    store = FilesystemBlobStore(tmp_path / "blobs")
    info = store.put_file("ws/jobs/1/source", src)
    assert (info.size, info.sha256) == (3000, hashlib.sha256(b"abc" * 1000).hexdigest())
    assert store.local_path("ws/jobs/1/source").read_bytes() == b"abc" * 1000


def test_a_streamed_write_over_its_limit_leaves_nothing(tmp_path):
    store = FilesystemBlobStore(tmp_path / "blobs")

    async def chunks():
        for _ in range(10):
            yield b"x" * 100

    with pytest.raises(BlobTooLarge):
        asyncio.run(store.write_stream("k", chunks(), max_size=500))
    assert not store.exists("k")
    assert list((tmp_path / "blobs").iterdir()) == []
    info = asyncio.run(store.write_stream("k", chunks(), max_size=1000))
    assert info.size == 1000 and store.exists("k")


def test_keys_cannot_escape_the_store(tmp_path):
    store = FilesystemBlobStore(tmp_path / "blobs")
    with pytest.raises(ValueError):
        store.local_path("../outside")


def test_delete_prefix_purges_a_jobs_blobs(tmp_path):
    store = FilesystemBlobStore(tmp_path / "blobs")
    with store.writer("ws/jobs/1/a") as fh:
        fh.write(b"1")
    with store.writer("ws/jobs/1/b") as fh:
        fh.write(b"2")
    assert store.delete_prefix("ws/jobs/1") == 2
    assert not store.exists("ws/jobs/1/a")


_HOLDER = textwrap.dedent("""
    import sys, time
    from uuid import UUID
    from lading.adapters.{module} import {cls}
    queue = {cls}(sys.argv[1], lambda: [])
    with queue.claim(UUID(sys.argv[2])) as got:
        print("claimed" if got else "refused", flush=True)
        time.sleep(60)
""")


@pytest.fixture(params=["file", pytest.param("postgres", marks=pytest.mark.postgres)])
def queue_spec(request, tmp_path):
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        return "postgres_lock_work_queue", "PostgresLockWorkQueue", url, PostgresLockWorkQueue(url, lambda: [])
    d = str(tmp_path / "locks")
    return "file_lock_work_queue", "FileLockWorkQueue", d, FileLockWorkQueue(d, lambda: [])


def test_a_claim_held_by_a_live_process_is_refused_and_freed_by_kill_9(queue_spec):
    module, cls, target, queue = queue_spec
    job_id = uuid4()
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER.format(module=module, cls=cls), target, str(job_id)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "claimed"
        with queue.claim(job_id) as got:
            assert not got
        with queue.claim(uuid4()) as other:
            assert other, "other jobs stay claimable"
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 10
    while True:
        with queue.claim(job_id) as got:
            if got:
                break
        assert time.monotonic() < deadline, "the dead holder's claim was never released"
        time.sleep(0.05)
