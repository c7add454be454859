"""Utf8Stream hands out the sanitised bytes in any read sizes the parsers ask for: reads of
any lengths, joined, are the whole stream read at once, and each read but the last is as
long as asked."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

import lading.adapters.readers.text_stream as text_stream
from lading.adapters.readers.text_stream import Utf8Stream

CONTENT = st.lists(st.sampled_from([b"a,b\n", "é".encode(), "日本".encode(), b"\xff", b"\xe2\x82",
                                    b"\x00", b"{\"k\": 1}\n", b"\r\n"]), max_size=60).map(b"".join)


def _stream(data: bytes) -> Utf8Stream:
    return Utf8Stream(io.BytesIO(data), "utf-8", skip_bom=True)


@given(data=CONTENT, sizes=st.lists(st.integers(1, 40), min_size=1, max_size=30),
       fill=st.integers(1, 16))
def test_reads_of_any_sizes_join_to_the_whole_stream(data, sizes, fill):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(text_stream, "READ_SIZE", fill)  # many pieces between two reads
        whole = _stream(data).read()
        stream = _stream(data)
        got = []
        for size in sizes:
            piece = stream.read(size)
            assert len(piece) == size or stream.read(1) == b""
            got.append(piece)
        got.append(stream.read())
    assert b"".join(got) == whole
    assert stream.delivered == len(whole)
    assert stream.nul == (b"\x00" in data)


def test_invalid_bytes_become_markers_whatever_the_read_sizes(monkeypatch):
    monkeypatch.setattr(text_stream, "READ_SIZE", 3)
    stream = _stream(b"ok \xff\xfe and \xe2\x82\xac")
    text = b"".join(iter(lambda: stream.read(2), b"")).decode("utf-8")
    assert text == "ok " + chr(0x10FFFF) + chr(0x10FFFE) + " and €"
    assert stream.markers == 2
