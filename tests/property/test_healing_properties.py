"""Healing is idempotent and never changes what was already valid (issue 10, SPEC §3
"Self-healing"): Hypothesis over header renames and over whole columns of values."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone

from hypothesis import event, given, settings
from hypothesis import strategies as st

from lading.domain.errors import ColumnsMissing
from lading.domain.column_formats import choose_column_formats
from lading.domain.field_rules import PLAIN, Healing, Issue, evaluate, make_rule
from lading.domain.header_matching import match_headers
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import Field, TableSchema

EXAMPLES = int(os.environ.get("LADING_TEST_PROPERTY_EXAMPLES") or (500 if os.environ.get("CI") else 80))

WORDS = st.sampled_from(["id", "email", "name", "first", "last", "vip", "is", "customer",
                         "address", "phone", "joined", "at", "code", "country", "total", "x"])
NAMES = st.lists(WORDS, min_size=1, max_size=3).map(lambda ws: "_".join(ws))


def _drift(draw, name: str) -> str:
    """A column name as a drifted export might spell it."""
    kind = draw(st.sampled_from(["same", "upper", "spaced", "prefixed", "dashed"]))
    if kind == "upper":
        return name.upper()
    if kind == "spaced":
        return name.replace("_", " ").title()
    if kind == "prefixed":
        return "Customer " + name.replace("_", " ")
    if kind == "dashed":
        return name.replace("_", "-")
    return name


@st.composite
def drifted_headers(draw):
    keys = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    header = [_drift(draw, k) for k in keys]
    header += draw(st.lists(NAMES, max_size=3))
    header = draw(st.permutations(header))
    return list(header), {k: f"f{i}" for i, k in enumerate(keys)}


@settings(max_examples=EXAMPLES, deadline=None)
@given(drifted_headers())
def test_header_healing_is_idempotent(case):
    header, field_map = case
    try:
        first = match_headers(header, field_map, strict=False)
    except ColumnsMissing:
        event("unmappable: a tie or a missing column, reported, never healed")
        return
    healed = list(header)
    for key, position in first.columns.items():
        healed[position] = key
    again = match_headers(healed, field_map, strict=False)
    assert again.columns == first.columns
    assert again.renames == ()


@settings(max_examples=EXAMPLES, deadline=None)
@given(drifted_headers())
def test_a_header_that_already_names_every_mapped_column_is_left_as_it_is(case):
    header, field_map = case
    header = list(field_map) + [h for h in header if h not in field_map]
    match = match_headers(header, field_map, strict=False)
    assert match.columns == {k: i for i, k in enumerate(field_map)}
    assert match.renames == ()


# -- values -----------------------------------------------------------------------------------

CANONICAL = {
    "integer": st.integers(-10**12, 10**12).map(str),
    "number": st.floats(-1e9, 1e9, allow_nan=False).map(repr),
    "boolean": st.sampled_from(["true", "false"]),
    "date": st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(date.isoformat),
    "datetime": st.datetimes(datetime(1990, 1, 1), datetime(2090, 1, 1)).map(
        lambda d: d.replace(microsecond=0).isoformat() + "Z"),
    "year": st.integers(1000, 9999).map(str),
}


def _judge(ftype: str, values: list[str], declared: bool = False):
    """`declared`: the mapping's sourceFields say the column holds `ftype` values."""
    f = Field("v", ftype)
    schema = TableSchema(fields=(f,), primary_key=("v",))
    plan = ImportPlan(field_map={"v": "v"}, source_fields={"v": ftype} if declared else {})
    fmt = choose_column_formats(schema, plan, ("v",), {"v": values})["v"]
    rule = make_rule(f, "v", False, False, fmt, ("",), None)
    return fmt, [evaluate(rule, v) for v in values]


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.sampled_from(sorted(CANONICAL)).flatmap(
    lambda t: st.tuples(st.just(t), st.lists(CANONICAL[t], min_size=1, max_size=30))), st.booleans())
def test_a_column_of_valid_values_is_never_healed(case, declared):
    ftype, values = case
    fmt, results = _judge(ftype, values, declared)
    assert fmt == PLAIN
    plain = make_rule(Field("v", ftype), "v", False, False, PLAIN, ("",), None)
    for raw, result in zip(values, results):
        assert result.healing is Healing.NONE and result.issue is Issue.NONE
        assert result.value == evaluate(plain, raw).value


def _canonical_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


DRIFTED = {
    "date": st.dates(date(1950, 1, 1), date(2050, 12, 31)).map(lambda d: d.strftime("%d/%m/%Y")),
    "number": st.integers(0, 10**7).map(lambda c: f"{c // 100:,}".replace(",", ".")
                                        + f",{c % 100:02d}"),
    "boolean": st.sampled_from(["Yes", "No", "y", "N", "1", "0"]),
    "integer": st.integers(-10**6, 10**6).map(lambda i: f" {i} "),
}


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.sampled_from(sorted(DRIFTED)).flatmap(
    lambda t: st.tuples(st.just(t), st.lists(DRIFTED[t], min_size=1, max_size=30))), st.booleans())
