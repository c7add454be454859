"""The console's HTML forms translate to exactly what the API takes."""

from __future__ import annotations

import pytest

from lading.domain.errors import InvalidPlan
from lading.entrypoints.http.console.forms import approval_from_form, mapping_from_form


def test_the_mapping_form_maps_chosen_columns_and_leaves_out_the_skipped_ones():
    form = {"column-0": "id", "field-0": "id", "column-1": "E-mail", "field-1": "email",
            "column-2": "notes", "field-2": "", "importMode": "strict", "operation": "insert",
            "reviewPolicy": "review_on_errors"}
    assert mapping_from_form(form) == {"fieldMap": {"id": "id", "E-mail": "email"},
                                       "importMode": "strict", "operation": "insert",
                                       "reviewPolicy": "review_on_errors"}


def test_a_ratio_policy_is_given_in_percent_and_sent_as_a_share():
    form = {"column-0": "id", "field-0": "id", "reviewPolicy": "ratio", "maxInvalidRatio": "2.5"}
    assert mapping_from_form(form)["reviewPolicy"] == {"maxInvalidRatio": 0.025}
    with pytest.raises(InvalidPlan, match="must be a number"):
        mapping_from_form({**form, "maxInvalidRatio": "lots"})


def test_a_mapping_with_no_column_mapped_is_refused_with_a_reason():
    with pytest.raises(InvalidPlan, match="at least one column"):
        mapping_from_form({"column-0": "id", "field-0": ""})


PROPOSAL = {"changes": [
    {"field": "born", "dateFormat": "%d/%m/%Y", "recoversRows": 4},
    {"field": "tier", "enumMap": {"PRO": "pro", "Free ": "free"}, "recoversRows": 2},
]}


def test_approving_keeps_the_checked_changes_with_their_edits():
    form = {"apply-0": "on", "dateFormat-0": "%m/%d/%Y", "apply-1": "on", "enum-1-0": "pro",
            "enum-1-1": ""}
    assert approval_from_form(PROPOSAL, form) == {"changes": [
        {"field": "born", "dateFormat": "%m/%d/%Y"},
        {"field": "tier", "enumMap": {"PRO": "pro"}},  # an emptied target drops that value
    ]}


def test_unchecking_every_change_finishes_on_the_current_plan():
    assert approval_from_form(PROPOSAL, {}) == {"changes": []}
