"""The per-row results file (SPEC §8) against a model of the source: one line per source row,
in source order, with the outcome its row really had. The same tests on the embedded default
(SQLite), on PostgreSQL, and with the parts in S3-compatible object storage."""

from __future__ import annotations

import json
import random
from io import BytesIO
from pathlib import Path
from uuid import UUID

import pytest

from lading.application.row_results import ResultsNotReady
from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import S3Settings, Settings
from tests.builders import write_csv
from tests.s3_server import CREDENTIALS

WS = "acme"
PEOPLE = {"fields": [{"name": "id", "type": "integer"},
                     {"name": "email", "type": "string", "format": "email",
                      "constraints": {"required": True}},
                     {"name": "tier", "type": "string"}],
          "primaryKey": ["id"]}
# A composite key of text and an integer: keys show as objects.
STOCK = {"fields": [{"name": "site", "type": "string"}, {"name": "sku", "type": "integer"},
                    {"name": "count", "type": "integer"}],
         "primaryKey": ["site", "sku"]}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "s3"])
def lading(request, tmp_path):
    home = tmp_path / "home"
    # Small chunks: the files below span many, each merged (and its part written) on its own.
    settings = Settings(home=home, chunk_bytes=2048)
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        settings = Settings(home=home, chunk_bytes=2048, event_store=url, destination=url)
    elif request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = request.getfixturevalue("s3_bucket")
        settings = Settings(home=home, chunk_bytes=2048, s3=S3Settings(
            url=f"s3://{bucket}/lading", endpoint_url=endpoint, region=CREDENTIALS["AWS_REGION"],
            access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"]))
    app = bootstrap(settings)
    app.objects.catalog.add(WS, "people", TableSchema.from_dict(PEOPLE))
    app.objects.catalog.add(WS, "stock", TableSchema.from_dict(STOCK))
    yield app
    app.close()


def run(lading, path: Path, object_name: str, operation: str = "upsert") -> tuple[dict, list[dict]]:
    job_id, _ = lading.jobs.submit_path(WS, object_name, path, {"operation": operation})
    lading.runner.process(job_id)
    status = lading.jobs.status(WS, job_id)
    out = BytesIO()
    lading.results.write_results(WS, job_id, out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


class PeopleModel:
    """What each row of a people file does to a store, by SPEC §3 and §8."""

    def __init__(self) -> None:
        self.stored: dict[int, tuple[str, str]] = {}

    def apply(self, rows: list[list[str]], operation: str) -> list[dict]:
        expected, seen = [], set()
        for number, (raw_id, email, tier) in enumerate(rows, start=1):
            key: object = int(raw_id) if raw_id.lstrip("-").isdigit() else raw_id
            line = {"rowNumber": number, "key": key}
            # A delete's rows give keys: only the key is checked.
            if not isinstance(key, int) or ("@" not in email and operation != "delete"):
                line.update(outcome="rejected", code="VALIDATION_TYPE_MISMATCH")
            elif key in seen:
                line.update(outcome="rejected", code="DUPLICATE_KEY")
            else:
                line.update(self._merge(key, (email, tier or None), operation))
                if line["outcome"] != "rejected":  # a rejected row never blocks a later one
                    seen.add(key)
            expected.append(line)
        return expected

    def _merge(self, key: int, values: tuple, operation: str) -> dict:
        before = self.stored.get(key)
        if operation == "delete":
            if before is None:
                return {"outcome": "rejected", "code": "KEY_NOT_FOUND"}
            del self.stored[key]
            return {"outcome": "deleted"}
        if operation == "insert" and before is not None:
            return {"outcome": "rejected", "code": "KEY_EXISTS"}
        if operation == "update" and before is None:
            return {"outcome": "rejected", "code": "KEY_NOT_FOUND"}
        self.stored[key] = values
        if before is None:
            return {"outcome": "inserted"}
        return {"outcome": "unchanged" if before == values else "updated"}


def people_rows(rng: random.Random, n: int) -> list[list[str]]:
    rows = []
    for _ in range(n):
        kind = rng.random()
        key = str(rng.randrange(300)) if kind > 0.03 else "x" + str(rng.randrange(9))
        email = f"p{rng.randrange(3)}@example.com" if kind < 0.95 else "not-an-email"
        rows.append([key, email, rng.choice(["free", "pro", ""])])
    return rows


def tallies(lines: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in lines:
        out[line["outcome"]] = out.get(line["outcome"], 0) + 1
    return out


def test_every_rows_outcome_matches_the_model_across_imports_and_operations(lading, tmp_path):
    rng = random.Random(12)
    model = PeopleModel()
    for round_, operation in enumerate(["upsert", "upsert", "update", "insert", "upsert",
                                        "delete"]):
        rows = people_rows(rng, 400)
        path = write_csv(tmp_path / f"round-{round_}.csv", ["id", "email", "tier"], rows)
        status, lines = run(lading, path, "people", operation)
        assert status["state"] == "completed" and status["chunksTotal"] > 3
        assert lines == model.apply(rows, operation), f"round {round_} ({operation})"
        counted = tallies(lines)
        assert (counted.get("inserted", 0), counted.get("updated", 0), counted.get("unchanged", 0),
                counted.get("deleted", 0), counted.get("rejected", 0)) == (
            status["mergedInserts"], status["mergedUpdates"], status["mergedUnchanged"],
            status["mergedDeletes"], status["invalidRows"])


def test_a_composite_key_shows_as_an_object_of_its_fields(lading, tmp_path):
    rows = [["paris", "2", "5"], ["lyon", "1", "3"], ["paris", "1", "x"], ["lyon", "1", "4"]]
    run(lading, write_csv(tmp_path / "a.csv", ["site", "sku", "count"], rows[:2]), "stock")
    status, lines = run(lading, write_csv(tmp_path / "b.csv", ["site", "sku", "count"], rows),
                        "stock")
    assert lines == [
        {"rowNumber": 1, "outcome": "unchanged", "key": {"site": "paris", "sku": 2}},
        {"rowNumber": 2, "outcome": "unchanged", "key": {"site": "lyon", "sku": 1}},
        {"rowNumber": 3, "outcome": "rejected", "key": {"site": "paris", "sku": 1},
         "code": "VALIDATION_TYPE_MISMATCH"},
        {"rowNumber": 4, "outcome": "rejected", "key": {"site": "lyon", "sku": 1},
         "code": "DUPLICATE_KEY"},
    ]


def test_the_csv_file_has_the_same_rows_and_an_empty_file_has_no_line(lading, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "email", "tier"],
                     [["2", "a@b.co", "=cmd"], ["1", "bad", ""]])
    status, lines = run(lading, path, "people")
    out = BytesIO()
    lading.results.write_results(WS, UUID(status["jobId"]), out, "csv")
    assert out.getvalue().decode().splitlines() == [
        "rowNumber,outcome,key,code", "1,inserted,2,", "2,rejected,1,VALIDATION_TYPE_MISMATCH"]
    assert [line["rowNumber"] for line in lines] == [1, 2]
    empty = write_csv(tmp_path / "empty.csv", ["id", "email", "tier"], [])
    status, lines = run(lading, empty, "people")
    assert (status["state"], lines) == ("completed", [])


def test_a_job_that_has_not_completed_has_no_results_file(lading, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "email", "tier"], [["1", "a@b.co", ""]])
    job_id, _ = lading.jobs.submit_path(WS, "people", path, {})
    with pytest.raises(ResultsNotReady):
        lading.results.results_blob(WS, job_id)


def test_several_files_read_as_one_source_number_their_rows_on(lading, tmp_path):
    one = write_csv(tmp_path / "one.csv", ["id", "email", "tier"], [["1", "a@b.co", ""],
                                                                    ["2", "bad", ""]])
    two = write_csv(tmp_path / "two.csv", ["email", "id", "tier"], [["c@b.co", "3", ""],
                                                                    ["d@b.co", "1", ""]])
    job_id, _ = lading.jobs.submit_files(WS, "people", [("one.csv", one), ("two.csv", two)], {})
    lading.runner.process(job_id)
    out = BytesIO()
    lading.results.write_results(WS, job_id, out)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [
        {"rowNumber": 1, "outcome": "inserted", "key": 1},
        {"rowNumber": 2, "outcome": "rejected", "key": 2, "code": "VALIDATION_TYPE_MISMATCH"},
        {"rowNumber": 3, "outcome": "inserted", "key": 3},
        {"rowNumber": 4, "outcome": "rejected", "key": 1, "code": "DUPLICATE_KEY"},
    ]


def test_a_job_approved_after_a_pause_has_the_results_of_its_final_run(lading, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "email", "tier"],
                     [["1", "a@b.co", ""], ["2", "bad", ""]])
    job_id, _ = lading.jobs.submit_path(WS, "people", path, {"reviewPolicy": "review_on_errors"})
    assert lading.runner.process(job_id) == "needs_attention"
    with pytest.raises(ResultsNotReady):
        lading.results.results_blob(WS, job_id)
    lading.jobs.approve(WS, job_id, {"changes": []})
    assert lading.runner.process(job_id) == "completed"
    out = BytesIO()
    lading.results.write_results(WS, job_id, out)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [
        {"rowNumber": 1, "outcome": "inserted", "key": 1},
        {"rowNumber": 2, "outcome": "rejected", "key": 2, "code": "VALIDATION_TYPE_MISMATCH"},
    ]
