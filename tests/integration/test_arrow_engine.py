"""ArrowValidationEngine on real files: readers, sniffing, encodings, row numbering, staging."""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lading.adapters.arrow_engine import ArrowValidationEngine
from lading.application.ports import SourceFile, ValidatedChunk
from lading.domain.errors import SourceUnreadable
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import TableSchema

SCHEMA = TableSchema.from_dict({
    "fields": [
        {"name": "id", "type": "integer"},
        {"name": "email", "type": "string", "format": "email"},
        {"name": "joined", "type": "date"},
        {"name": "score", "type": "number"},
    ],
    "primaryKey": ["id"],
})
HEADER = "id,email,joined,score\n"


@dataclass
class Run:
    chunks: list[ValidatedChunk]
    errors: list[dict]
    error_bytes: bytes
    engine: ArrowValidationEngine

    @property
    def read(self) -> int:
        return sum(c.read_rows for c in self.chunks)

    @property
    def valid(self) -> int:
        return sum(c.valid_rows for c in self.chunks)

    def rows(self) -> list[dict]:
        out = []
        for c in self.chunks:
            if c.staged_path:
                out.extend(self.engine.load_chunk(c.staged_path).to_pylist())
        return out

    def codes(self) -> dict[int, str]:
        return {e["rowNumber"]: e["code"] for e in self.errors}


def validate(tmp_path: Path, name: str, data: bytes, schema: TableSchema = SCHEMA, plan: dict | None = None,
             block_size: int = 1 << 20, lookup=None, workdir: str = "work") -> Run:
    source = tmp_path / name
    source.write_bytes(data)
    engine = ArrowValidationEngine(block_size=block_size, parquet_batch_rows=4)
    work = tmp_path / workdir
    error_file = work / "errors.jsonl"
    chunks = list(engine.validate(SourceFile(source, name), schema,
                                  ImportPlan.from_dict(plan or {}, schema), work, error_file, lookup))
    raw = error_file.read_bytes() if error_file.exists() else b""
    return Run(chunks, [json.loads(line) for line in raw.splitlines()], raw, engine)


def csv_bytes(rows: list[str], header: str = HEADER, newline: str = "\n") -> bytes:
    return (header + "".join(r + "\n" for r in rows)).replace("\n", newline).encode()


# -- basics -----------------------------------------------------------------------------------------


def test_valid_rows_are_staged_typed_in_schema_order_and_rejected_rows_go_to_the_error_file(tmp_path):
    run = validate(tmp_path, "people.csv", csv_bytes([
        "1,a@x.io,2024-02-29,1.5",
        "2,not-an-email,2024-01-01,2",
        "3,c@x.io,,",
    ], header="score,id,joined,email\n".replace("score,id,joined,email", "id,email,joined,score")))
    assert run.read == 3 and run.valid == 2
    assert run.rows() == [
        {"id": 1, "email": "a@x.io", "joined": date(2024, 2, 29), "score": 1.5},
        {"id": 3, "email": "c@x.io", "joined": None, "score": None},
    ]
    assert run.errors == [{
        "rowNumber": 2, "code": "VALIDATION_TYPE_MISMATCH", "error": "email: invalid email format",
        "errors": [{"field": "email", "column": "email", "code": "VALIDATION_TYPE_MISMATCH",
                    "message": "invalid email format", "value": "not-an-email"}],
        "sourceRow": {"id": "2", "email": "not-an-email", "joined": "2024-01-01", "score": "2"},
    }]
    chunk = run.chunks[0]
    assert chunk.rejected_by_code == {"VALIDATION_TYPE_MISMATCH": 1}
    assert chunk.rejected_by_field == {"email": {"VALIDATION_TYPE_MISMATCH": 1}}
    assert chunk.error_segment == (0, len(run.error_bytes))


def test_staged_arrow_types_follow_the_schema(tmp_path):
    schema = TableSchema.from_dict({"fields": [
        {"name": "id", "type": "integer"}, {"name": "t", "type": "datetime"},
        {"name": "c", "type": "time"}, {"name": "b", "type": "boolean"}, {"name": "y", "type": "year"},
    ], "primaryKey": ["id"]})
    run = validate(tmp_path, "t.csv", b"id,t,c,b,y\n1,2023-05-17T12:00:00+02:00,10:30:00,true,1999\n",
                   schema=schema)
    table = run.engine.load_chunk(run.chunks[0].staged_path)
    assert [str(t) for t in table.schema.types] == ["int64", "timestamp[us, tz=UTC]", "time64[us]",
                                                    "bool", "int64"]
    assert table.to_pylist()[0]["t"] == datetime(2023, 5, 17, 10, tzinfo=timezone.utc)


