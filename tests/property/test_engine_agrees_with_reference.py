"""The vectorised engine and the plain-Python reference agree on every row.

Hypothesis generates schemas, plans (approved fixes included: date layouts, enum maps) and rows,
nasty values included (empty, whitespace, huge numbers, leap days, unicode, quotes and
delimiters inside values, whole columns in another date or number layout, ragged rows,
duplicate keys), writes them as CSV, NDJSON or typed Parquet, and checks that
the engine's error file equals the reference's error entries line for line, that the staged
rows equal the reference's accepted values in order, and that the counters agree.

At least 500 examples (Parquet: 250) when CI is set; fewer locally (LADING_TEST_PROPERTY_EXAMPLES
overrides).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
from collections import Counter
from datetime import date, datetime, time, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lading.adapters.arrow_engine import ArrowValidationEngine
from lading.application.ports import SourceFile
from lading.domain.plan import ImportPlan
from lading.domain.reference_validator import validate_rows
from lading.domain.table_schema import TableSchema

pytestmark = pytest.mark.slow  # hundreds of engine runs each in CI
EXAMPLES = int(os.environ.get("LADING_TEST_PROPERTY_EXAMPLES") or (500 if os.environ.get("CI") else 60))
# Parquet shares the generator with CSV and NDJSON, so half as many examples cover its typed
# columns while the whole file stays within about two minutes in CI.
PARQUET_EXAMPLES = max(20, EXAMPLES // 2)

NASTY = st.sampled_from([
    "", " ", "  ", "\t", "N/A", "null", "-", "0", "-0", "+0", "00", "1e3", "1E-2", ".5", "5.",
    "1,5", "1.234,50", "1,234.50", "$12.00", "12 €", "99999999999999999999", "-9223372036854775808",
    "9223372036854775807", "1e400", "nan", "inf", "true", "FALSE", "yes", "N", "2024-02-29",
    "2023-02-29", "2023-02-30", "1900-02-29", "0000-01-01", "9999-12-31", "31/12/1999", "12/31/1999",
    "5 Jan 2024", "20240105", "2023-05-17T10:00:00Z", "2023-05-17T10:00:00+05:30", "2023-05-17 10:00",
    "2023-05-17T24:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "23:59:59.999999",
    "24:00", "1999", "a@b.co", "a@@b.co", " a@b.co", "a@b", "x y@b.co", "https://x.io/a b",
    "mailto:a@b.co", "123e4567-e89b-12d3-a456-426614174000", "ü", "Ωmega", "名前", "😀", "a,b",
    'say "hi"', "line\nbreak", "cr\rhere", "semi;colon", "pipe|bar", "tab\there", "free", "Free",
    "PRO", "pro", "enterprise", "\u00a0", "\u2028", "٣", "１２", " 7 ", "7.0", "7.5", "nul\x00here",
])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=12)

TYPES = ["string", "integer", "number", "boolean", "date", "datetime", "time", "year"]
PATTERNS = ["[A-Z]{2}", "[a-z]+", "[0-9]{3}-[0-9]{4}", "\\w+", "(a|b)*c", ".{1,3}", "[^,]*"]


@st.composite
def fields(draw, name: str) -> dict:
    ftype = draw(st.sampled_from(TYPES))
    field: dict = {"name": name, "type": ftype}
    if ftype == "string":
        field["format"] = draw(st.sampled_from(["default", "default", "email", "uri", "uuid"]))
    constraints: dict = {}
    if draw(st.booleans()):
        constraints["required"] = True
    if ftype == "string" and field["format"] == "default":
        choice = draw(st.integers(0, 4))
        if choice == 1:
            constraints["enum"] = ["free", "pro", "enterprise"]
        elif choice == 2:
            constraints["pattern"] = draw(st.sampled_from(PATTERNS))
        elif choice == 3:
            constraints["minLength"] = draw(st.integers(0, 3))
            constraints["maxLength"] = draw(st.integers(3, 8))
    if ftype in ("integer", "number") and draw(st.booleans()):
        constraints["minimum"] = draw(st.sampled_from([0, -5, 1.5]))
        constraints["maximum"] = draw(st.sampled_from([100, 1e9, 10]))
    if ftype == "date" and draw(st.booleans()):
        constraints["minimum"] = "2000-01-01"
    if ftype in ("integer", "string") and draw(st.integers(0, 5)) == 0:
        constraints["unique"] = True
    if ftype == "integer" and draw(st.integers(0, 6)) == 0:
        constraints["enum"] = [1, 2, 3]
    if constraints:
        field["constraints"] = constraints
    return field


def canonical_value(draw, ftype: str, fmt: str) -> str:
    if ftype == "integer":
        return str(draw(st.integers(-(2**63) - 3, 2**63 + 3) | st.integers(-20, 200)))
    if ftype == "number":
        value = draw(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-1000, 1000).map(float))
        return draw(st.sampled_from([repr(value), f"{value:.2f}", str(int(value)) if abs(value) < 1e15 else repr(value)]))
    if ftype == "boolean":
        return draw(st.sampled_from(["true", "false"]))
    if ftype == "date":
        return draw(st.dates()).isoformat()
    if ftype == "datetime":
        moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
        zone = draw(st.sampled_from(["Z", "", "+02:00", "-11:30"]))
        return moment.isoformat(timespec=draw(st.sampled_from(["seconds", "minutes", "microseconds"]))) + zone
    if ftype == "time":
        return draw(st.times()).isoformat()
    if ftype == "year":
        return f"{draw(st.integers(0, 9999)):04d}"
    if fmt == "email":
        return draw(st.sampled_from(["a@b.co", "first.last@example.org", "x_1@sub.example.co.uk"]))
    if fmt == "uri":
        return draw(st.sampled_from(["https://example.com/", "urn:isbn:123", "ftp://x.y/z"]))
    if fmt == "uuid":
        return "123e4567-e89b-12d3-a456-42661417400" + str(draw(st.integers(0, 9)))
    return draw(TEXT)


DATE_LAYOUTS = ["%d/%m/%Y", "%m/%d/%Y", "%d %b %Y", "%d.%m.%y", "%Y%m%d"]
DATETIME_LAYOUTS = ["%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S"]


def column_layout(draw, ftype: str):
    """Sometimes a whole column uses another layout, which the column healing should find.
    A layout's strftime label is kept on the generator (`.label`), for approved fixes."""
    if ftype == "date" and draw(st.integers(0, 4)) == 0:
        layout = draw(st.sampled_from(DATE_LAYOUTS))

        def day() -> str:
            return draw(st.dates(min_value=date(1950, 1, 1), max_value=date(2049, 12, 31))).strftime(layout)
        day.label = layout
        return day
    if ftype == "datetime" and draw(st.integers(0, 4)) == 0:
        layout = draw(st.sampled_from(DATETIME_LAYOUTS))

        def moment() -> str:
            return draw(st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2049, 1, 1))
                        ).strftime(layout)
        moment.label = layout
        return moment
    if ftype == "number" and draw(st.integers(0, 4)) == 0:
        style = draw(st.sampled_from(["comma", "dotgroup", "currency"]))

        def number() -> str:
            value = draw(st.integers(-10**7, 10**7)) / 100
            text = f"{value:,.2f}"
            if style == "comma":
                return text.replace(",", "").replace(".", ",")
            if style == "dotgroup":
                return text.replace(",", "#").replace(".", ",").replace("#", ".")
            return "$" + text
        return number
    return None


