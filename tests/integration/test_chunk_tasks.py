"""One file's chunks validated and merged by several workers at once (ADR 0055) end exactly like
a one-worker run: same counters, the same error file byte for byte (rowNumbers, duplicate
decisions across chunks, source order), the same records, the same per-row results file. Workers here are threads of one
process over PostgreSQL (event store, destination, unit claims); the reference is the embedded
default run of the same file."""

from __future__ import annotations

import io
import json
import logging
import threading
from pathlib import Path

import pytest

from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import Lading, bootstrap
from lading.entrypoints.settings import Settings
from tests.builders import PROFILES_SCHEMA, generate_profiles, merged_at_once, timed_merges

pytestmark = pytest.mark.postgres
CHUNK = 1 << 16
COUNTERS = ("state", "readRows", "validRows", "invalidRows", "errorSummary", "mergedInserts",
            "mergedUpdates", "mergedDeletes", "mergedUnchanged")


def _process(app: Lading, source: Path, schema: dict, mapping: dict, helpers: int = 0):
    """A job of `source` created, mapped, started and run by this process with `helpers`
    helping threads; its id and the state it ended in."""
    if app.objects.catalog.get("default", "items") is None:
        app.objects.catalog.add("default", "items", TableSchema.from_dict(schema))
    job_id, _ = app.jobs.create_job("default", "items", source.name, source.stat().st_size)
    app.jobs.attach_file("default", job_id, source)
    app.jobs.map("default", job_id, mapping)
    app.jobs.start("default", job_id)
    done = threading.Event()

    def helper() -> None:
        while not done.is_set():
            app.runner.help(job_id)
            done.wait(0.01)

    threads = [threading.Thread(target=helper) for _ in range(helpers)]
    for thread in threads:
        thread.start()
    try:
        return job_id, app.runner.process(job_id)
    finally:
        done.set()
        for thread in threads:
            thread.join()


def _run(app: Lading, source: Path, schema: dict, mapping: dict,
         helpers: int = 0) -> tuple[dict, bytes, list[dict], list[str]]:
    job_id, state = _process(app, source, schema, mapping, helpers)
    assert state == "completed"
    status = app.jobs.status("default", job_id)
    errors = app.jobs.error_file("default", job_id)
    records = list(app.objects.destination.read_records(
        "default", "items", app.objects.catalog.get("default", "items")))
    results = io.BytesIO()
    app.results.write_results("default", job_id, results)
    return ({k: status.get(k) for k in COUNTERS}, errors.read_bytes() if errors else b"", records,
            results.getvalue().decode("utf-8").splitlines())


