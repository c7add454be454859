"""A stored source's columns (what a job without a fieldMap is mapped by) and its preview rows
are read from its first bytes where those give what the whole file gives — a CSV's header and
first rows, an NDJSON file's sampled objects — so a node maps or previews a large object in a
real S3 bucket (moto) without downloading it; a Parquet file and a gzip file are read whole.
Every answer equals the whole file's."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lading.adapters.readers import SourceLimits
from lading.adapters.s3_blob_store import S3BlobStore, S3Location, s3_client
from lading.adapters.source_header import source_columns, stored_source_columns
from lading.adapters.source_preview import sample_source, stored_sample
from lading.adapters.stored_source_head import HEAD_MARGIN
from lading.application.ports import SourceFile
from tests.s3_server import CREDENTIALS

LIMITS = SourceLimits(max_record_bytes=64 * 1024)
HEAD = LIMITS.max_record_bytes + HEAD_MARGIN
ROWS = 60_000  # about 3 MiB of text: more than the head


@pytest.fixture
def store(moto_endpoint, s3_bucket, tmp_path):
    client = s3_client(moto_endpoint, CREDENTIALS["AWS_REGION"], CREDENTIALS["AWS_ACCESS_KEY_ID"],
                       CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    return S3BlobStore(S3Location(s3_bucket, "blobs"), client, tmp_path / "cache")


def _csv(path):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,E-Mail,first name,note\n")
        for i in range(ROWS):
            fh.write(f'{i},u{i}@example.com,Name {i},"a note, {i}"\n')


def _ndjson(path):
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(ROWS):
            row = {"id": i, "email": f"u{i}@example.com"}
            if i % 7 == 3:
                row["phone"] = f"+1555{i:07d}"  # a key only some sampled objects have
            fh.write(json.dumps(row) + "\n")


def _parquet(path):
    pq.write_table(pa.table({"id": list(range(ROWS)), "email": [f"u{i}@x.org" for i in range(ROWS)],
                             "blob": [str(i) * 20 for i in range(ROWS)]}), path,
                   compression="none")


def _gzip_csv(path):
    plain = path.with_name("plain.csv")
    _csv(plain)
    with open(plain, "rb") as src, gzip.open(path, "wb", compresslevel=0) as out:
        out.write(src.read())


@pytest.mark.parametrize("name, write, from_head", [
    ("people.csv", _csv, True),
    ("people.ndjson", _ndjson, True),
    ("people.parquet", _parquet, False),
    ("people.csv.gz", _gzip_csv, False),
], ids=["csv", "ndjson", "parquet", "gzip"])
def test_columns_and_preview_come_from_the_head_where_it_gives_the_whole_files(
        store, tmp_path, name, write, from_head):
    path = tmp_path / name
    write(path)
    assert path.stat().st_size > HEAD
    key = f"acme/jobs/1/source/{name}"
    store.put_file(key, path)
    expected = source_columns(SourceFile(path, name), LIMITS)
    assert expected

    assert stored_source_columns(store, key, name, LIMITS) == expected
    assert stored_sample(store, key, name, 500, LIMITS) == sample_source(SourceFile(path, name), 500)
    downloaded = store.cache_dir / "blobs" / key
    assert downloaded.exists() is not from_head, "the whole object is fetched only when needed"