def test_columns_are_matched_by_name_in_any_order_and_extra_columns_are_ignored(tmp_path):
    run = validate(tmp_path, "x.csv", b"Score, EMAIL ,extra,Joined,ID\n1.5,a@x.io,zz,2024-01-01,7\n")
    assert run.rows() == [{"id": 7, "email": "a@x.io", "joined": date(2024, 1, 1), "score": 1.5}]


def test_a_similar_header_is_renamed_and_reported_on_the_first_chunk(tmp_path):
    run = validate(tmp_path, "x.csv", b"id,E-mail,joined,score\n1,a@x.io,2024-01-01,1\n",
                   plan={"fieldMap": {"id": "id", "email_address": "email", "joined": "joined",
                                      "score": "score"}})
    assert run.valid == 1
    assert run.chunks[0].header_healing == {"E-mail": "email"}


def test_a_mapped_column_missing_from_the_header_makes_the_file_unreadable(tmp_path):
    with pytest.raises(SourceUnreadable, match="score"):
        validate(tmp_path, "x.csv", b"id,email,joined\n1,a@x.io,2024-01-01\n")


def test_strict_mode_names_the_unused_columns(tmp_path):
    with pytest.raises(SourceUnreadable, match="'notes'"):
        validate(tmp_path, "x.csv", b"id,email,joined,score,notes\n1,a@x.io,2024-01-01,1,n\n",
                 plan={"importMode": "strict"})


def test_an_empty_file_has_no_rows_and_a_header_only_file_neither(tmp_path):
    empty = validate(tmp_path, "empty.csv", b"")
    assert empty.read == 0 and empty.errors == []
    header_only = validate(tmp_path, "h.csv", b"id,email,joined,score", workdir="w2")
    assert header_only.read == 0 and header_only.chunks[0].staged_path is None


@pytest.mark.parametrize("data", [b'"', b'"id,email\n1,a@x.io\n', b'\xef\xbb\xbf"id'])
def test_a_header_whose_quote_never_closes_fails_the_file_instead_of_reading_as_empty(tmp_path, data):
    with pytest.raises(SourceUnreadable, match="header row never ends"):
        validate(tmp_path, "q.csv", data)


def test_blank_lines_alone_are_an_empty_file(tmp_path):
    assert validate(tmp_path, "blank.csv", b"\n\r\n\n").read == 0


# -- row numbering -------------------------------------------------------------------------------------


def test_row_numbers_count_data_rows_through_quoted_newlines_blank_lines_and_bad_rows(tmp_path):
    data = (HEADER +
            '1,a@x.io,2024-01-01,"1"\n'
            '\n'
            '2,"multi\nline@x.io",2024-01-01,1\n'
            '3,too,many,cells,here\n'
            '\n\n'
            '4,d@x.io,2024-01-01,1\n'
            '5,e@x.io\n'
            '6,f@x.io,2024-13-01,1\n').encode()
    run = validate(tmp_path, "n.csv", data, block_size=64)
    assert run.read == 6 and run.valid == 2
    assert run.codes() == {2: "VALIDATION_TYPE_MISMATCH", 3: "MALFORMED_ROW", 5: "MALFORMED_ROW",
                           6: "VALIDATION_TYPE_MISMATCH"}
    assert [e["rowNumber"] for e in run.errors] == [2, 3, 5, 6]
    assert run.errors[1]["sourceRow"] == {"id": "3", "email": "too", "joined": "many",
                                          "score": "cells", "_extra": ["here"]}
    assert sum(c.valid_rows + c.invalid_rows for c in run.chunks) == run.read


def test_small_blocks_give_many_chunks_whose_counts_add_up(tmp_path):
    rows = [f"{i},u{i}@x.io,2024-01-01,{i}" for i in range(1, 301)] + ["7,dup@x.io,2024-01-01,1"]
    run = validate(tmp_path, "many.csv", csv_bytes(rows), block_size=256)
    assert len(run.chunks) > 5
    assert [c.index for c in run.chunks] == list(range(len(run.chunks)))
    assert run.read == 301 and run.valid == 300
    assert run.codes() == {301: "DUPLICATE_KEY"}
    offset = 0
    for c in run.chunks:
        if c.error_segment:
            assert c.error_segment[0] == offset
            offset += c.error_segment[1]
    assert offset == len(run.error_bytes)


