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
              "reverted": "c"}


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