@st.composite
def sources(draw):
    key_type = draw(st.sampled_from(["integer", "string"]))
    extra = draw(st.lists(st.integers(0, 0), min_size=0, max_size=4))
    schema_fields = [{"name": "k", "type": key_type}] + [draw(fields(f"f{i}")) for i in range(len(extra))]
    composite = len(schema_fields) > 1 and draw(st.integers(0, 5)) == 0 and \
        schema_fields[1]["type"] in ("integer", "string", "date")
    pk = ["k", "f0"] if composite else ["k"]
    missing = draw(st.sampled_from([None, None, ["", "N/A"], ["-"]]))
    descriptor = {"fields": schema_fields, "primaryKey": pk}
    if missing is not None:
        descriptor["missingValues"] = missing
    schema = TableSchema.from_dict(descriptor)

    columns = {f["name"]: f["name"] for f in schema_fields}
    renamed = {name: draw(st.sampled_from([name, name.upper(), f" {name} ", name.replace("f", "F-")]))
               for name in columns}
    unused = draw(st.lists(st.sampled_from(["extra", "notes"]), unique=True, max_size=2))
    mode = draw(st.sampled_from(["balanced", "balanced", "strict", "landing_friendly"]))
    if mode == "strict":
        unused = []
    header = [renamed[n] for n in columns] + unused
    order = draw(st.permutations(range(len(header))))
    header = [header[i] for i in order]
    plan = {"importMode": mode, "operation": draw(st.sampled_from(["upsert", "upsert", "insert", "update", "delete"])),
            "fieldMap": {n: n for n in columns}}

    layouts = {f["name"]: column_layout(draw, f["type"]) for f in schema_fields}
    fixes = approved_fixes(draw, schema_fields, layouts)
    if fixes:
        plan["fixes"] = fixes
    n_rows = draw(st.integers(0, 25))
    keys = [canonical_value(draw, key_type, "default") for _ in range(max(1, n_rows // 3))]
    rows = []
    for _ in range(n_rows):
        cells = {}
        for f in schema_fields:
            name, ftype, fmt = f["name"], f["type"], f.get("format", "default")
            kind = draw(st.integers(0, 9))
            if name == "k" and kind < 7:
                value = draw(st.sampled_from(keys))
            elif layouts[name] is not None and kind < 8:
                value = layouts[name]()
            elif kind < 6:
                value = canonical_value(draw, ftype, fmt)
            elif kind < 9:
                value = draw(NASTY)
            else:
                value = draw(TEXT)
            cells[name] = value
        for u in unused:
            cells[u] = draw(NASTY | TEXT)
        row = [cells[h] if h in cells else cells[next(n for n in columns if renamed[n] == h)]
               for h in header]
        if draw(st.integers(0, 15)) == 0:
            row = row[:-1] if len(row) > 1 and draw(st.booleans()) else row + ["spare"]
        rows.append(row)
    block = draw(st.sampled_from([64, 300, 1 << 20]))
    return schema, plan, header, rows, block


def approved_fixes(draw, schema_fields: list[dict], layouts: dict) -> dict:
    """Fixes as an approved proposal puts them in the plan: a date layout for a column (often
    the one it uses, sometimes another) and enum maps, some of whose targets break the enum."""
    fixes: dict = {}
    for f in schema_fields:
        name, ftype = f["name"], f["type"]
        if draw(st.integers(0, 3)) != 0:
            continue
        if ftype in ("date", "datetime"):
            layout = getattr(layouts[name], "label", None)
            candidates = DATE_LAYOUTS if ftype == "date" else DATETIME_LAYOUTS
            fixes[name] = {"dateFormat": layout if layout and draw(st.booleans())
                           else draw(st.sampled_from(candidates))}
        elif ftype == "string" and "enum" in f.get("constraints", {}):
            fixes[name] = {"enumMap": draw(st.dictionaries(
                st.sampled_from(["Free", "PRO", "gold", "yes", "N/A", " free", "Ωmega", ""]),
                st.sampled_from(["free", "pro", "enterprise", "platinum"]), max_size=4))}
        elif ftype == "integer" and draw(st.booleans()):
            fixes[name] = {"enumMap": {"one": "1", "two": "2", "many": "x9"}}
    return fixes


def lookup(keys: list[tuple]) -> set[tuple]:
    """A stand-in destination: a key exists when its text has an even length."""
    return {k for k in keys if len(repr(k)) % 2 == 0}


def run_engine(tmp: Path, name: str, data: bytes, schema, plan, block) -> tuple[list, list, dict]:
    source = tmp / name
    source.write_bytes(data)
    # Parquet batches are rows, not bytes: small blocks give small batches, many chunks
    engine = ArrowValidationEngine(block_size=block, parquet_batch_rows=max(2, block // 40))
    chunks = list(engine.validate(SourceFile(source, name), schema, plan, tmp / "w", tmp / "w" / "e.jsonl",
                                  lookup if plan.operation != "upsert" else None))
    entries = [json.loads(line) for line in (tmp / "w" / "e.jsonl").read_text("utf-8").splitlines()] \
        if (tmp / "w" / "e.jsonl").exists() else []
    rows = [r for c in chunks if c.staged_path for r in engine.load_chunk(c.staged_path).to_pylist()]
    totals = {"read": sum(c.read_rows for c in chunks), "valid": sum(c.valid_rows for c in chunks),
              "codes": sum((Counter(c.rejected_by_code) for c in chunks), Counter()),
              "warnings": sum((Counter(c.warnings_by_field) for c in chunks), Counter()),
              "healed": sum((Counter({(f, k): n for f, kinds in c.healed_by_field.items()
                                      for k, n in kinds.items()}) for c in chunks), Counter())}
    return entries, rows, totals


def check_agreement(schema, plan, header, numbered, engine_result) -> None:
    entries, rows, totals = engine_result
    reference = validate_rows(schema, plan, header, numbered,
                              key_lookup=lookup if plan.operation != "upsert" else None)
    expected_entries = [json.loads(json.dumps(o.error_entry(), ensure_ascii=False))
                        for o in reference.outcomes if not o.accepted]
    assert entries == expected_entries
    assert rows == [o.values for o in reference.outcomes if o.accepted]
    accepted = [o for o in reference.outcomes if o.accepted]
    assert totals["read"] == len(numbered)
    assert totals["valid"] == len(accepted)
    assert totals["codes"] == Counter(o.code for o in reference.outcomes if not o.accepted)
    assert totals["warnings"] == Counter(w for o in accepted for w in o.warnings) \
        + Counter(reference.file_warnings)
    assert totals["healed"] == Counter((f, k) for o in accepted for f, k in o.healed.items())


def csv_text(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sources())
def test_engine_agrees_with_reference_on_csv(source):
    schema, raw_plan, header, rows, block = source
    plan = ImportPlan.from_dict(raw_plan, schema)
    numbered = [(i + 1, row) for i, row in enumerate(rows)]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            result = run_engine(Path(tmp), "data.csv", csv_text(header, rows), schema, plan, block)
        except Exception as engine_error:  # both must refuse the same files
            try:
                validate_rows(schema, plan, header, numbered)
            except Exception as reference_error:
                assert type(engine_error) is type(reference_error)
                assert str(engine_error) == str(reference_error)
                event("both refuse the file")
                return
            raise
        event(f"{raw_plan['importMode']} {raw_plan['operation']}")
        check_agreement(schema, plan, header, numbered, result)


def json_value(draw_value: str, ftype: str):
    """The same cell as NDJSON would carry it: a JSON number or boolean when it parses as one."""
    if ftype in ("integer", "year", "number"):
        try:
            number = json.loads(draw_value)
            if isinstance(number, (int, float)) and not isinstance(number, bool) \
                    and math.isfinite(number):
                return number
        except ValueError:
            pass
    if ftype == "boolean" and draw_value in ("true", "false"):
        return draw_value == "true"
    return None if draw_value == "" else draw_value


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sources(), st.data())
def test_engine_agrees_with_reference_on_ndjson(source, data):
    schema, raw_plan, header, rows, block = source
    plan = ImportPlan.from_dict(raw_plan, schema)
    types = {f.name: f.type for f in schema.fields}
    objects = []
    for row in rows:
        if len(row) != len(header):
            continue  # NDJSON has no ragged rows
        obj = {}
        for name, value in zip(header, row):
            field = field_of(name, types)
            obj[name] = json_value(value, types.get(field, "string")) if data.draw(st.booleans()) else value
            if obj[name] is None and data.draw(st.booleans()):
                del obj[name]
        objects.append(obj)
    lines = [json.dumps(o, ensure_ascii=False) for o in objects]
    numbered = []
    text = []
    for obj, line in zip(objects, lines):
        if data.draw(st.integers(0, 12)) == 0:
            text.append("")
        text.append(line)
        numbered.append((len(text), json.loads(line)))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            result = run_engine(Path(tmp), "data.ndjson", "\n".join(text).encode("utf-8"), schema, plan, block)
        except Exception as engine_error:
            try:
                validate_rows(schema, plan, None, numbered)
            except Exception as reference_error:
                assert type(engine_error) is type(reference_error)
                assert str(engine_error) == str(reference_error)
                return
            raise
        check_agreement(schema, plan, None, numbered, result)


# -- typed Parquet ----------------------------------------------------------------------------

_INT64 = (-(2**63), 2**63 - 1)


def _as_int(text: str, low: int, high: int):
    if not re.fullmatch(r"-?[0-9]+", text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def _as_float(text: str):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _as_datetime(text: str, aware: bool):
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(timezone.utc)
        except OverflowError:
            return None
        if not aware:
            moment = moment.replace(tzinfo=None)
    elif aware:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _as_parsed(parse):
    def convert(text: str):
        try:
            return parse(text)
        except ValueError:
            return None
    return convert


# Parquet column types a field's values may arrive in, each with how a cell's text becomes a
# value of that type (None where it does not fit): the field's own type, close relatives the
# reference converts (and reports as healing), and text.
PARQUET_TYPES = {
    "int64": (pa.int64(), lambda t: _as_int(t, *_INT64)),
    "int32": (pa.int32(), lambda t: _as_int(t, -(2**31), 2**31 - 1)),
    "float64": (pa.float64(), _as_float),
    "bool": (pa.bool_(), lambda t: {"true": True, "false": False}.get(t)),
    "date32": (pa.date32(), _as_parsed(date.fromisoformat)),
    "timestamp_utc": (pa.timestamp("us", tz="UTC"), lambda t: _as_datetime(t, aware=True)),
    "timestamp_ms": (pa.timestamp("ms"), lambda t: _as_datetime(t, aware=False)),
    "time64": (pa.time64("us"), _as_parsed(lambda t: time.fromisoformat(t).replace(tzinfo=None))),
    "string": (pa.string(), lambda t: t),
}
TYPE_CHOICES = {
    "integer": ["int64", "int32", "float64", "string"],
    "year": ["int64", "string"],
    "number": ["float64", "int64", "string"],
    "boolean": ["bool", "int64", "string"],
    "date": ["date32", "timestamp_utc", "string"],
    "datetime": ["timestamp_utc", "timestamp_ms", "date32", "string"],
    "time": ["time64", "string"],
    "string": ["string", "string", "int64", "float64", "bool", "date32"],
}


def field_of(header_name: str, types: dict[str, str]) -> str | None:
    return next((f for f in types if f.lower() == header_name.strip().lower().replace("f-", "f")), None)


@settings(max_examples=PARQUET_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sources(), st.data())
def test_engine_agrees_with_reference_on_typed_parquet(source, data):
    schema, raw_plan, header, rows, block = source
    plan = ImportPlan.from_dict(raw_plan, schema)
    types = {f.name: f.type for f in schema.fields}
    rows = [row for row in rows if len(row) == len(header)]  # Parquet has no ragged rows
    columns = {}
    for position, name in enumerate(header):
        field = field_of(name, types)
        choice = data.draw(st.sampled_from(TYPE_CHOICES[types[field]] if field else ["string"]))
        arrow, convert = PARQUET_TYPES[choice]
        columns[name] = pa.array([convert(row[position]) for row in rows], arrow)
    table = pa.table(columns)
    numbered = [(i + 1, record) for i, record in enumerate(table.to_pylist())]
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=max(1, data.draw(st.integers(1, 30))))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            result = run_engine(Path(tmp), "data.parquet", sink.getvalue(), schema, plan, block)
        except Exception as engine_error:
            try:
                validate_rows(schema, plan, header, numbered)
            except Exception as reference_error:
                assert type(engine_error) is type(reference_error)
                assert str(engine_error) == str(reference_error)
                return
            raise
        event(f"parquet {raw_plan['importMode']} fixes={sorted(raw_plan.get('fixes', {}))!r:.20}")
        check_agreement(schema, plan, header, numbered, result)
