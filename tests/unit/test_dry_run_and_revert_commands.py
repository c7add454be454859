"""Dry runs and reverts on the ImportJob aggregate and in its status document (SPEC §8)."""

from uuid import uuid4

import pytest

from lading.application.projections import apply_event
from lading.domain.errors import TransitionNotAllowed
from lading.domain.import_job import ImportJob
from lading.domain.lifecycle import ACTIVE_STATES, TERMINAL_STATES, JobState


def merged_job(dry_run: bool = False, chunks: int = 2) -> ImportJob:
    job = ImportJob("ws", "profiles", "people.csv", 10)
    job.receive_file("jobs/1/source", 10, "0" * 64, "people.csv")
    job.map({"fieldMap": {"id": "id"}})
    job.start(dry_run)
    job.begin_processing()
    for chunk in range(chunks):
        job.record_validated_chunk(chunk, 5, 4, {"DUPLICATE_KEY": 1}, {}, [0, 1])
    job.finish_validation()
    return job


def status(job: ImportJob) -> dict:
    doc = None
    for event in job.collect_events():
        doc = apply_event(doc, event)
    return doc


def test_a_dry_run_records_diffs_not_merges_and_its_merged_counters_stay_zero():
    job = merged_job(dry_run=True)
    with pytest.raises(TransitionNotAllowed, match="a dry run writes nothing"):
        job.record_merged_chunk(0, 4, 0, 0)
    job.record_diffed_chunk(0, 1, 2, 0, 1, {"inserted": 1, "updated": 2})
    job.record_diffed_chunk(1, 4, 0, 0, 0, {})
    job.complete()
    doc = status(job)
    assert doc["state"] == "completed" and doc["dryRun"] is True
    assert doc["diff"] == {"inserted": 5, "updated": 2, "unchanged": 1, "deleted": 0, "rejected": 2}
    assert (doc["mergedInserts"], doc["mergedUpdates"], doc["mergedUnchanged"]) == (0, 0, 0)
    assert doc["diffSampleChunks"] == [0] and job.diff_samples_taken == {"inserted": 1, "updated": 2}


def test_a_real_run_cannot_record_a_diff():
    job = merged_job()
    with pytest.raises(TransitionNotAllowed, match="not a dry run"):
        job.record_diffed_chunk(0, 4, 0, 0, 0)


def test_a_revert_undoes_every_merged_chunk_once_then_the_job_is_reverted_for_good():
    job = merged_job()
    job.record_merged_chunk(0, 4, 0, 0)
    job.record_merged_chunk(1, 1, 3, 0)
    job.complete()
    job.start_revert()
    assert job.state == JobState.REVERTING and job.state in ACTIVE_STATES
    with pytest.raises(TransitionNotAllowed, match="not reverted yet"):
        job.finish_revert()
    job.record_reverted_chunk(1, 1, 3)
    with pytest.raises(TransitionNotAllowed, match="not waiting to be reverted"):
        job.record_reverted_chunk(1, 1, 3)
    with pytest.raises(TransitionNotAllowed, match="cannot cancel a job that is reverting"):
        job.cancel()
    job.record_reverted_chunk(0, 4, 0)
    job.finish_revert()
    assert job.state == JobState.REVERTED and job.state in TERMINAL_STATES
    doc = status(job)
    assert doc["state"] == "reverted" and doc["revertedAt"] is not None
    assert {k: doc["revert"][k] for k in ("chunksReverted", "removed", "restored")} == {
        "chunksReverted": 2, "removed": 5, "restored": 3}
    assert (doc["mergedInserts"], doc["mergedUpdates"]) == (5, 3)  # counters are kept
    with pytest.raises(TransitionNotAllowed, match="cannot revert a job that is reverted"):
        job.start_revert()


def test_conflicts_need_force_and_a_dry_run_or_an_unfinished_job_is_not_reverted():
    job = merged_job()
    with pytest.raises(TransitionNotAllowed, match="cannot revert a job that is running"):
        job.start_revert()
    for chunk in (0, 1):
        job.record_merged_chunk(chunk, 4, 0, 0)
    job.complete()
    with pytest.raises(TransitionNotAllowed, match="3 rows were changed by later jobs"):
        job.start_revert(conflicts=3)
    job.start_revert(force=True, conflicts=3)
    assert status(job)["revert"]["conflicts"] == 3

    dry = merged_job(dry_run=True, chunks=0)
    dry.complete()
    with pytest.raises(TransitionNotAllowed, match="a dry run changed nothing"):
        dry.start_revert()


def test_a_job_applying_a_dry_run_names_it():
    dry_id = str(uuid4())
    job = ImportJob("ws", "profiles", "people.csv", 10, dry_run_of=dry_id)
    assert job.dry_run_of == dry_id and status(job)["dryRunOf"] == dry_id