def test_healing_a_drifted_column_twice_changes_nothing_more(case, declared):
    ftype, values = case
    _, first = _judge(ftype, values, declared)
    assert all(r.issue is Issue.NONE for r in first)
    healed = [_canonical_text(r.value) for r in first]
    fmt, second = _judge(ftype, healed, declared)
    assert fmt == PLAIN
    assert [r.value for r in second] == [r.value for r in first]
    assert all(r.healing is Healing.NONE for r in second)


JUNK = st.sampled_from(["n/a", "unknown", "--", "later", "?"])


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.sampled_from(["date", "number"]).flatmap(lambda t: st.tuples(st.just(t), st.lists(
    st.one_of(CANONICAL[t].map(lambda v: ("valid", v)), DRIFTED[t].map(lambda v: ("drifted", v)),
              JUNK.map(lambda v: ("junk", v))), min_size=1, max_size=30))))
def test_a_declared_column_keeps_every_valid_value_and_heals_only_a_majority_layout(case):
    ftype, tagged = case
    values = [v for _, v in tagged]
    fmt, results = _judge(ftype, values, declared=True)
    plain = make_rule(Field("v", ftype), "v", False, False, PLAIN, ("",), None)
    for (kind, raw), result in zip(tagged, results):
        if kind == "valid":
            assert result.issue is Issue.NONE and result.value == evaluate(plain, raw).value
        if kind == "junk":
            assert result.issue is not Issue.NONE
    if fmt != PLAIN:
        accepted = sum(r.issue is Issue.NONE for r in results)
        assert accepted * 2 > len(values), "a declared layout still needs most of the values"


# -- proposals --------------------------------------------------------------------------------

from lading.domain.proposal_changes import apply_proposal  # noqa: E402
from lading.domain.proposals import compatible_changes, propose_fixes  # noqa: E402
from lading.domain.reference_validator import validate_rows  # noqa: E402

PROPOSAL_SCHEMA = TableSchema.from_dict({"primaryKey": ["id"], "fields": [
    {"name": "id", "type": "integer"},
    {"name": "joined", "type": "date"},
    {"name": "total", "type": "number"},
    {"name": "vip", "type": "boolean"},
    {"name": "tier", "type": "string", "constraints": {"enum": ["gold", "silver"]}},
]})
CELLS = {
    "id": st.integers(1, 12).map(str),
    "joined": st.sampled_from(["2024-01-05", "05/01/2024", "5 Sept 2024", "17.05.2023", "31/02/2024",
                               "13/13/2024", "", "soon", "2024/05/17", "Jan 5 2024"]),
    "total": st.sampled_from(["1.5", "1.234,50", "7,25", "$3.00", "12 €", "x", "", "1,5", "1 234,5"]),
    "vip": st.sampled_from(["true", "false", "yes", "ja", "Nein", "oui", "maybe", "", "X"]),
    "tier": st.sampled_from(["gold", "silver", "Gold", "SILVER", "gould", "silvr", "zinc", ""]),
}


def _validate(plan, rows):
    result = validate_rows(PROPOSAL_SCHEMA, plan, list(CELLS), list(enumerate(rows, start=1)))
    labels = {} if result.vplan is None else result.vplan.column_format_labels
    keys = {(o.values["id"],) for o in result.outcomes if o.accepted}
    return (sum(o.accepted for o in result.outcomes),
            [o.error_entry() for o in result.outcomes if not o.accepted], labels, keys)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.sampled_from(["balanced", "strict"]),
       st.lists(st.tuples(*CELLS.values()).map(list), min_size=1, max_size=25))
def test_each_proposed_change_recovers_exactly_what_its_approved_rerun_recovers(mode, rows):
    plan = ImportPlan.from_dict({"importMode": mode}, PROPOSAL_SCHEMA)
    valid, errors, labels, keys = _validate(plan, rows)
    proposal = propose_fixes(PROPOSAL_SCHEMA, plan, errors, len(errors), labels, valid,
                             valid_keys=lambda wanted: keys & set(wanted))

    def rerun(changes):
        approved = apply_proposal(plan.to_dict(), {"changes": changes})
        return _validate(ImportPlan.from_dict(approved, PROPOSAL_SCHEMA), rows)[0] - valid

    changes = [c for c in proposal["changes"] if c["kind"] != "delete_invalid_rows"]
    for change in changes:
        event(change["kind"])
        assert rerun([change]) == change["recoversRows"], change
    assert rerun(compatible_changes(changes)) == proposal["recoversRows"]