def _reference(tmp_path: Path, source: Path, schema: dict, mapping: dict | None = None):
    app = bootstrap(Settings(home=tmp_path / "one-worker", chunk_bytes=CHUNK),
                    eventsourcing={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        return _run(app, source, schema, mapping or {})
    finally:
        app.close()


def _split(tmp_path: Path, url: str, source: Path, schema: dict, mapping: dict | None = None,
           helpers: int = 2):
    app = bootstrap(Settings(home=tmp_path / "many-workers", event_store=url, destination=url,
                             chunk_bytes=CHUNK, split_bytes=0, chunk_helpers=0))
    try:
        assert app.runner.chunk_tasks is not None
        return _run(app, source, schema, mapping or {}, helpers)
    finally:
        app.close()


@pytest.mark.parametrize("ndjson", [False, True], ids=["csv", "ndjson"])
def test_helpers_give_the_one_worker_result(tmp_path, postgres_url, ndjson):
    source = tmp_path / ("profiles.ndjson" if ndjson else "profiles.csv")
    generate_profiles(12_000, source, invalid_rate=0.06, ndjson=ndjson)  # dup_id rows span chunks
    expected = _reference(tmp_path, source, PROFILES_SCHEMA)
    assert expected[0]["errorSummary"].get("DUPLICATE_KEY")
    assert _split(tmp_path, postgres_url, source, PROFILES_SCHEMA) == expected


def test_a_reader_alone_judges_every_chunk_in_order_and_corrects_none(tmp_path, postgres_url,
                                                                      caplog):
    """With no helper, each chunk the reader validates is the next to decide, so it is judged
    against the earlier chunks' keys at once: duplicates across chunks need no correction."""
    source = tmp_path / "profiles.csv"
    generate_profiles(12_000, source, invalid_rate=0.06)
    expected = _reference(tmp_path, source, PROFILES_SCHEMA)
    assert expected[0]["errorSummary"].get("DUPLICATE_KEY")
    with caplog.at_level(logging.INFO, logger="lading"):
        assert _split(tmp_path, postgres_url, source, PROFILES_SCHEMA, helpers=0) == expected
    (validated,) = [r for r in caplog.records if r.getMessage() == "split job validated"]
    assert validated.chunks > 1 and validated.chunksValidatedHere == validated.chunks
    assert "correct" not in validated.unitsBy


def test_a_worker_alone_on_a_split_job_merges_two_chunks_at_once(tmp_path, postgres_url):
    """No other worker is seen on the job's merge units, so the destination takes two merges
    at once, as it would for a job that was not split (ADR 0139)."""
    source = tmp_path / "profiles.csv"
    generate_profiles(12_000, source, invalid_rate=0.06)
    expected = _reference(tmp_path, source, PROFILES_SCHEMA)
    app = bootstrap(Settings(home=tmp_path / "many-workers", event_store=postgres_url,
                             destination=postgres_url, chunk_bytes=CHUNK, split_bytes=0,
                             chunk_helpers=0))
    try:
        assert app.runner.chunk_tasks is not None
        destination = app.runner.chunk_tasks.destination
        assert destination.merges_at_once == 2
        spans = timed_merges(destination)
        assert _run(app, source, PROFILES_SCHEMA, {}) == expected
    finally:
        app.close()
    assert len(spans) > 4
    assert merged_at_once(spans), "no two chunks were merged at once"


SCHEMA = {"fields": [{"name": "code", "type": "string", "constraints": {"required": True}},
                     {"name": "n", "type": "integer"},
                     {"name": "note", "type": "string"}],
          "primaryKey": ["code"]}


def _tricky_csv(path: Path, rows: int) -> None:
    """String keys repeated across chunks (a later copy may itself be invalid), notes with
    quoted line breaks, and ragged records."""
    lines = ["code,n,note"]
    for i in range(rows):
        key = f"k{i % (rows // 3)}" if i % 7 == 0 else f"k{i}"
        n = "x" if i % 11 == 0 else str(i)
        note = f'"line one\nline ""two"" of {i}"' if i % 5 == 0 else f"plain {i}"
        lines.append(f"{key},{n},{note}" + (",extra" if i % 97 == 0 else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_string_keys_quoted_line_breaks_and_ragged_rows(tmp_path, postgres_url):
    source = tmp_path / "tricky.csv"
    _tricky_csv(source, 9_000)
    expected = _reference(tmp_path, source, SCHEMA)
    assert {"DUPLICATE_KEY", "MALFORMED_ROW"} <= set(expected[0]["errorSummary"])
    assert _split(tmp_path, postgres_url, source, SCHEMA) == expected


def test_a_validated_split_job_keeps_no_copy_of_its_source(tmp_path, postgres_url):
    """The raw chunks, keys and decisions serve validation alone; they go once it is saved,
    and the merge and the results file, made afterwards, still equal the one-worker run's."""
    source = tmp_path / "tricky.csv"
    _tricky_csv(source, 9_000)
    expected = _reference(tmp_path, source, SCHEMA)
    assert _split(tmp_path, postgres_url, source, SCHEMA) == expected
    stored = [p.name for p in (tmp_path / "many-workers").rglob("parts/v1/*")]
    # A corrected chunk keeps its settled rows, which the merge reads. (How many chunks are
    # corrected depends on how far helpers ran ahead of the decisions, ADR 0137.)
    corrected = {name.split("-")[-1].split(".")[0] for name in stored
                 if name.startswith("settled-result-")}
    assert corrected <= {name.split("-")[-1].split(".")[0] for name in stored
                         if name.startswith("settled-staged-")}
    assert not [name for name in stored
                if name.startswith(("raw-", "candidates-", "accepted-", "hits-", "decided-"))]


def test_an_insert_only_job_judges_existing_keys_once_per_key(tmp_path, postgres_url):
    source = tmp_path / "tricky.csv"
    _tricky_csv(source, 6_000)
    mapping = {"operation": "insert"}
    expected = _reference(tmp_path, source, SCHEMA, mapping)
    assert _split(tmp_path, postgres_url, source, SCHEMA, mapping) == expected


def test_the_results_file_is_the_one_worker_one_line_for_line(tmp_path, postgres_url):
    """Keys repeated across chunks (settled as duplicates by the later chunk), invalid rows,
    a `unique` field whose values repeat across chunks (a chunk validated again whole), and
    a last stretch of rows all invalid (chunks with nothing to merge)."""
    schema = {**SCHEMA, "fields": [*SCHEMA["fields"][:2],
                                   {"name": "note", "type": "string",
                                    "constraints": {"unique": True}}]}
    lines = ["code,n,note"]
    for i in range(6_000):
        key = f"k{i % 1_500}" if i % 9 == 0 else f"k{i}"
        note = f"same {i // 13 % 150}" if i % 13 == 0 else f"note {i}"
        lines.append(f"{key},{'x' if i % 11 == 0 else i},{note}")
    lines += [f"bad{i},not a number,x{i}" for i in range(6_000)]
    source = tmp_path / "unique.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = _reference(tmp_path, source, schema)
    rows = [json.loads(line) for line in expected[3]]
    assert [r["rowNumber"] for r in rows] == list(range(1, 12_001))
    assert expected[0]["validRows"] < 6_000
    assert {"DUPLICATE_KEY", "VALIDATION_CONSTRAINT_VIOLATION"} <= {r.get("code") for r in rows}
    got = _split(tmp_path, postgres_url, source, schema)
    assert got[3] == expected[3]
    assert got == expected


def test_an_ndjson_line_too_wide_far_into_the_file_fails_the_split_job_as_one_worker(
        tmp_path, postgres_url, caplog):
    """A split job's reader stores NDJSON lines undecoded, and whoever validates a chunk
    decodes it (ADR 0130), so a line with more keys than LADING_MAX_COLUMNS is found by a
    worker, not the reader: the job still fails with TOO_MANY_COLUMNS, as one worker's does."""
    source = tmp_path / "wide.ndjson"
    with open(source, "w", encoding="utf-8") as fh:
        for i in range(20_000):  # the reader decodes only its sample, the first 5,000 rows
            row = {"code": f"k{i}", "n": i, "note": "x" * 40}
            if i == 17_000:
                row.update({f"extra{j}": j for j in range(20)})
            fh.write(json.dumps(row) + "\n")

    def failed(app: Lading, helpers: int) -> dict:
        job_id, state = _process(app, source, SCHEMA, {}, helpers)
        assert state == "failed"
        status = app.jobs.status("default", job_id)
        return {k: status.get(k) for k in ("state", "errorCode", "error", "mergedInserts")}

    one = bootstrap(Settings(home=tmp_path / "one", chunk_bytes=CHUNK, max_columns=10),
                    eventsourcing={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    many = bootstrap(Settings(home=tmp_path / "many", event_store=postgres_url,
                              destination=postgres_url, chunk_bytes=CHUNK, split_bytes=0,
                              chunk_helpers=0, max_columns=10))
    try:
        expected = failed(one, 0)
        assert expected["errorCode"] == "TOO_MANY_COLUMNS", expected
        assert many.runner.chunk_tasks is not None
        assert failed(many, 1) == expected
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finally:
        one.close()
        many.close()
