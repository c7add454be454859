"""Approved fixes (number format, boolean words, value maps, setValue, date layout) are applied
by the vectorised engine exactly as by the reference, value for value (issue 10 point 2)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lading.domain.plan import ImportPlan
from lading.domain.reference_validator import validate_rows
from lading.domain.table_schema import TableSchema
from tests.integration.test_arrow_engine import validate

EXAMPLES = int(os.environ.get("LADING_TEST_PROPERTY_EXAMPLES") or (300 if os.environ.get("CI") else 40))
SCHEMA = TableSchema.from_dict({"primaryKey": ["id"], "fields": [
    {"name": "id", "type": "integer"},
    {"name": "total", "type": "number"},
    {"name": "count", "type": "integer"},
    {"name": "vip", "type": "boolean"},
    {"name": "joined", "type": "date"},
    {"name": "tier", "type": "string", "constraints": {"enum": ["gold", "silver"]}},
    {"name": "country", "type": "string"},
]})
HEADER = ["id", "total", "count", "vip", "joined", "tier", "country"]
CELLS = [
    st.integers(1, 40).map(str),
    st.sampled_from(["1.234,5", "7,25", "1.5", "12", "-3,0", "€ 4,00", "1 234,5", "x", "", " 2,5 "]),
    st.sampled_from(["1.234", "12", "1,0", "-7", "1.234.567", "3.5", "", "a"]),
    st.sampled_from(["ja", "nein", "Ja", "true", "yes", "0", "x", "", "vielleicht"]),
    st.sampled_from(["05/01/2024", "31/02/2024", "2024-01-05", "5/1/24", "", "soon"]),
    st.sampled_from(["gold", "Gold", "gould", "silvr", "zinc", ""]),
    st.sampled_from(["FR", "", "de", "xx"]),
]
FIXES = st.fixed_dictionaries({}, optional={
    "total": st.sampled_from([{"numberFormat": {"decimal": ",", "group": "."}},
                              {"numberFormat": {"decimal": ",", "group": " "}},
                              {"numberFormat": {"decimal": ",", "group": "", "currency": "€"}}]),
    "count": st.sampled_from([{"numberFormat": {"decimal": ",", "group": "."}},
                              {"numberFormat": {"decimal": ".", "group": ","}}]),
    "vip": st.sampled_from([{"booleanWords": {"true": ["ja", "Ja"], "false": ["nein"]}},
                            {"booleanWords": {"true": ["x"]}, "enumMap": {"vielleicht": "false"}}]),
    "joined": st.sampled_from([{"dateFormat": "%d/%m/%Y"}, {"dateFormat": "%d/%m/%y"}]),
    "tier": st.sampled_from([{"enumMap": {"gould": "gold", "silvr": "silver"}}]),
    "country": st.sampled_from([{"setValue": "FR"}, {"setValue": "DE"}]),
})


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["balanced", "strict", "landing_friendly"]), FIXES,
       st.lists(st.tuples(*CELLS).map(list), min_size=1, max_size=30))
def test_the_engine_applies_approved_fixes_exactly_as_the_reference(mode, fixes, rows):
    plan = {"importMode": mode, "fixes": fixes}
    reference = validate_rows(SCHEMA, ImportPlan.from_dict(plan, SCHEMA), HEADER,
                              list(enumerate(rows, start=1)))
    data = (",".join(HEADER) + "\n" + "".join(
        ",".join(f'"{c}"' if "," in c else c for c in r) + "\n" for r in rows)).encode()
    with tempfile.TemporaryDirectory() as tmp:
        run = validate(Path(tmp), "f.csv", data, schema=SCHEMA, plan=plan)
        assert run.rows() == [o.values for o in reference.outcomes if o.accepted]
        assert run.errors == [o.error_entry() for o in reference.outcomes if not o.accepted]
