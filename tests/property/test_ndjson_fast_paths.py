"""NDJSON's fast paths (ADR 0110) are shortcuts only: a block whose lines are all objects is
decoded in one pass, text and boolean fields become Arrow in one struct conversion, mixed
fields are split by masks; each gives what the line-by-line reader and the per-value split
give, and a block with a bad line still reports exactly that line."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lading.adapters.readers.msgspec_ndjson as ndjson
from lading.adapters.arrow_engine import ArrowValidationEngine
from lading.adapters.pyarrow_validator import _EXACT_INT, _NATIVE_PY, SourceColumn, _classify, _exact_json
from lading.adapters.readers import NdjsonSource, RecordsChunk, SourceLimits
from lading.application.ports import SourceFile
from lading.domain.errors import SourceUnreadable
from lading.domain.field_rules import PLAIN, make_rule
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import Field, TableSchema

EXAMPLES = int(os.environ.get("LADING_TEST_PROPERTY_EXAMPLES") or (300 if os.environ.get("CI") else 60))
TYPES = ["string", "integer", "number", "boolean", "date", "datetime", "time", "year"]


def read(path: Path, block_size: int, limits: SourceLimits = SourceLimits()) -> list[RecordsChunk]:
    source = NdjsonSource(path, False, "utf-8", False, block_size, False, limits)
    source.open()
    try:
        return list(source.chunks())
    finally:
        source.close()


def outcome(chunks: list[RecordsChunk]) -> tuple:
    """What a reading yields, chunk boundaries aside."""
    numbers = [int(n) for c in chunks for n in c.row_numbers]
    records = [r for c in chunks for r in c.records]
    bad = [(b.row_number, b.kind, b.text, b.message) for c in chunks for b in c.bad_rows]
    return numbers, records, sorted(bad), [c.nul for c in chunks if c.num_rows]


def line_by_line(path: Path, block_size: int, monkeypatch) -> tuple:
    with monkeypatch.context() as patch:
        patch.setattr(ndjson, "_lines_of_objects", lambda body, decode_lines: None)
        patch.setattr(ndjson, "_objects", lambda lines, decode: None)
        return outcome(read(path, block_size))


LINES = st.sampled_from([
    b'{"id": 1, "name": "a"}', b'{"id": 2}', b"{}", b'{"name": "\\u0000"}', b"", b"   ", b"\t",
    b"\x0c", b"[1, 2]", b"5", b'"text"', b"null", b"{bad", b'{"a": 1}{"b": 2}', b'{"a": 1},{"b": 2}',
    b'{"a": [1', b'2]}', b' {"id": 3} ', b'{"id": 4}\x0c', b'{"\xc3\xa9": "\xe2\x80\xa8"}',
    b'{"deep": ' + b"[" * 2000 + b"]" * 2000 + b"}", b'{"a": [{"x": 1}', b'{"y": 2}]}',
    b'{"p": 1} {"q": 2}', b'{"p": 1}{"q": 2}', b'{"id": 5, "name": "b"}', b'{"id": 6, "tags": [1, {}]}',
])
ENDINGS = st.sampled_from([b"\n", b"\r\n", b"\r"])


@settings(max_examples=EXAMPLES * 2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(LINES, ENDINGS), max_size=40), st.booleans(), st.integers(16, 400),
       st.booleans())
def test_reading_a_block_at_once_yields_what_reading_it_line_by_line_yields(monkeypatch, lines, last_end,
                                                                            block_size, lf_only):
    if lf_only:  # the usual file: LF endings, so blocks take the one-call decode
        lines = [(text, b"\n") for text, _ in lines]
    data = b"".join(text + end for text, end in lines)
    if lines and not last_end:
        data = data[: -len(lines[-1][1])]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.ndjson"
        path.write_bytes(data)
        assert outcome(read(path, block_size)) == line_by_line(path, block_size, monkeypatch)


@pytest.mark.parametrize("lines", [
    [b'{"a": [{"x": 1}', b'{"y": 2}]}', b'{"p": 1} {"q": 2}'],  # a value over two lines, two on one
    [b'{"a": 1}', b"", b'{"p": 1} {"q": 2}'],  # a blank line, two values on one line
    [b'{"a": 1}', b'{"p": 1}{"q": 2}', b'{"b": ', b'2}'],
])
def test_lines_that_decode_as_as_many_values_as_lines_are_still_judged_line_by_line(tmp_path, monkeypatch,
                                                                                   lines):
    path = tmp_path / "tricky.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    numbers, _, bad, _ = outcome(read(path, 1 << 20))
    assert outcome(read(path, 1 << 20)) == line_by_line(path, 1 << 20, monkeypatch)
    assert len(numbers) + len(bad) == sum(1 for line in lines if line)


def test_one_bad_line_among_good_ones_is_that_line_alone(tmp_path, monkeypatch):
    lines = [json.dumps({"id": i, "name": f"n{i}"}).encode() for i in range(1, 301)]
    lines[156] = b'{"id": 157, "name": '  # line 157, in a block of good lines
    path = tmp_path / "one-bad.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    chunks = read(path, 4096)
    numbers, records, bad, _ = outcome(chunks)
    assert numbers == [n for n in range(1, 301) if n != 157]
    assert [r["id"] for r in records] == numbers
    assert bad == [(157, "malformed", '{"id": 157, "name": ', ndjson.NOT_JSON)]
    assert sum(1 for c in chunks if c.bad_rows) == 1  # only that block went line by line
    assert outcome(chunks) == line_by_line(path, 4096, monkeypatch)

    schema = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                               {"name": "name", "type": "string"}],
                                    "primaryKey": ["id"]})
    error_file = tmp_path / "work" / "errors.jsonl"
    validated = list(ArrowValidationEngine(block_size=4096).validate(
        SourceFile(path, path.name), schema, ImportPlan.from_dict({}, schema), tmp_path / "work",
        error_file))
    errors = [json.loads(line) for line in error_file.read_bytes().splitlines()]
    assert sum(c.valid_rows for c in validated) == 299
    assert [(e["rowNumber"], e["code"]) for e in errors] == [(157, "MALFORMED_ROW")]


def test_an_object_wider_than_the_column_limit_fails_on_the_fast_path_too(tmp_path):
    path = tmp_path / "wide.ndjson"
    path.write_bytes(b'{"a": 1}\n' + json.dumps({f"k{i}": i for i in range(6)}).encode() + b"\n")
    with pytest.raises(SourceUnreadable, match="more than 5 columns"):
        read(path, 1 << 20, SourceLimits(max_columns=5))


# -- the validator's split of a field's values ------------------------------------------------

def per_value(rule_type: str, values: list) -> tuple[list, list, dict]:
    """The specification of the split: text, the field's own JSON type (an integer within
    2**53 only, unless every value is of that type and converts), and everything else."""
    native = _NATIVE_PY.get(rule_type, ())
    kinds = {type(v) for v in values} - {type(None)}
    if kinds <= {str}:
        return values, [None] * len(values), {}
    if native and kinds <= set(native):
        try:
            return [None] * len(values), pa.array(values, _arrow(rule_type)).to_pylist(), {}
        except (OverflowError, pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    texts, natives, others = [None] * len(values), [None] * len(values), {}
    for i, v in enumerate(values):
        if v is None:
            continue
        if type(v) is str:
            texts[i] = v
        elif type(v) in native and (type(v) is not int or -_EXACT_INT < v < _EXACT_INT):
            natives[i] = v
        else:
            others[i] = v
    return texts, pa.array(natives, _arrow(rule_type)).to_pylist(), others


def _arrow(rule_type: str) -> pa.DataType:
    from lading.adapters.arrow_types import arrow_type
    return arrow_type(Field("v", rule_type))


def split_of(col: SourceColumn, n: int) -> tuple[list, list, dict]:
    texts = col.text.to_pylist() if col.text is not None else [None] * n
    natives = col.native.to_pylist() if col.native is not None else [None] * n
    return texts, natives, dict(col.others)


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b or (a is None and b is None)


VALUES = st.one_of(
    st.none(), st.text(max_size=4), st.booleans(), st.floats(allow_nan=False),
    st.integers(-(2**70), 2**70), st.sampled_from([2**53, -(2**53), 2**53 - 1, 2**63 - 1, 2**63, 0, 1.0]),
    st.just({"a": 1}), st.just([1, "x"]),
)


@settings(max_examples=EXAMPLES * 3, deadline=None)
@given(st.sampled_from(TYPES), st.lists(st.one_of(VALUES, st.just(KeyError)), max_size=30),
       st.sampled_from(["one kind", "mixed"]))
def test_a_fields_values_split_as_the_per_value_rule_splits_them(rule_type, drawn, shape):
    if shape == "one kind" and drawn:
        kind = type(drawn[0])
        drawn = [v for v in drawn if type(v) is kind or v is None]
    records = [{} if v is KeyError else {"v": v} for v in drawn]
    values = [r.get("v") for r in records]
    rule = make_rule(Field("v", rule_type), "v", False, False, PLAIN, ("",), None)
    expected = per_value(rule_type, values)

    col = SourceColumn(n=len(values))
    _classify(rule, values, col)
    got = split_of(col, len(values))
    assert all(same(a, b) for x, y in zip(got[:2], expected[:2]) for a, b in zip(x, y)), (got, expected)
    assert got[2].keys() == expected[2].keys()

    chunk = RecordsChunk(row_numbers=np.arange(1, len(records) + 1), records=records)
    exact = _exact_json([rule], ["v"], {"v": 0}, chunk)
    if "v" in exact:  # the one-pass conversion took it: the same split, values shown as given
        fast = split_of(exact["v"], len(values))
        assert all(same(a, b) for x, y in zip(fast[:2], expected[:2]) for a, b in zip(x, y)), (fast, expected)
        assert not expected[2] and not fast[2]
        assert list(exact["v"].given) == values
    else:  # only numbers (pyarrow would take 1.5 as an integer) and fields of other kinds
        kinds = {type(v) for v in values if v is not None}
        assert rule_type in ("integer", "number", "year") or \
            not kinds <= ({bool} if rule_type == "boolean" else {str})


# -- objects decoded into a Struct of the keys seen before (ADR 0131) ---------------------------

KEYS = ["id", "name", "é k", "", "n"]
OBJECT_VALUES = st.one_of(st.none(), st.text(max_size=3), st.booleans(), st.integers(-(2**70), 2**70),
                          st.floats(allow_nan=False, allow_infinity=False), st.just([1, {"x": None}]),
                          st.just({"a": "b"}))
OBJECTS = st.lists(st.dictionaries(st.sampled_from(KEYS), OBJECT_VALUES, max_size=5), min_size=1,
                   max_size=12)


def _block(objects: list[dict]) -> bytes:
    return b"".join(json.dumps(o, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
                    for o in objects)


def _decoded(body: bytes, shape: ndjson.ObjectShape | None) -> RecordsChunk:
    origin = ndjson.LinesOrigin(body, 0, False, False)
    return ndjson.decode_lines_block(origin, ndjson.msgspec.json.Decoder(), SourceLimits(), None, shape)


@settings(max_examples=EXAMPLES * 2, deadline=None)
@given(OBJECTS, OBJECTS, st.lists(st.sampled_from(KEYS + ["absent"]), max_size=6),
       st.sampled_from([pa.string(), pa.bool_()]))
def test_a_block_of_known_keys_read_into_a_struct_reads_as_the_dicts_do(first, then, asked, exact_type):
    shape = ndjson.ObjectShape(SourceLimits().max_columns)
    learned = _decoded(_block(first), shape)
    assert type(learned) is RecordsChunk  # nothing was known: decoded into dicts, and learned
    known = set(shape.keys)
    then = [{k: v for k, v in o.items() if k in known} for o in then]  # only keys seen before
    body = _block(then)
    fast, plain = _decoded(body, shape), _decoded(body, None)
    assert isinstance(fast, ndjson.StructRecordsChunk) and type(plain) is RecordsChunk
    header = KEYS + ["absent"]
    for position, key in enumerate(header):
        assert fast.column(position, header) == plain.column(position, header)
        assert list(fast.given_values(key)) == list(plain.given_values(key))
        assert fast.given_values(key)[1:3] == plain.given_values(key)[1:3]
    types = {key: exact_type for key in asked}
    assert {k: v.to_pylist() for k, v in fast.exact_columns(types).items()} == \
        {k: v.to_pylist() for k, v in plain.exact_columns(types).items()}
    rows = list(range(len(then)))
    assert fast.source_rows(rows, header) == plain.source_rows(rows, header)
    assert fast.records == plain.records and list(fast.row_numbers) == list(plain.row_numbers)


def test_a_block_with_a_key_not_seen_before_is_read_into_dicts_and_teaches_the_key():
    shape = ndjson.ObjectShape(SourceLimits().max_columns)
    _decoded(b'{"id":1}\n', shape)
    novel = _decoded(b'{"id":2,"new":"x"}\n', shape)
    assert type(novel) is RecordsChunk and novel.records == [{"id": 2, "new": "x"}]
    again = _decoded(b'{"new":"y"}\n', shape)
    assert isinstance(again, ndjson.StructRecordsChunk)
    assert again.column(1, ["id", "new"]) == ["y"] and again.column(0, ["id", "new"]) == [None]


@pytest.mark.parametrize("objects", [
    [{f"k{i}": i} for i in range(40)],  # sparse: each object holds one of many keys
    [{'a"b': 1}], [{"a\\b": 1}], [{"a\nb": 1}],  # keys msgspec cannot name a field after
], ids=["sparse", "quote", "backslash", "control"])
def test_objects_a_struct_would_not_fit_stay_dicts(objects):
    shape = ndjson.ObjectShape(SourceLimits().max_columns)
    _decoded(_block(objects), shape)
    assert shape.struct is None
    assert type(_decoded(_block(objects), shape)) is RecordsChunk
