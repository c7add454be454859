"""A list's or an audience's member is the compact JSON object of a row's primary key, exactly
as `json.dumps(..., separators=(",", ":"), ensure_ascii=False)` writes it: members stored by
earlier versions must keep comparing equal (ADR 0037, 0065)."""

from __future__ import annotations

import json
from datetime import UTC

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from lading.adapters.arrow_chunks import member_keys, prepare_chunk
from lading.adapters.arrow_types import arrow_schema
from lading.domain.table_schema import TableSchema

SCHEMA = TableSchema.from_dict({"primaryKey": ["code", "n", "seen", "born"], "fields": [
    {"name": "code", "type": "string"}, {"name": "n", "type": "integer"},
    {"name": "seen", "type": "datetime"}, {"name": "born", "type": "date"},
    {"name": "other", "type": "string"}]})
ROWS = st.lists(st.fixed_dictionaries({
    "code": st.text(min_size=1, max_size=8), "n": st.integers(-2**63, 2**63 - 1),
    "seen": st.datetimes(timezones=st.just(UTC)), "born": st.dates(), "other": st.text(max_size=3),
}), min_size=1, max_size=20, unique_by=lambda r: (r["code"], r["n"], r["seen"], r["born"]))


def _reference(row: dict) -> str:
    seen = row["seen"].astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    key = {"code": row["code"], "n": row["n"], "seen": seen, "born": row["born"].isoformat()}
    return json.dumps(key, separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=60, deadline=None)
@given(ROWS)
def test_member_keys_are_the_compact_json_of_the_key_fields(rows):
    chunk = prepare_chunk(SCHEMA, "upsert", pa.Table.from_pylist(rows, schema=arrow_schema(SCHEMA)))
    assert sorted(member_keys(chunk)) == sorted(_reference(r) for r in rows)
