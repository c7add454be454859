"""Sources built to hurt: each is read in time and memory proportionate to its size, and ends as
rejected rows or a coded failure of the job, never as a crash (issues 9 and 16)."""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lading.adapters.arrow_engine import ArrowValidationEngine
from lading.adapters.readers import SourceLimits
from lading.adapters.readers.csv_header import header_extent
from lading.adapters.readers.text_stream import MARKER_BASE, Utf8Stream
from lading.application.ports import SourceFile
from lading.domain.errors import SourceUnreadable
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import TableSchema

SCHEMA = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                           {"name": "name", "type": "string"}],
                                "primaryKey": ["id"]})


def run_engine(tmp_path: Path, name: str, data: bytes, engine: ArrowValidationEngine | None = None,
               schema: TableSchema = SCHEMA, plan: dict | None = None):
    source = tmp_path / name
    source.write_bytes(data)
    engine = engine or ArrowValidationEngine()
    error_file = tmp_path / "work" / "errors.jsonl"
    chunks = list(engine.validate(SourceFile(source, name), schema,
                                  ImportPlan.from_dict(plan or {}, schema), tmp_path / "work",
                                  error_file))
    errors = [json.loads(line) for line in error_file.read_bytes().splitlines()] \
        if error_file.exists() else []
    return chunks, errors


def marker(byte: int) -> bytes:
    return chr(MARKER_BASE + byte).encode("utf-8")


# -- invalid UTF-8 (issue 9.3) -------------------------------------------------------------------


def test_a_stream_of_invalid_bytes_is_sanitised_into_one_marker_per_byte():
    # 1 MiB of invalid bytes, one read block: sanitising that copied the rest of the block after
    # each bad byte (the old way) copies ~500 GB here and takes minutes; linear takes milliseconds.
    lines = 10_486
    stream = Utf8Stream(io.BytesIO((b"\xff" * 99 + b"\n") * lines), "utf-8", skip_bom=False)
    assert stream.read() == (marker(0xFF) * 99 + b"\n") * lines
    assert stream.markers == 99 * lines


def test_invalid_bytes_of_every_kind_become_markers_and_valid_text_around_them_is_kept():
    # a lone continuation byte, a truncated sequence, an encoded surrogate, an overlong form
    data = "é€😀".encode() + b"\x80" + b"\xe2\x82" + b"x" + b"\xed\xa0\x80" + b"\xc0\xaf" + b"\0end"
    stream = Utf8Stream(io.BytesIO(data), "utf-8", skip_bom=False)
    expected = ("é€😀".encode() + marker(0x80) + marker(0xE2) + marker(0x82) + b"x"
                + marker(0xED) + marker(0xA0) + marker(0x80) + marker(0xC0) + marker(0xAF) + b"\0end")
    assert stream.read() == expected
    assert stream.markers == 8


def test_a_multibyte_character_cut_by_a_read_block_is_not_taken_for_invalid_bytes():
    class Trickle(io.RawIOBase):  # hands out two bytes a read, cutting every €
        def __init__(self, data: bytes) -> None:
            self.data = data
        def readable(self) -> bool:
            return True
        def read(self, n: int = -1) -> bytes:
            piece, self.data = self.data[:2], self.data[2:]
            return piece
    data = b"\xff" + "€€€".encode()
    stream = Utf8Stream(Trickle(data), "utf-8", skip_bom=False)
    assert stream.read() == marker(0xFF) + "€€€".encode()
    assert stream.markers == 1


def test_a_gzip_of_invalid_lines_is_read_with_every_line_rejected(tmp_path):
    data = gzip.compress(b"id,name\n" + (b"\xff" * 99 + b"\n") * 4000)
    chunks, errors = run_engine(tmp_path, "ff.csv.gz", data)
    assert sum(c.read_rows for c in chunks) == 4000
    assert sum(c.valid_rows for c in chunks) == 0
    assert {e["code"] for e in errors} == {"MALFORMED_ROW"}
    assert errors[0]["sourceRow"]["id"] == "\ufffd" * 99


# -- record size (issue 9.1) ---------------------------------------------------------------------