def test_validation_is_deterministic(tmp_path):
    rows = [f"{i % 40},u{i}@x.io,2024-0{1 + i % 9}-3{i % 2},{i}" for i in range(200)]
    first = validate(tmp_path, "d.csv", csv_bytes(rows), block_size=200, workdir="a")
    second = validate(tmp_path, "d.csv", csv_bytes(rows), block_size=200, workdir="b")
    assert first.error_bytes == second.error_bytes
    assert [(c.read_rows, c.valid_rows, c.rejected_by_code) for c in first.chunks] == \
        [(c.read_rows, c.valid_rows, c.rejected_by_code) for c in second.chunks]
    assert first.rows() == second.rows()


# -- dialects, line endings, encodings ------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(tmp_path, delimiter):
    data = "id,email,joined,score\n1,a@x.io,2024-01-01,\"1,5\"\n".replace(",", delimiter)
    run = validate(tmp_path, "d.csv", data.replace(f'"1{delimiter}5"', "2.5").encode())
    assert run.rows() == [{"id": 1, "email": "a@x.io", "joined": date(2024, 1, 1), "score": 2.5}]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings_lf_crlf_and_cr_only(tmp_path, newline):
    run = validate(tmp_path, "e.csv", csv_bytes(["1,a@x.io,2024-01-01,1", "2,b@x.io,2024-01-02,2"],
                                                newline=newline))
    assert run.valid == 2 and run.errors == []


def test_mixed_line_endings_and_a_quoted_crlf_kept_inside_a_value(tmp_path):
    schema = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                               {"name": "note", "type": "string"}], "primaryKey": ["id"]})
    run = validate(tmp_path, "m.csv", b'id,note\r\n1,"a\r\nb"\n2,c\r3,d', schema=schema)
    assert run.rows() == [{"id": 1, "note": "a\r\nb"}, {"id": 2, "note": "c"}, {"id": 3, "note": "d"}]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom", "cp1252"])
def test_encodings_are_detected(tmp_path, encoding):
    schema = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                               {"name": "name", "type": "string"}], "primaryKey": ["id"]})
    text = "id,name\n1,Zoë Müller\n2,Chloé ‘x’\n"
    if encoding == "cp1252":
        data = text.encode("cp1252")
    elif encoding.endswith("-bom"):
        codec = encoding[:-4]
        data = ("\ufeff" + text).encode(codec)
    else:
        data = text.encode(encoding)
    run = validate(tmp_path, "enc.csv", data, schema=schema)
    assert run.rows() == [{"id": 1, "name": "Zoë Müller"}, {"id": 2, "name": "Chloé ‘x’"}]


def test_bytes_invalid_in_a_utf8_file_reject_only_their_row(tmp_path):
    schema = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                               {"name": "name", "type": "string"}], "primaryKey": ["id"]})
    data = "id,name,other\n1,Zoë,x\n2,caf".encode() + b"\xe9" + b",y\n3,ok," + b"\xff\xfe" + b"\n"
    run = validate(tmp_path, "bad.csv", data, schema=schema)
    assert run.rows() == [{"id": 1, "name": "Zoë"}, {"id": 3, "name": "ok"}]
    assert run.errors[0]["rowNumber"] == 2 and run.errors[0]["code"] == "ENCODING_ERROR"
    assert run.errors[0]["errors"][0]["value"] == "caf\ufffd"
    assert run.errors[0]["sourceRow"] == {"id": "2", "name": "caf\ufffd", "other": "y"}


def test_landing_friendly_keeps_rows_with_invalid_bytes_replaced(tmp_path):
    schema = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                               {"name": "name", "type": "string"}], "primaryKey": ["id"]})
    data = "id,name\n1,Zoë\n2,caf".encode() + b"\xe9\n3,a,b\n"
    run = validate(tmp_path, "bad.csv", data, schema=schema, plan={"importMode": "landing_friendly"})
    assert run.rows() == [{"id": 1, "name": "Zoë"}, {"id": 2, "name": "caf\ufffd"}, {"id": 3, "name": "a"}]
    assert run.chunks[0].warnings_by_field == {"(encoding error)": 1, "(ragged row)": 1}


