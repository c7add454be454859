"""The ImportJob aggregate, command by command."""

import pytest

from lading.domain.errors import TransitionNotAllowed
from lading.domain.import_job import ImportJob
from lading.domain.lifecycle import JobState, Stage


def ready_job() -> ImportJob:
    job = ImportJob("ws", "profiles", "people.csv", 10)
    job.receive_file("jobs/1/source", 10, "0" * 64, "people.csv")
    job.map({"fieldMap": {"id": "id"}})
    return job


def test_a_new_job_is_pending_until_it_has_both_file_and_mapping():
    job = ImportJob("ws", "profiles", "people.csv", 10)
    assert job.state == JobState.PENDING
    job.map({"fieldMap": {"id": "id"}})
    assert job.state == JobState.PENDING
    job.receive_file("k", 10, "0" * 64, "people.csv")
    assert job.state == JobState.READY


def test_start_before_ready_names_the_state_and_the_command():
    job = ImportJob("ws", "profiles", "people.csv", 10)
    with pytest.raises(TransitionNotAllowed, match="cannot start a job that is pending"):
        job.start()


def test_mapping_and_source_are_frozen_once_queued():
    job = ready_job()
    job.start()
    with pytest.raises(TransitionNotAllowed):
        job.map({"fieldMap": {"id": "id"}})
    with pytest.raises(TransitionNotAllowed):
        job.receive_file("k2", 1, "1" * 64, "other.csv")


def test_validation_then_merge_then_complete_keeps_exact_counters():
    job = ready_job()
    job.start()
    job.begin_processing()
    assert (job.state, job.stage) == (JobState.RUNNING, Stage.VALIDATING)
    job.record_validated_chunk(0, 10, 8, {"DUPLICATE_KEY": 2}, {"id": {"DUPLICATE_KEY": 2}}, [0, 300])
    job.record_validated_chunk(1, 5, 5, {}, {}, None)
    job.finish_validation()
    assert job.stage == Stage.MERGING
    with pytest.raises(TransitionNotAllowed, match="not merged yet"):
        job.complete()
    job.record_merged_chunk(0, 8, 0, 0)
    job.record_merged_chunk(1, 2, 3, 0)
    job.complete()
    assert job.state == JobState.COMPLETED
    assert (job.read_rows, job.valid_rows, job.invalid_rows) == (15, 13, 2)
    assert job.merged_inserts + job.merged_updates + job.merged_unchanged + job.merged_deletes == job.valid_rows


def test_a_chunk_cannot_be_recorded_twice_or_out_of_order():
    job = ready_job()
    job.start()
    job.begin_processing()
    with pytest.raises(TransitionNotAllowed, match="expected chunk 0"):
        job.record_validated_chunk(1, 1, 1, {}, {}, None)
    job.record_validated_chunk(0, 1, 1, {}, {}, None)
    job.finish_validation()
    job.record_merged_chunk(0, 1, 0, 0)
    with pytest.raises(TransitionNotAllowed, match="not waiting to be merged"):
        job.record_merged_chunk(0, 1, 0, 0)


def test_rejected_counts_must_add_up_to_invalid_rows():
    job = ready_job()
    job.start()
    job.begin_processing()
    with pytest.raises(TransitionNotAllowed, match="do not add up"):
        job.record_validated_chunk(0, 10, 8, {"DUPLICATE_KEY": 1}, {}, None)


def test_an_approved_fix_raises_the_plan_version_and_requeues():
    job = ready_job()
    job.start()
    job.begin_processing()
    job.record_validated_chunk(0, 4, 3, {"VALIDATION_TYPE_MISMATCH": 1}, {}, [0, 10])
    job.pause_for_attention({"changes": [{"field": "born", "dateFormat": "%d/%m/%Y"}]})
    assert job.state == JobState.NEEDS_ATTENTION
    job.approve_fix({"fieldMap": {"id": "id"}, "fixes": {"born": {"dateFormat": "%d/%m/%Y"}}})
    assert (job.state, job.plan_version) == (JobState.QUEUED, 2)
    job.begin_processing()
    assert job.read_rows == 0, "a new plan version starts its counters afresh"


def test_terminal_jobs_refuse_everything_but_delete_and_metadata_edits():
    job = ready_job()
    job.cancel()
    for command in (job.start, job.cancel, job.complete, lambda: job.fail("x")):
        with pytest.raises(TransitionNotAllowed):
            command()
    job.edit_metadata(labels=["campaign-7"])
    assert job.labels == ["campaign-7"]
    job.delete()
    assert job.state == JobState.DELETED
    with pytest.raises(TransitionNotAllowed):
        job.edit_metadata(source="x")


def test_an_active_job_must_be_cancelled_before_it_is_deleted():
    job = ready_job()
    job.start()
    with pytest.raises(TransitionNotAllowed, match="cannot delete a job that is queued"):
        job.delete()


def test_announced_files_arrive_in_any_order_and_the_job_holds_them_once_all_are_in():
    job = ImportJob("acme", "profiles", "a.csv", 5, expected_files=[
        {"fileName": "a.csv", "fileSize": 2}, {"fileName": "b.csv", "fileSize": 3}])
    job.receive_part(1, "blob-b", 3, "y")
    assert (job.file, job.files) == (None, None)
    with pytest.raises(TransitionNotAllowed):
        job.start()  # half of its source is still missing
    job.receive_part(0, "blob-a", 2, "x")
    assert [f["fileName"] for f in job.files] == ["a.csv", "b.csv"]  # announced order, not arrival
    assert job.file == {"blobKey": "blob-a", "size": 5, "sha256": "x"}
    with pytest.raises(TransitionNotAllowed):
        job.receive_part(2, "blob-c", 1, "z")


def test_a_job_created_for_one_file_takes_no_parts():
    with pytest.raises(TransitionNotAllowed):
        ImportJob("acme", "profiles", "a.csv", 5).receive_part(0, "blob", 5, "x")
