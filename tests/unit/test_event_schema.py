"""The stored events are a published schema: yesterday's stored JSON still loads and projects.

tests/fixtures/stored_events.json holds one stored event of every ImportJob event type as the
JSON transcoder wrote it. Renaming or removing a field, or an event class, fails here; a change
of shape needs an upcaster (ADR 0008) and a new fixture beside the old one.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from lading.application.projections import apply_event
from lading.domain.import_job import EVENTS

FIXTURE = Path(__file__).parents[1] / "fixtures" / "stored_events.json"
ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}


@pytest.fixture(scope="module")
def mapper():
    return Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper


def stored(entry: dict, version: int, topic: str | None = None, job_id=None) -> StoredEvent:
    return StoredEvent(originator_id=job_id or uuid4(), originator_version=version,
                       topic=topic or entry["topic"], state=json.dumps(entry["state"]).encode())


def test_the_fixture_holds_one_stored_event_of_every_declared_type_in_order():
    topics = [entry["topic"] for entry in json.loads(FIXTURE.read_text())]
    assert topics == [get_topic(cls) for cls in EVENTS]


@pytest.mark.parametrize("entry", json.loads(FIXTURE.read_text()), ids=lambda e: e["topic"].split(".")[-1])
def test_a_stored_event_decodes_to_its_class_with_exactly_its_declared_fields(mapper, entry):
    event = mapper.to_domain_event(stored(entry, 1))
    fields = {f.name: f for f in dataclasses.fields(type(event)) if f.name not in ENVELOPE}
    stored_names = set(entry["state"]) - ENVELOPE
    assert stored_names <= set(fields), "a stored field was renamed or removed"
    added = set(fields) - stored_names
    assert all(fields[n].default is not dataclasses.MISSING for n in added), \
        f"fields added since the fixture need a default: {sorted(added)}"
    for name in stored_names:
        assert getattr(event, name) == entry["state"][name]


def test_the_whole_history_of_stored_events_projects_to_a_status(mapper):
    job_id = uuid4()
    doc = None
    for version, entry in enumerate(json.loads(FIXTURE.read_text()), start=1):
        doc = apply_event(doc, mapper.to_domain_event(stored(entry, version, job_id=job_id)))
    assert doc["jobId"] == str(job_id) and doc["version"] == len(EVENTS)
    assert (doc["readRows"], doc["validRows"], doc["invalidRows"]) == (3, 2, 1)
    assert doc["mergedInserts"] == 2 and doc["callback"]["state"] == "failed"


def test_events_stored_before_the_lading_package_load_under_their_old_topics(mapper):
    entry = json.loads(FIXTURE.read_text())[0]
    old_topic = entry["topic"].removeprefix("lading.")
    event = mapper.to_domain_event(stored(entry, 1, topic=old_topic))
    assert type(event) is EVENTS[0]


def test_a_created_event_stored_before_concurrency_scopes_existed_decodes_without_one(mapper):
    entry = json.loads(FIXTURE.read_text())[0]
    del entry["state"]["concurrency_scope"]
    event = mapper.to_domain_event(stored(entry, 1))
    assert event.concurrency_scope is None
    assert apply_event(None, event)["concurrencyScope"] is None
