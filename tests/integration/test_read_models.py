"""The SQL read-model store, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic

from lading.adapters.sql_read_models import SqlReadModels
from lading.application.projections import JobFilter, apply_event
from lading.domain.import_job import ImportJob


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    target = request.getfixturevalue("postgres_url") if request.param == "postgres" else tmp_path / "rm.sqlite"
    s = SqlReadModels(target)
    yield s
    s.close()


def created(workspace="ws", obj="contacts", source=None, labels=(), minutes=0, key=None):
    job_id = uuid4()
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    event = ImportJob.Created(originator_id=job_id, originator_version=1, timestamp=at,
                              originator_topic=get_topic(ImportJob), workspace=workspace,
                              object_name=obj, file_name="f.csv", file_size=1, source=source,
                              labels=list(labels), idempotency_key=key)
    return str(job_id), apply_event(None, event)


def test_apply_moves_the_position_only_from_the_expected_one(store):
    job_id, doc = created()
    assert store.apply("p", 0, 5, {job_id: doc})
    assert store.position("p") == 5
    assert not store.apply("p", 0, 9, {job_id: {**doc, "state": "bogus"}}), "a stale writer loses"
    assert store.get(job_id)["state"] == "pending"


def test_listing_filters_and_pages_newest_first(store):
    docs = dict([created(minutes=i, source="crm" if i % 2 else "web", labels=["c7"] if i < 3 else [])
                 for i in range(6)])
    other = dict([created(workspace="other")])
    store.apply("p", 0, 1, {**docs, **other})
    page1 = store.list(JobFilter(workspace="ws", limit=4))
    assert [d["createdAt"] for d in page1] == sorted((d["createdAt"] for d in page1), reverse=True)
    last = page1[-1]
    page2 = store.list(JobFilter(workspace="ws", limit=4, cursor=(last["createdAt"], last["jobId"])))
    assert len(page1) + len(page2) == 6
    assert not {d["jobId"] for d in page1} & {d["jobId"] for d in page2}
    assert len(store.list(JobFilter(workspace="ws", source="crm"))) == 3
    assert len(store.list(JobFilter(workspace="ws", label="c7"))) == 3
    assert len(store.list(JobFilter(workspace="ws", states=("pending",)))) == 6
    assert len(store.list(JobFilter(workspace="ws", created_from="2026-01-01T00:03:00Z"))) == 3


def test_active_jobs_and_idempotency_keys_are_found_per_workspace(store):
    job_id, doc = created(key="k#1")
    started = ImportJob.Started(originator_id=UUID(job_id), originator_version=2,
                                timestamp=datetime.now(UTC))
    queued = apply_event(doc, started)
    store.apply("p", 0, 1, {job_id: queued})
    assert store.count_active("ws") == 1 and store.count_active("other") == 0
    assert store.find_by_idempotency_key("ws", "k#1")["jobId"] == job_id
    assert store.find_by_idempotency_key("other", "k#1") is None
    store.clear()
    assert store.position("p") == 0 and store.all_documents() == {}


def test_state_totals_sum_jobs_and_rows_per_state_leaving_deleted_jobs_out(store):
    docs = {}
    for rows, state in ((100, "completed"), (50, "completed"), (7, "running"), (9, "deleted")):
        job_id, doc = created()
        doc.update(state=state, readRows=rows, validRows=rows - 1, invalidRows=1,
                   mergedInserts=rows - 2, mergedUpdates=1, mergedDeletes=0)
        docs[job_id] = doc
    store.apply("p", 0, 1, docs)
    assert store.state_totals() == [("completed", 2, 150, 148, 2, 148), ("running", 1, 7, 6, 1, 6)]


def test_a_client_key_is_found_with_any_payload_however_many_newer_jobs_exist(store):
    """Issue 9.14: the conflict check once scanned only the newest 10,000 jobs."""
    old_id, old = created(key="order-7#aaaa", minutes=0)
    newer = dict(created(key=f"other-{i}#bbbb", minutes=i + 1) for i in range(10_050))
    store.apply("p", 0, 1, {old_id: old, **newer})
    assert store.idempotency_key_used("ws", "order-7")
    assert not store.idempotency_key_used("ws", "order-8")
    assert not store.idempotency_key_used("other", "order-7")
    assert not store.idempotency_key_used("ws", "order")  # a prefix of a key is another key
    store.apply("p", 1, 2, {old_id: {**old, "state": "deleted"}})
    assert not store.idempotency_key_used("ws", "order-7")  # a deleted job holds no key
    assert store.find_by_idempotency_key("ws", "order-7#aaaa") is None