ONE_MIB = 1 << 20


def capped(max_record_bytes: int = ONE_MIB, **kwargs) -> ArrowValidationEngine:
    return ArrowValidationEngine(limits=SourceLimits(max_record_bytes=max_record_bytes), **kwargs)


def normal_csv_rows(count: int) -> bytes:
    return b"".join(b"%d,name %d\n" % (i, i) for i in range(1, count + 1))


def test_a_csv_record_longer_than_the_cap_fails_the_job_with_record_too_large(tmp_path):
    huge = b"30001," + b"x" * (3 * ONE_MIB) + b"\n"
    data = gzip.compress(b"id,name\n" + normal_csv_rows(30_000) + huge + b"30002,after\n")
    with pytest.raises(SourceUnreadable, match="longer than 1,048,576 bytes") as failure:
        run_engine(tmp_path, "huge.csv.gz", data, capped())
    assert failure.value.failure_code == "RECORD_TOO_LARGE"


def test_an_ndjson_line_longer_than_the_cap_fails_the_job_with_record_too_large(tmp_path):
    rows = b"".join(b'{"id": %d, "name": "n"}\n' % i for i in range(1, 30_001))
    huge = b'{"id": 30001, "name": "' + b"x" * (3 * ONE_MIB) + b'"}\n'
    data = gzip.compress(rows + huge + b'{"id": 30002, "name": "after"}\n')
    with pytest.raises(SourceUnreadable, match="line 30001 is longer than 1,048,576 bytes") as failure:
        run_engine(tmp_path, "huge.ndjson.gz", data, capped(block_size=256 << 10))
    assert failure.value.failure_code == "RECORD_TOO_LARGE"