NAMES = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                          {"name": "name", "type": "string"}], "primaryKey": ["id"]})
NUL_MESSAGE = "value contains a NUL character (U+0000), which cannot be stored"


def test_a_nul_character_in_a_mapped_csv_value_rejects_the_row_as_encoding_error(tmp_path):
    data = b"id,name,other\n1,a\0b,x\n2,ok,\0\n3,c\xff\0,y\n4,fine,z\n"
    run = validate(tmp_path, "nul.csv", data, schema=NAMES)
    assert [r["id"] for r in run.rows()] == [2, 4]
    assert run.codes() == {1: "ENCODING_ERROR", 3: "ENCODING_ERROR"}
    assert run.errors[0]["errors"] == [{"field": "name", "column": "name", "code": "ENCODING_ERROR",
                                        "message": NUL_MESSAGE, "value": "a\0b"}]
    # invalid bytes win over a NUL in the same value, as in the reference
    assert run.errors[1]["errors"][0]["message"] == \
        "value has bytes that are not valid in the file's encoding"


def test_a_nul_character_in_ndjson_and_parquet_strings_is_an_encoding_error(tmp_path):
    ndjson = b'{"id": 1, "name": "a\\u0000b"}\n{"id": 2, "name": "ok"}\n'
    run = validate(tmp_path, "nul.ndjson", ndjson, schema=NAMES)
    assert run.codes() == {1: "ENCODING_ERROR"} and run.errors[0]["errors"][0]["message"] == NUL_MESSAGE
    table = pa.table({"id": pa.array([1, 2]), "name": pa.array(["ok", "b\0"])})
    run = validate(tmp_path, "nul.parquet", parquet_bytes(table), schema=NAMES, workdir="w2")
    assert run.codes() == {2: "ENCODING_ERROR"} and [r["id"] for r in run.rows()] == [1]


def test_landing_friendly_keeps_a_row_with_a_nul_replaced_and_warns(tmp_path):
    run = validate(tmp_path, "nul.csv", b"id,name\n1,a\0b\n", schema=NAMES,
                   plan={"importMode": "landing_friendly"})
    assert run.rows() == [{"id": 1, "name": "a\ufffdb"}]
    assert run.chunks[0].warnings_by_field == {"(encoding error)": 1}


def test_landing_friendly_shows_a_key_value_with_its_nul_replaced_in_any_format(tmp_path):
    schema = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"}],
                                    "primaryKey": ["id"]})
    plan = {"importMode": "landing_friendly"}
    csv_run = validate(tmp_path, "k.csv", b"id\n1\x002\n", schema=schema, plan=plan)
    ndjson_run = validate(tmp_path, "k.ndjson", b'{"id": "1\\u00002"}\n', schema=schema, plan=plan,
                          workdir="w2")
    for run in (csv_run, ndjson_run):
        assert run.errors[0]["errors"][0]["value"] == "1\ufffd2"  # what was validated


def test_gzip_compressed_csv(tmp_path):
    data = gzip.compress(csv_bytes(["1,a@x.io,2024-01-01,1"]))
    assert validate(tmp_path, "x.csv.gz", data).valid == 1


# -- NDJSON ----------------------------------------------------------------------------------------------


def test_ndjson_lines_are_rows_numbered_by_line_and_bad_lines_are_malformed(tmp_path):
    lines = [
        '{"id": 1, "email": "a@x.io", "joined": "2024-01-01", "score": 1}',
        "",
        '{"id": 2, "email": "b@x.io", "joined": "2024-01-01", "score": 2.5, "extra": [1]}',
        "[1, 2]",
        '{"id": 3, "email": "c@x.io"',
        '{"id": "4", "email": "d@x.io", "joined": null}',
        '{"id": true, "email": "e@x.io"}',
    ]
    run = validate(tmp_path, "x.ndjson", "\r\n".join(lines).encode())
    assert run.read == 6
    assert [r["id"] for r in run.rows()] == [1, 2, 4]
    assert run.codes() == {4: "MALFORMED_ROW", 5: "MALFORMED_ROW", 7: "VALIDATION_TYPE_MISMATCH"}
    assert run.errors[0]["sourceRow"] == {"_raw": "[1, 2]"}
    assert run.errors[0]["error"] == "line is not a JSON object"


