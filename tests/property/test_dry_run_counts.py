"""A dry run's diff counts exactly what the real run then reports (SPEC §8), over generated
destination contents and files, and writes nothing: the property behind `dryRun`.

Each example imports a generated starting content into a fresh object, dry-runs a generated
file against it (any operation, with bad values and repeated keys among its rows), checks that
the destination did not change, applies the dry run and compares the counts.
"""

from __future__ import annotations

import itertools
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lading.domain.table_schema import TableSchema
from lading.entrypoints.bootstrap import bootstrap
from lading.entrypoints.settings import Settings

WS = "acme"
SCHEMA = TableSchema.from_dict({
    "fields": [{"name": "id", "type": "integer"}, {"name": "name", "type": "string"},
               {"name": "score", "type": "number"}],
    "primaryKey": ["id"],
})
_objects = itertools.count()

ids = st.integers(0, 12)
names = st.sampled_from(["ann", "bob", "cy"])
scores = st.one_of(st.sampled_from(["1", "2.5", "-3"]), st.just("not a number"))
stored_rows = st.dictionaries(ids, st.tuples(names, st.sampled_from(["1", "2.5", "-3"])), max_size=10)
file_rows = st.lists(st.fixed_dictionaries({"id": ids.map(str), "name": names, "score": scores}),
                     max_size=14)
operations = st.sampled_from(["upsert", "insert", "update", "delete"])


@pytest.fixture(scope="module")
def lading(tmp_path_factory):
    app = bootstrap(Settings(home=tmp_path_factory.mktemp("home")))
    yield app
    app.close()


def run(app, object_name: str, rows: list[dict], operation: str, dry_run: bool = False) -> dict:
    job_id, _ = app.jobs.submit_rows(WS, object_name, rows, {"operation": operation},
                                     dry_run=dry_run)
    app.runner.process(job_id)
    return app.jobs.status(WS, job_id)


def check_dry_run_reports_what_the_run_does(app, stored: dict, rows: list[dict], operation: str):
    object_name = f"people{next(_objects)}"
    app.objects.catalog.add(WS, object_name, SCHEMA)
    if stored:
        run(app, object_name, [{"id": str(i), "name": n, "score": s} for i, (n, s) in stored.items()],
            "upsert")
    before = list(app.objects.records(WS, object_name))
    dry = run(app, object_name, rows, operation, dry_run=True)
    assert dry["state"] == "completed" and dry["dryRun"] is True
    assert list(app.objects.records(WS, object_name)) == before, "a dry run wrote"
    assert (dry["mergedInserts"], dry["mergedUpdates"], dry["mergedUnchanged"],
            dry["mergedDeletes"]) == (0, 0, 0, 0)
    real = app.jobs.status(WS, app.dry_runs.apply(WS, UUID(dry["jobId"])))
    app.runner.process(UUID(real["jobId"]))
    real = app.jobs.status(WS, UUID(real["jobId"]))
    assert real["state"] == "completed" and real["dryRunOf"] == dry["jobId"]
    assert dry["diff"] == {
        "inserted": real["mergedInserts"], "updated": real["mergedUpdates"],
        "unchanged": real["mergedUnchanged"], "deleted": real["mergedDeletes"],
        "rejected": real["invalidRows"], "samples": dry["diff"]["samples"]}
    samples = dry["diff"]["samples"]
    for kind in ("inserted", "updated", "deleted"):
        assert len(samples[kind]) == min(20, dry["diff"][kind])


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stored=stored_rows, rows=file_rows, operation=operations)
def test_a_dry_run_counts_exactly_what_applying_it_does(lading, stored, rows, operation):
    check_dry_run_reports_what_the_run_does(lading, stored, rows, operation)


@pytest.mark.postgres
@pytest.mark.parametrize("operation", ["upsert", "delete"])
def test_a_dry_run_on_postgresql_counts_what_applying_it_does(tmp_path, postgres_url, operation):
    app = bootstrap(Settings(home=tmp_path / "home", event_store=postgres_url,
                             destination=postgres_url))
    try:
        stored = {i: ("ann", "1") for i in range(0, 12, 2)}
        rows = [{"id": str(i), "name": "bob" if i % 3 else "ann", "score": "1"} for i in range(12)]
        rows += [{"id": "3", "name": "cy", "score": "2"}, {"id": "x", "name": "cy", "score": "1"}]
        check_dry_run_reports_what_the_run_does(app, stored, rows, operation)
    finally:
        app.close()
