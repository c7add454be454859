"""The pieces every compatibility API shares: credential forms and status-word tables."""

import pytest

from lading.entrypoints.http.compat.common import (
    BEARER,
    TOKEN,
    X_API_KEY,
    X_PIGMENT_API_KEY,
    StatusWords,
    read_credential,
)

ALL_STATES = {"pending": "p", "ready": "r", "queued": "q", "running": "run",
              "needs_attention": "n", "completed": "c", "failed": "f", "cancelled": "x",
              "reverting": "c", "reverted": "c"}


def _headers(**given: str) -> dict[str, str]:
    return {k.replace("_", "-").lower(): v for k, v in given.items()}


def test_a_credential_is_read_only_in_the_forms_the_api_accepts():
    token = _headers(authorization="Token abc")
    assert read_credential(token, [TOKEN]) == "abc"
    assert read_credential(token, [BEARER]) is None
    assert read_credential(_headers(authorization="bearer xyz"), [BEARER]) == "xyz"
    assert read_credential(_headers(x_api_key=" k1 "), [X_API_KEY]) == "k1"
    assert read_credential(_headers(x_pigment_api_key="p1"), [BEARER, X_PIGMENT_API_KEY]) == "p1"
    assert read_credential(_headers(x_pigment_api_key="p1"), [X_API_KEY]) is None


def test_the_first_accepted_form_wins_when_a_request_carries_several():
    both = _headers(authorization="Bearer b", x_pigment_api_key="p")
    assert read_credential(both, [BEARER, X_PIGMENT_API_KEY]) == "b"
    assert read_credential(both, [X_PIGMENT_API_KEY, BEARER]) == "p"


def test_an_empty_or_schemeless_authorization_is_no_credential():
    assert read_credential(_headers(authorization="Bearer   "), [BEARER]) is None
    assert read_credential(_headers(authorization="abc"), [BEARER, TOKEN]) is None
    assert read_credential({}, [BEARER, TOKEN, X_API_KEY, X_PIGMENT_API_KEY]) is None


def test_a_status_table_must_word_every_state_a_client_can_see():
    partial = {k: v for k, v in ALL_STATES.items() if k != "needs_attention"}
    with pytest.raises(ValueError, match="needs_attention"):
        StatusWords(partial)


def test_a_stage_refines_its_state_and_other_stages_fall_back_to_the_state_word():
    words = StatusWords(ALL_STATES, by_stage={("running", "merging"): "merge"})
    assert words.word("running", "merging") == "merge"
    assert words.word("running", "validating") == "run"
    assert words.word("reverted") == "c"


# Every Lading (state, stage) a client can see, and the word each API shows for it (SPEC §9).
LIFE = [("pending", None), ("ready", None), ("queued", None), ("running", "validating"),
        ("running", "merging"), ("running", "finalizing"), ("needs_attention", None),
        ("completed", None), ("reverting", None), ("reverted", None), ("failed", None),
        ("cancelled", None)]


def _words(table: StatusWords) -> list[str]:
    return [table.word(state, stage) for state, stage in LIFE]


def test_experiture_reads_queued_and_needs_attention_as_running_and_stages_as_upload_validate_merge():
    from lading.entrypoints.http.compat.experiture import STAGES, STATES

    assert _words(STATES) == ["pending", "ready", "running", "running", "running", "running",
                              "running", "completed", "completed", "completed", "failed",
                              "failed"]
    assert _words(STAGES) == ["upload", "upload", "upload", "validate", "merge", "merge",
                              "validate", "merge", "merge", "merge", "validate", "upload"]


def test_userpilot_words_follow_the_stage_while_running():
    from lading.entrypoints.http.compat.userpilot import STATUS

    assert _words(STATUS) == ["queued", "queued", "queued", "validating", "processing",
                              "processing", "processing", "completed", "completed", "completed",
                              "failed", "failed"]


def test_pigment_has_three_words_and_reverted_reads_completed():
    from lading.entrypoints.http.compat.pigment import STATUS

    assert _words(STATUS) == ["InProgress"] * 7 + ["Completed"] * 3 + ["Failed", "Failed"]