def test_ndjson_of_empty_objects_fails_naming_the_missing_columns_not_the_format(tmp_path):
    with pytest.raises(SourceUnreadable, match="missing from the file's header: id"):
        validate(tmp_path, "x.ndjson", b"{}\n{}\n")


def test_a_file_of_no_json_objects_is_not_ndjson(tmp_path):
    with pytest.raises(SourceUnreadable, match="is this NDJSON"):
        validate(tmp_path, "x.ndjson", b"[1, 2]\n3\n")


def test_ndjson_with_cr_only_line_breaks_and_invalid_utf8(tmp_path):
    data = b'{"id": 1, "email": "a@x.io"}\r{"id": 2, "email": "b\xff@x.io"}\r{"id": 3, "email": "c@x.io"}'
    schema = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                               {"name": "email", "type": "string"}], "primaryKey": ["id"]})
    run = validate(tmp_path, "x.jsonl", data, schema=schema)
    assert [r["id"] for r in run.rows()] == [1, 3]
    assert run.codes() == {2: "ENCODING_ERROR"}


def test_gzipped_ndjson(tmp_path):
    data = gzip.compress(b'{"id": 1, "email": "a@x.io", "joined": "2024-01-01", "score": 1}\n')
    assert validate(tmp_path, "x.ndjson.gz", data).valid == 1


# -- Parquet ---------------------------------------------------------------------------------------------


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_parquet_typed_and_text_columns(tmp_path):
    table = pa.table({
        "id": pa.array([1, 2, 3, 4, 5], pa.int32()),
        "email": ["a@x.io", "b@x.io", "bad", "d@x.io", "e@x.io"],
        "joined": pa.array([date(2024, 1, 1), None, date(2024, 1, 3), date(2024, 1, 4), None]),
        "score": pa.array([1.0, float("nan"), 3.0, 4.0, 5.0]),
    })
    run = validate(tmp_path, "x.parquet", parquet_bytes(table))
    assert run.read == 5 and len(run.chunks) == 2  # 4 rows a batch in these tests
    assert [r["id"] for r in run.rows()] == [1, 4, 5]
    assert run.codes() == {2: "VALIDATION_TYPE_MISMATCH", 3: "VALIDATION_TYPE_MISMATCH"}
    assert run.errors[0]["sourceRow"] == {"id": 2, "email": "b@x.io", "joined": None, "score": "nan"}


def test_a_parquet_value_of_a_related_type_is_shown_as_it_came_in_the_error_file(tmp_path):
    schema = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                               {"name": "score", "type": "number",
                                                "constraints": {"minimum": 1.5}}],
                                    "primaryKey": ["id"]})
    table = pa.table({"id": pa.array([1], pa.int64()), "score": pa.array([0], pa.int64())})
    run = validate(tmp_path, "s.parquet", parquet_bytes(table), schema=schema)
    assert run.errors[0]["errors"][0]["value"] == "0"  # the integer given, not the float 0.0


def test_gzipped_parquet_is_inflated_to_disk_and_read(tmp_path):
    table = pa.table({"id": [1], "email": ["a@x.io"], "joined": ["2024-01-01"], "score": ["1.5"]})
    run = validate(tmp_path, "x.parquet.gz", gzip.compress(parquet_bytes(table)))
    assert run.rows() == [{"id": 1, "email": "a@x.io", "joined": date(2024, 1, 1), "score": 1.5}]


def test_format_is_sniffed_when_the_name_says_nothing(tmp_path):
    table = pa.table({"id": [1], "email": ["a@x.io"], "joined": ["2024-01-01"], "score": ["1.5"]})
    assert validate(tmp_path, "upload.bin", parquet_bytes(table), workdir="p").valid == 1
    ndjson = b'{"id": 1, "email": "a@x.io", "joined": "2024-01-01", "score": 1}\n'
    assert validate(tmp_path, "upload.dat", ndjson, workdir="n").valid == 1


def test_an_unreadable_parquet_file_is_reported_not_raised_as_anything_else(tmp_path):
    with pytest.raises(SourceUnreadable):
        validate(tmp_path, "x.parquet", b"PAR1 this is not parquet")


# -- keys across chunks ------------------------------------------------------------------------------------


