"""A full disk (issue 9.5), on a real 1 MiB tmpfs: uploads answer 507 STORAGE_FULL, status reads
keep working, and a job whose scratch space runs out fails with errorCode STORAGE_FULL."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from litestar.testing import TestClient

from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.http import create_app
from lading.entrypoints.settings import Settings
from tests.builders import CONTACTS_SCHEMA, write_csv

WS = "acme"


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A directory on its own 1 MiB filesystem (needs root to mount; skipped otherwise)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path) -> None:
    """Fill the filesystem to the last byte."""
    with open(directory / "filler", "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    os.sync()


def test_an_upload_to_a_full_disk_is_507_and_status_reads_keep_working(tmp_path, tiny_filesystem):
    app = bootstrap(Settings(home=tmp_path / "home", blobs=tiny_filesystem, rate_limit_per_minute=0))
    app.objects.catalog.add(WS, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    key = app.keys.create(WS, frozenset({"admin"}))
    big = b"id,email\n" + b"".join(b"%d,u%d@example.com\n" % (i, i) for i in range(120_000))
    with TestClient(create_app(app)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        response = client.post("/v1/imports", data={"objectName": "contacts"},
                               files={"file": ("big.csv", big, "text/csv")})
        assert response.status_code == 507, response.text[:300]
        assert response.json()["error"]["code"] == "STORAGE_FULL"
        assert client.get("/v1/import-jobs").status_code == 200
    assert not [p for p in tiny_filesystem.rglob("*") if p.is_file()], "no partial blob is kept"
    app.close()


def test_a_job_whose_scratch_space_is_full_fails_with_storage_full_at_once(tmp_path, tiny_filesystem):
    home = tmp_path / "home"
    home.mkdir()
    (home / "work").symlink_to(tiny_filesystem)  # the per-job scratch directory is on the tiny disk
    app = bootstrap(Settings(home=home))
    app.objects.catalog.add(WS, "contacts", TableSchema.from_dict(CONTACTS_SCHEMA))
    path = write_csv(tmp_path / "c.csv", ["id", "email"], [[str(i), f"u{i}@x.org"] for i in range(5000)])
    job_id, _ = app.jobs.submit_path(WS, "contacts", path, {})
    fill(tiny_filesystem)

    app.runner.work(once=True)

    status = app.jobs.status(WS, job_id)
    assert (status["state"], status["errorCode"]) == ("failed", "STORAGE_FULL")
    assert "ProcessingCrashed" not in [e["type"] for e in app.jobs.history(WS, job_id)]
    app.close()
