"""SDR agent and Vern translations as tables: status words for every state, a cohort's declared
status until it has data, and Vern's questions, patch and decisions from a Lading proposal."""

from __future__ import annotations

import pytest

from lading.domain.errors import TransitionNotAllowed
from lading.domain.import_job import ImportJob
from lading.entrypoints.http.compat import sdragent, vern
from lading.entrypoints.http.errors import RequestInvalid


@pytest.mark.parametrize(("state", "word"), [
    ("pending", "pending"), ("ready", "pending"), ("queued", "processing"), ("running", "processing"),
    ("needs_attention", "processing"), ("completed", "completed"), ("reverting", "completed"),
    ("reverted", "completed"), ("failed", "failed"), ("cancelled", "failed")])
def test_sdragent_words_once_a_cohort_has_data(state, word):
    assert sdragent.status_word({"state": state, "stage": None, "fileSha256": "ab",
                                 "declaredStatus": "completed"}) == word


def test_a_cohort_without_data_reads_as_its_declared_status_else_pending():
    assert sdragent.status_word({"state": "pending", "fileSha256": None, "declaredStatus": "completed"}) == "completed"
    assert sdragent.status_word({"state": "pending", "fileSha256": None, "declaredStatus": None}) == "pending"


@pytest.mark.parametrize(("state", "word"), [
    ("pending", "queued"), ("ready", "queued"), ("queued", "queued"), ("running", "running"),
    ("needs_attention", "needs_attention"), ("completed", "completed"), ("reverting", "completed"),
    ("reverted", "completed"), ("failed", "failed"), ("cancelled", "canceled")])
def test_vern_words_for_every_state(state, word):
    assert vern.WORDS.word(state, "merging" if state == "running" else None) == word


def test_a_cohorts_status_is_declared_only_while_it_holds_no_data():
    job = ImportJob("acme", "profiles", None, None)
    job.declare_status("processing", 10)
    assert (job.declared_status, job.expected_rows) == ("processing", 10)
    job.receive_file("k", 3, "ab" * 32, "a.csv")
    with pytest.raises(TransitionNotAllowed, match="its status is Lading's"):
        job.declare_status("completed")


def test_several_files_replace_the_source_and_count_their_sizes_together():
    job = ImportJob("acme", "profiles", None, None)
    job.receive_files([{"blobKey": "a", "size": 2, "sha256": "x", "fileName": "a.csv"},
                       {"blobKey": "b", "size": 3, "sha256": "y", "fileName": "b.csv"}])
    assert job.file == {"blobKey": "a", "size": 5, "sha256": "x"} and job.file_name == "a.csv"
    with pytest.raises(TransitionNotAllowed):
        job.receive_files([])


PROPOSAL = {"invalidRows": 4, "changes": [
    {"kind": "date_format", "field": "born", "dateFormat": "%d/%m/%Y", "recoversRows": 1},
    {"kind": "date_format", "field": "born", "dateFormat": "%m/%d/%Y", "recoversRows": 2},
    {"field": "plan", "enumMap": {"Enterprize": "enterprise"}, "recoversRows": 1},  # before kinds
    {"kind": "delete_invalid_rows", "recoversRows": 0, "deletesRows": 1}]}


def test_the_proposed_patch_takes_each_fields_best_change_and_leaving_out_what_still_fails():
    assert vern.patch_changes(PROPOSAL) == [PROPOSAL["changes"][1], PROPOSAL["changes"][2],
                                           PROPOSAL["changes"][3]]
    doc = {"proposal": PROPOSAL, "attention": {"born": {"column": "Born on", "rows": 3,
                                                        "samples": ["17/05/2023"], "message": "bad date"}}}
    attention = vern._attention("c1", doc)
    assert [q.id for q in attention.questions] == ["born", "plan"]
    born = attention.questions[0]
    assert [o.id for o in born.options] == ["born:0", "born:1", "skip"]
    assert (born.target.column, born.target.affected_count, born.target.sample_values) == ("Born on", 3, ["17/05/2023"])
    assert [a["action"] for a in attention.proposed_patch.actions] == ["reformat", "map_values",
                                                                      "delete_invalid_rows"]
    assert attention.proposed_patch.actions[0]["column"] == "Born on"


def test_decisions_pick_changes_from_the_proposal():
    assert vern._chosen(vern.Decision(reject=True))(PROPOSAL) == []
    assert vern._chosen(vern.Decision(accept=True))(PROPOSAL) == vern.patch_changes(PROPOSAL)
    answers = vern.Decision(answers=[vern.Answer(id="born", option_id="born:0"),
                                     vern.Answer(id="plan", option_id="skip")])
    assert vern._chosen(answers)(PROPOSAL) == [PROPOSAL["changes"][0]]
    custom = vern.Decision(answers=[vern.Answer(id="plan", value="free")])
    assert vern._chosen(custom)(PROPOSAL) == [{"kind": "set_value", "field": "plan", "value": "free"}]
    with pytest.raises(RequestInvalid):
        vern._chosen(vern.Decision(answers=[vern.Answer(id="nope", option_id="x")]))(PROPOSAL)
    with pytest.raises(RequestInvalid):
        vern._chosen(vern.Decision(accept=True, reject=True))