def test_duplicates_across_chunks_with_string_and_composite_keys(tmp_path):
    schema = TableSchema.from_dict({"fields": [{"name": "k", "type": "string"}, {"name": "n", "type": "integer"}],
                                    "primaryKey": ["k", "n"]})
    rows = [f"key-{i % 50},{i % 3}" for i in range(300)]
    run = validate(tmp_path, "k.csv", ("k,n\n" + "\n".join(rows) + "\n").encode(), schema=schema,
                   block_size=128)
    distinct = {(f"key-{i % 50}", i % 3) for i in range(300)}
    assert run.valid == len(distinct)
    seen, expected = set(), {}
    for i in range(300):
        key = (f"key-{i % 50}", i % 3)
        if key in seen:
            expected[i + 1] = "DUPLICATE_KEY"
        seen.add(key)
    assert run.codes() == expected


def test_unique_fields_across_chunks(tmp_path):
    schema = TableSchema.from_dict({"fields": [
        {"name": "id", "type": "integer"},
        {"name": "email", "type": "string", "constraints": {"unique": True}},
    ], "primaryKey": ["id"]})
    rows = [f"{i},u{i % 10}@x.io" for i in range(40)]
    run = validate(tmp_path, "u.csv", ("id,email\n" + "\n".join(rows) + "\n").encode(), schema=schema,
                   block_size=64)
    assert run.valid == 10
    assert set(run.codes().values()) == {"VALIDATION_CONSTRAINT_VIOLATION"}


def test_key_lookup_decides_insert_update_and_delete(tmp_path):
    existing = {(1,), (2,)}
    asked: list[list[tuple]] = []

    def lookup(keys):
        asked.append(keys)
        return {k for k in keys if k in existing}

    data = csv_bytes(["1,a@x.io,2024-01-01,1", "3,c@x.io,2024-01-01,1", "3,c@x.io,2024-01-01,1",
                      "x,bad,,"])
    insert = validate(tmp_path, "i.csv", data, plan={"operation": "insert"}, lookup=lookup, workdir="i")
    assert insert.codes() == {1: "KEY_EXISTS", 3: "DUPLICATE_KEY", 4: "VALIDATION_TYPE_MISMATCH"}
    assert sorted(k for batch in asked for k in batch) == [(1,), (3,)]
    update = validate(tmp_path, "u.csv", data, plan={"operation": "update"}, lookup=lookup, workdir="u")
    assert update.codes() == {2: "KEY_NOT_FOUND", 3: "KEY_NOT_FOUND", 4: "VALIDATION_TYPE_MISMATCH"}
    delete = validate(tmp_path, "d.csv", data, plan={"operation": "delete"}, lookup=lookup, workdir="d")
    assert delete.rows() == [{"id": 1}]


# -- column formats and valid rows as CSV ---------------------------------------------------------------------


def test_column_formats_are_decided_from_the_sample_and_reported(tmp_path):
    rows = [f"{i},u{i}@x.io,{1 + i % 28:02d}/0{1 + i % 9}/2024,\"{i},5\"" for i in range(1, 30)]
    run = validate(tmp_path, "f.csv", csv_bytes(rows))
    assert run.valid == 29
    assert run.chunks[0].column_formats == {"joined": "%d/%m/%Y", "score": "1.234,56"}
    assert run.chunks[0].healed_by_field["joined"] == {"date_format": 29}
    assert run.rows()[0]["score"] == 1.5


def test_valid_rows_are_written_as_one_csv_in_canonical_forms(tmp_path):
    schema = TableSchema.from_dict({"fields": [
        {"name": "id", "type": "integer"}, {"name": "t", "type": "datetime"},
        {"name": "note", "type": "string"}, {"name": "ok", "type": "boolean"},
    ], "primaryKey": ["id"]})
    data = b'id,t,note,ok\n1,2023-05-17T10:00:00Z,"a, b",yes\n2,2023-05-17T10:00:00.5+01:00,,false\n'
    run = validate(tmp_path, "v.csv", data, schema=schema, block_size=48)
    out = io.BytesIO()
    written = run.engine.write_valid_rows_csv([c.staged_path for c in run.chunks if c.staged_path], out)
    assert written == 2
    assert list(csv.reader(io.StringIO(out.getvalue().decode()))) == [
        ["id", "t", "note", "ok"],
        ["1", "2023-05-17T10:00:00Z", "a, b", "true"],
        ["2", "2023-05-17T09:00:00.500000Z", "", "false"],
    ]