def test_a_record_between_one_and_two_read_blocks_is_measured_against_the_cap(tmp_path):
    # pyarrow may read a record of up to twice its block: the cap is held by measuring it.
    huge = b"3," + b"x" * (ONE_MIB + ONE_MIB // 2) + b"\n"
    data = b"id,name\n" + normal_csv_rows(2) + huge
    with pytest.raises(SourceUnreadable, match="row 3 is longer") as failure:
        run_engine(tmp_path, "between.csv", data, capped())
    assert failure.value.failure_code == "RECORD_TOO_LARGE"


@pytest.mark.parametrize("name", ["long.csv", "long.ndjson"])
def test_a_record_under_the_cap_but_longer_than_a_read_block_is_read(tmp_path, name):
    long_name = "y" * (3 * ONE_MIB)
    if name.endswith(".csv"):
        data = b"id,name\n" + normal_csv_rows(20_000) + f"20001,{long_name}\n".encode()
    else:
        data = b"".join(b'{"id": %d, "name": "n"}\n' % i for i in range(1, 20_001))
        data += ('{"id": 20001, "name": "%s"}\n' % long_name).encode()
    chunks, errors = run_engine(tmp_path, name, data, capped(4 * ONE_MIB))
    assert errors == []
    assert sum(c.valid_rows for c in chunks) == 20_001


def test_the_cap_cannot_be_set_beyond_what_the_csv_reader_can_take():
    with pytest.raises(ValueError):
        SourceLimits(max_record_bytes=2 << 30)


# -- long first records and wide headers (issues 9.15, 9.17) -------------------------------------


@pytest.mark.parametrize("name", ["first.csv", "first.csv.gz"])
def test_a_valid_csv_whose_first_data_row_is_over_a_read_block_imports(tmp_path, name):
    data = b"id,name\n1," + b"x" * (3 * ONE_MIB) + b"\n2,b\n"
    chunks, errors = run_engine(tmp_path, name, gzip.compress(data) if name.endswith(".gz") else data)
    assert errors == [] and sum(c.valid_rows for c in chunks) == 2


def test_a_header_longer_than_a_read_block_is_read(tmp_path):
    name_column = "name" + " " * (2 * ONE_MIB)  # header matching ignores surrounding spaces
    chunks, errors = run_engine(tmp_path, "h.csv", f"id,{name_column}\n1,a\n".encode())
    assert errors == [] and sum(c.valid_rows for c in chunks) == 1


def test_a_header_wider_than_the_column_limit_fails_with_too_many_columns(tmp_path):
    header = ",".join(f"c{i}" for i in range(100_000)).encode()  # ~590 KB
    with pytest.raises(SourceUnreadable, match="more than 10,000 columns") as failure:
        run_engine(tmp_path, "wide.csv", b"id,name," + header + b"\n1,a\n")
    assert failure.value.failure_code == "TOO_MANY_COLUMNS"


def test_the_header_scan_stops_at_the_first_column_over_the_limit():
    class Counting(io.BytesIO):
        taken = 0
        def read(self, n: int = -1) -> bytes:
            piece = super().read(n)
            Counting.taken += len(piece)
            return piece
    header = b",".join(b"column_%d" % i for i in range(1_000_000)) + b"\n"  # ~15 MB
    with pytest.raises(SourceUnreadable) as failure:
        header_extent(Counting(header), ",", '"', SourceLimits(max_columns=10_000))
    assert failure.value.failure_code == "TOO_MANY_COLUMNS"
    assert Counting.taken <= 256 << 10


@pytest.mark.parametrize("header, extent", [
    (b"a,b\n1,2\n", 3),
    (b'\r\n\n"a\nb","c""d",e\r\n1\n', 17),  # blank lines first; quoted line break and quote
    (b"a,b", 3),  # a header-only file without a line break
    (b"\n\n", 0),  # no header at all
])
def test_the_header_scan_finds_where_the_header_ends(header, extent):
    assert header_extent(io.BytesIO(header), ",", '"', SourceLimits()) == extent


def test_an_ndjson_object_wider_than_the_column_limit_fails_with_too_many_columns(tmp_path):
    wide = json.dumps({f"k{i}": i for i in range(20)})
    engine = ArrowValidationEngine(limits=SourceLimits(max_columns=10))
    with pytest.raises(SourceUnreadable) as failure:
        run_engine(tmp_path, "wide.ndjson", b'{"id": 1, "name": "a"}\n' + wide.encode() + b"\n", engine)
    assert failure.value.failure_code == "TOO_MANY_COLUMNS"


def test_ndjson_objects_whose_keys_together_exceed_the_column_limit_fail(tmp_path):
    lines = b"".join(json.dumps({"id": i, "name": "n", f"extra{i}": 1}).encode() + b"\n"
                     for i in range(1, 20))
    engine = ArrowValidationEngine(limits=SourceLimits(max_columns=10))
    with pytest.raises(SourceUnreadable) as failure:
        run_engine(tmp_path, "keys.ndjson", lines, engine)
    assert failure.value.failure_code == "TOO_MANY_COLUMNS"


def test_a_parquet_file_wider_than_the_column_limit_fails_with_too_many_columns(tmp_path):
    table = pa.table({"id": [1], "name": ["a"], **{f"c{i}": [i] for i in range(20)}})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    engine = ArrowValidationEngine(limits=SourceLimits(max_columns=10))
    with pytest.raises(SourceUnreadable) as failure:
        run_engine(tmp_path, "wide.parquet", sink.getvalue(), engine)
    assert failure.value.failure_code == "TOO_MANY_COLUMNS"


# -- error file values (issue 9.12) --------------------------------------------------------------


def test_long_values_are_cut_in_the_error_file_with_a_visible_marker(tmp_path):
    schema = TableSchema.from_dict({"fields": [{"name": "id", "type": "integer"},
                                               {"name": "email", "type": "string", "format": "email"}],
                                    "primaryKey": ["id"]})
    long_value = "not-an-email-" + "z" * 5000
    data = f"id,email,notes\n1,{long_value},{'n' * 20}\n".encode()
    chunks, errors = run_engine(tmp_path, "long.csv", data, ArrowValidationEngine(error_value_chars=10),
                                schema=schema)
    cut = "not-an-ema…[+5,003 characters]"
    assert errors[0]["errors"][0]["value"] == cut
    assert errors[0]["sourceRow"] == {"id": "1", "email": cut, "notes": "nnnnnnnnnn…[+10 characters]"}


def test_by_default_values_up_to_a_thousand_characters_are_kept_whole(tmp_path):
    data = b"id,name\nx," + b"v" * 1000 + b"\n"
    _, errors = run_engine(tmp_path, "keep.csv", data)
    assert errors[0]["sourceRow"]["name"] == "v" * 1000


def test_a_malformed_line_is_cut_like_any_value(tmp_path):
    data = b'{"id": 1, "name": "a"}\n[' + b"1," * 2000 + b"1]\n"
    _, errors = run_engine(tmp_path, "m.ndjson", data, ArrowValidationEngine(error_value_chars=8))
    assert errors[0]["sourceRow"] == {"_raw": "[1,1,1,1…[+3,995 characters]"}


# -- files that are not tables (issue 16.1) ------------------------------------------------------


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return sink.getvalue()


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + b"\x08\x00\x00\x00\x00")
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


XLSX_ENTRIES = {"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>",
                "xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"<worksheet/>"}


@pytest.mark.parametrize("content, named", [
    (png_bytes(), "this is a PNG image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100), "this is a JPEG image"),
    (b"GIF89a\x01\x00\x01\x00" + bytes(20), "this is a GIF image"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "this is a PDF document"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(200), "this is an ELF binary"),
    (zip_bytes(XLSX_ENTRIES), "this is an Excel workbook: export it as CSV"),
    (zip_bytes({"data/people.csv": b"id,name\n1,a\n"}), "this is a ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100) + "Workbook".encode("utf-16-le"),
     "this is a legacy Excel workbook (.xls): export it as CSV"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), "this is a legacy Microsoft Office file"),
    (b"SQLite format 3\x00" + bytes(84), "this is an SQLite database"),
    (b"<!DOCTYPE html>\n<html><body>Not found</body></html>\n", "this is an HTML page"),
])
def test_a_file_that_is_not_a_table_fails_naming_what_it_is(tmp_path, content, named):
    with pytest.raises(SourceUnreadable, match=re.escape(named)) as failure:
        run_engine(tmp_path, "people.csv", content)
    assert failure.value.failure_code == "NOT_A_TABLE"


def test_a_gzip_inside_a_gzip_is_named(tmp_path):
    data = gzip.compress(gzip.compress(b"id,name\n1,a\n"))
    with pytest.raises(SourceUnreadable, match="a gzip file inside a gzip file") as failure:
        run_engine(tmp_path, "people.csv.gz", data)
    assert failure.value.failure_code == "NOT_A_TABLE"


def test_a_gzipped_workbook_is_still_recognised_as_one(tmp_path):
    data = gzip.compress(zip_bytes({"xl/workbook.xml": b"<workbook/>"}))
    with pytest.raises(SourceUnreadable, match="an Excel workbook") as failure:
        run_engine(tmp_path, "people.csv.gz", data)
    assert failure.value.failure_code == "NOT_A_TABLE"


@pytest.mark.parametrize("content", [
    b"MZ,name\n1,a\n",  # 'MZ' alone starts a Windows program, but also a header like this one
    b"ID3,name\n1,a\n",
    b"PK,name\n1,a\n",
])
def test_text_that_merely_starts_like_a_signature_is_read_as_a_table(tmp_path, content):
    header = content.split(b",")[0].decode()
    chunks, errors = run_engine(tmp_path, "t.csv", content,
                                plan={"fieldMap": {header: "id", "name": "name"}})
    assert sum(c.valid_rows for c in chunks) == 1


@pytest.mark.parametrize("content", [b"", b"\n\r\n", b"id,name\n", b"id,name"])
def test_a_file_without_data_rows_completes_empty_with_a_warning(tmp_path, content):
    chunks, errors = run_engine(tmp_path, "empty.csv", content)
    assert [c.read_rows for c in chunks] == [0] and errors == []
    assert chunks[0].warnings_by_field == {"(no rows)": 1}


def test_a_file_with_rows_has_no_such_warning(tmp_path):
    chunks, _ = run_engine(tmp_path, "one.csv", b"id,name\n1,a\n")
    assert "(no rows)" not in chunks[0].warnings_by_field