def test_a_csv_source_closed_unread_lets_the_process_exit_cleanly(tmp_path):
    """pyarrow hangs or aborts a process that exits while an unread CSV reader is still alive
    (its read-ahead holds tens of MB), so closing the source must release the reader too."""
    import subprocess
    import sys

    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes([f"{i},u{i}@x.io,2024-01-01,1" for i in range(1_200_000)]))
    script = (
        "import sys; from pathlib import Path; from lading.adapters.readers import open_source\n"
        "p = Path(sys.argv[1]); s = open_source(p, p.name, p.parent, 1 << 22, repair_encoding=False)\n"
        "s.close()\n"  # and `s` stays alive until the interpreter exits
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_parquet_source_holds_one_row_group_at_a_time_not_the_file(tmp_path):
    """Memory is bounded by the batch, not the file: once read, a row group's bytes are let go
    (pyarrow's pre-buffering kept every row group it had fetched until the file closed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lading.adapters.readers import open_source

    rows = 200_000
    path = tmp_path / "many-groups.parquet"
    pq.write_table(pa.table({"id": [str(i) for i in range(rows)],
                             "note": [f"{i:x}" * 8 for i in range(rows)]}),
                   path, row_group_size=10_000, compression="none")
    size = path.stat().st_size
    before = pa.total_allocated_bytes()  # what this process's earlier tests still hold
    source = open_source(path, path.name, tmp_path, 1 << 22, repair_encoding=False,
                         parquet_batch=10_000)
    try:
        held = []
        for chunk in source.chunks():
            del chunk
            held.append(pa.total_allocated_bytes() - before)
    finally:
        source.close()
    assert len(held) == rows // 10_000
    # Two batches (the one read ahead and the last one) are about a quarter of the file; the
    # pre-buffered reading held all of it.
    assert max(held) < size // 3, (max(held), size)


def test_a_parquet_batch_holds_about_the_chunk_bytes_however_wide_its_rows(tmp_path):
    """Rows per batch follow the chunk bytes, as a text format's chunk does: a batch of 65,536
    rows of a wide export held 1.5 GB (ADR 0133). Narrow rows stop at the row cap (the test
    above)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lading.adapters.readers import open_source

    rows, width, chars = 4000, 30, 100
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({f"c{c}": [f"{r:0{chars}d}" for r in range(rows)] for c in range(width)}),
                   path, row_group_size=1000, compression="none", use_dictionary=False)
    block = 1 << 18
    source = open_source(path, path.name, tmp_path, block, repair_encoding=False,
                         parquet_batch=65_536)
    try:
        sizes = [chunk.batch.nbytes for chunk in source.chunks()]
    finally:
        source.close()
    assert len(sizes) >= rows * width * chars // block
    assert max(sizes) <= 2 * block, (max(sizes), block)


def test_an_ndjson_chunk_holds_about_the_rows_a_csv_chunk_of_the_same_rows_holds(tmp_path):
    """NDJSON repeats its key names on every line, so it is read twice as many bytes at a time
    as CSV: per-chunk costs (a merge, its commit, a results part) are paid about as often for
    the same rows in either format."""
    from lading.adapters.readers import open_source

    rows = [{"id": i, "email": f"user{i}@example.com", "first_name": "Ada", "last_name": "Lovelace",
             "country": "GB", "plan": "pro"} for i in range(6000)]
    as_csv = tmp_path / "rows.csv"
    as_csv.write_text(",".join(rows[0]) + "\n" + "".join(
        ",".join(str(v) for v in row.values()) + "\n" for row in rows), encoding="utf-8")
    as_ndjson = tmp_path / "rows.ndjson"
    as_ndjson.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    assert as_ndjson.stat().st_size > 2 * as_csv.stat().st_size

    def rows_per_chunk(path):
        source = open_source(path, path.name, tmp_path, 1 << 15, repair_encoding=False)
        try:
            return [chunk.read_rows for chunk in source.chunks()]
        finally:
            source.close()

    csv_rows, ndjson_rows = rows_per_chunk(as_csv), rows_per_chunk(as_ndjson)
    assert sum(csv_rows) == sum(ndjson_rows) == 6000
    assert 0.7 <= ndjson_rows[0] / csv_rows[0] <= 1.3, (ndjson_rows[0], csv_rows[0])
