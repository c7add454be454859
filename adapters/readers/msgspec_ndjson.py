"""NDJSON read line by line with msgspec, so one bad line is one MALFORMED_ROW, not a failed file.

A line ends at LF, CRLF or a lone CR (JSON text cannot hold a raw CR or LF, so splitting on
them is safe; U+2028 inside strings is not a line break). Blank lines are not rows but do count
as lines: rowNumber is the line number. A block whose every line is one object (the usual
case) is decoded without a Python step per line, into a Struct of the keys seen before when
it holds no other (ADR 0131); a block with any other line is read line by line, which gives the
same rows plus each bad line's own BadRow (ADR 0110).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from lading.adapters.readers.limits import SourceLimits
from lading.adapters.readers.source_chunk import (BadRow, LinesOrigin, RecordsChunk,
                                                  StructRecordsChunk)
from lading.adapters.readers.text_stream import MARKER_BYTES, Utf8Stream, open_tracked, replace_markers
from lading.domain.validation_plan import ENCODING_LINE_MESSAGE

NOT_JSON = "line is not valid JSON"
NOT_OBJECT = "line is not a JSON object"
_REPLACEMENT = "\ufffd".encode()


class NdjsonSource:
    kind = "ndjson"
    header = None  # decided from the sampled objects' keys

    def __init__(self, path: Path, compressed: bool, encoding: str, bom: bool, block_size: int,
                 repair_encoding: bool, limits: SourceLimits = SourceLimits()) -> None:
        self.path = path
        self.compressed = compressed
        self.encoding = encoding
        self.bom = bom
        self.block_size = block_size
        self.repair_encoding = repair_encoding
        self.limits = limits
        self._stream: Utf8Stream | None = None
        self._position: Callable[[], int] = lambda: 0

    def open(self) -> None:
        raw, self._position = open_tracked(self.path, self.compressed)
        self._stream = Utf8Stream(raw, self.encoding, skip_bom=self.bom)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def chunks(self) -> Iterator[RecordsChunk]:
        decoder = msgspec.json.Decoder()
        shape = ObjectShape(self.limits.max_columns)
        for origin, lines in self._blocks():
            chunk = decode_lines_block(origin, decoder, self.limits, lines, shape)
            chunk.bytes_read = self._position()
            yield chunk

    def line_blocks(self) -> Iterator[LinesOrigin]:
        """The chunks' lines, not decoded: a split job's reader stores them, and whoever
        validates a chunk decodes it (`decode`)."""
        for origin, _ in self._blocks():
            yield origin

    def decode(self, origin: LinesOrigin) -> RecordsChunk:
        """The chunk of lines from `line_blocks`, keeping them (`origin`)."""
        chunk = decode_lines_block(origin, msgspec.json.Decoder(), self.limits)
        chunk.origin = origin
        chunk.bytes_read = self._position()
        return chunk

    def _blocks(self) -> Iterator[tuple[LinesOrigin, list[bytes] | None]]:
        """Each block's whole lines (split, where cutting had to), when any is not blank: a
        block of blank lines holds no row, so it is no chunk."""
        line_no = 0
        carry = b""
        while True:
            data = self._stream.read(self.block_size)
            final = not data
            body, lines, carry = self._cut(carry, data, final, line_no)
            if body and not body.isspace():  # isspace stops at the first other byte; strip copies
                yield (LinesOrigin(body, line_no, self._stream.markers > 0, self.repair_encoding),
                       lines)
            if body:
                line_no += len(lines) if lines is not None else \
                    body.count(b"\n") + (not body.endswith(b"\n"))
            if final:
                return

    def _cut(self, carry: bytes, data: bytes, final: bool,
             line_no: int) -> tuple[bytes, list[bytes] | None, bytes]:
        """The whole lines of `carry` (the last block's rest) and `data` (with the lines split
        when they had to be), and the rest: a line cut by the block boundary, or a CR whose LF
        may come next."""
        cap = self.limits.max_record_bytes
        if len(carry) + len(data) <= cap and b"\r" not in data and b"\r" not in carry:
            if final:  # no data: the rest is the last line
                return carry, None, b""
            at = data.rfind(b"\n")
            if at < 0:
                return b"", None, carry + data
            # The lines copied once; a block ending at a line's end without a rest before it
            # is its lines already.
            body = carry + memoryview(data)[:at + 1] if carry else \
                data if at + 1 == len(data) else data[:at + 1]
            return body, None, data[at + 1:]
        block = carry + data
        lines = block.splitlines(keepends=True)
        carry = b""
        if not final and lines and (not lines[-1].endswith((b"\n", b"\r"))
                                    or lines[-1].endswith(b"\r")):
            carry = lines.pop()
        if len(block) > cap:  # else no line can be over the cap
            self._check_line_sizes(line_no, lines, carry)
        return block[:len(block) - len(carry)], lines, carry

    def _check_line_sizes(self, line_no: int, lines: list[bytes], carry: bytes) -> None:
        """RECORD_TOO_LARGE for a line over the cap, complete or still growing in `carry`."""
        cap = self.limits.max_record_bytes
        if len(carry) > cap:
            raise self.limits.record_too_large(f"line {line_no + len(lines) + 1}")
        for k, raw in enumerate(lines):
            if len(raw) > cap and len(raw.rstrip(b"\r\n")) > cap:
                raise self.limits.record_too_large(f"line {line_no + k + 1}")


class ObjectShape:
    """The keys a file's objects have had so far, as a msgspec Struct that decodes an object
    holding only those keys without building a dict (ADR 0131). Learned from each block
    decoded into dicts; none while there are too many keys for a Struct to be smaller than
    the dicts it replaces, or more than a row may have."""

    def __init__(self, max_columns: int) -> None:
        self.max_columns = max_columns
        self.keys: dict[str, None] = {}  # in the order first seen
        # The Struct's decoder and its attribute per key, replaced together: threads of one
        # split job share a shape, and rows must be read with the attributes they have.
        self.struct: tuple[msgspec.json.Decoder, dict[str, str]] | None = None
        self.given_up = False

    def learn(self, records: list[dict[str, Any]]) -> None:
        if not records or self.given_up:
            return
        before = len(self.keys)
        self.keys.update(dict.fromkeys(itertools.chain.from_iterable(records)))
        if len(self.keys) == before and self.struct is not None:
            return
        mean = sum(map(len, records)) / len(records)
        # Keys only grow, so a shape refused once stays refused: sparse objects (dicts are
        # smaller), or a key msgspec cannot name a field after.
        if (len(self.keys) > min(self.max_columns, max(_SMALL_SHAPE, 2 * mean))
                or any(_UNNAMEABLE.search(key) for key in self.keys)):
            self.given_up = True
            self.struct = None
            return
        fields = {key: f"k{i}" for i, key in enumerate(self.keys)}
        row = msgspec.defstruct("Row", [(a, Any, None) for a in fields.values()],
                                rename={a: key for key, a in fields.items()},
                                forbid_unknown_fields=True)
        self.struct = (msgspec.json.Decoder(row), fields)


_SMALL_SHAPE = 32  # keys a Struct may always have, however few each object holds
_UNNAMEABLE = re.compile(r'[\\"\x00-\x1f]')  # msgspec refuses these in a renamed field


def decode_lines_block(origin: LinesOrigin, decoder: msgspec.json.Decoder, limits: SourceLimits,
                       lines: list[bytes] | None = None,
                       shape: ObjectShape | None = None) -> RecordsChunk:
    """The chunk of one block of whole lines. A block whose every line is one object is
    decoded in one call (tiers 1 and 2), into `shape`'s Struct when its objects hold only keys
    seen before; any other is read line by line, so a bad line is its own BadRow (tier 3).
    `lines`: the body already split."""
    body, line_no = origin.body, origin.line_no
    nul = b"\\u0000" in body  # JSON text holds a NUL only escaped (a raw one is a malformed line)
    marked = origin.check_markers and MARKER_BYTES.search(body) is not None
    whole: list[dict[str, Any]] | None = None
    if lines is None and not marked and shape is not None:
        typed = _struct_rows(body, line_no, nul, shape)
        if typed is not None:
            return typed
    if lines is None and not marked:
        whole = _lines_of_objects(body, decoder.decode_lines)
    if whole is None:
        if lines is None:
            lines = body.splitlines(keepends=True)
        whole = None if marked else _objects(lines, decoder.decode)
    if whole is None:
        return _line_by_line(enumerate(lines, line_no + 1), decoder.decode, origin.check_markers,
                             origin.repair, nul, limits)
    if max(map(len, whole)) > limits.max_columns:
        raise limits.too_many_columns()
    if shape is not None:
        shape.learn(whole)
    # every line is one object (a blank line is no JSON): one row per line
    return RecordsChunk(row_numbers=np.arange(line_no + 1, line_no + len(whole) + 1,
                                              dtype=np.int64), nul=nul, records=whole)


def _struct_rows(body: bytes, line_no: int, nul: bool, shape: ObjectShape) -> StructRecordsChunk | None:
    """The block as Struct rows when every line is one object of known keys only (a key not
    seen before fails the decoding: the block is then decoded into dicts, and learned)."""
    struct = shape.struct
    if struct is None:
        return None
    decoder, fields = struct
    breaks = _line_breaks(body)
    if breaks is None:
        return None
    try:
        rows = decoder.decode_lines(body)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        return None
    if len(rows) != len(breaks) + (body[-1] != _LF):
        return None
    # A Struct has no more keys than `shape` holds, at most max_columns: no row is too wide.
    starts = np.concatenate([[0], breaks + 1])
    if body[-1] != _LF:
        starts = np.append(starts, len(body))
    return StructRecordsChunk(np.arange(line_no + 1, line_no + len(rows) + 1, dtype=np.int64),
                              nul, rows, fields, body, starts)


def decode_some_lines(origin: LinesOrigin, rows: np.ndarray, limits: SourceLimits) -> RecordsChunk:
    """Only the lines numbered `rows` of a stored block, each read on its own: what the whole
    block's chunk holds for them (every tier gives what the line-by-line reading gives)."""
    lines = origin.body.splitlines(keepends=True)
    wanted = [(int(n), lines[int(n) - origin.line_no - 1]) for n in np.sort(rows)]
    nul = any(b"\\u0000" in raw for _, raw in wanted)
    return _line_by_line(wanted, msgspec.json.Decoder().decode, origin.check_markers,
                         origin.repair, nul, limits)


def _line_by_line(lines: Iterable[tuple[int, bytes]], decode: Callable[[bytes], Any],
                  check_markers: bool, repair: bool, nul: bool,
                  limits: SourceLimits) -> RecordsChunk:
    """Numbered lines, at least one of which may not be one JSON object: each judged alone."""
    numbers: list[int] = []
    records: list[dict[str, Any]] = []
    bad: list[BadRow] = []
    repaired: list[int] = []
    for line_no, raw in lines:
        content = raw.rstrip(b"\r\n")
        if not content.strip():
            continue
        if check_markers and MARKER_BYTES.search(content):
            if not repair:
                bad.append(BadRow(line_no, "undecodable", _text(content), ENCODING_LINE_MESSAGE))
                continue
            content = MARKER_BYTES.sub(_REPLACEMENT, content)
            repaired.append(len(records))
        try:
            obj = decode(content)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError,
                RecursionError):
            if repaired and repaired[-1] == len(records):
                repaired.pop()
            bad.append(BadRow(line_no, "malformed", _text(content), NOT_JSON))
            continue
        if isinstance(obj, dict) and len(obj) > limits.max_columns:
            raise limits.too_many_columns()
        if not isinstance(obj, dict):
            if repaired and repaired[-1] == len(records):
                repaired.pop()
            bad.append(BadRow(line_no, "malformed", _text(content), NOT_OBJECT))
            continue
        numbers.append(line_no)
        records.append(obj)
    return RecordsChunk(row_numbers=np.array(numbers, dtype=np.int64), bad_rows=bad, nul=nul,
                        records=records, repaired_rows=repaired)


def _lines_of_objects(body: bytes, decode_lines: Callable[[bytes], list[Any]]) -> list[dict[str, Any]] | None:
    """The objects of a block of whole LF-ended lines when each line is exactly one object
    written `{…}` edge to edge (what exporters write), decoded in one call; else None.
    decode_lines reads a stream of values, not of lines, so the lines are checked first: each
    LF sits between a `}` and a `{`, which cannot be inside one JSON value (a raw LF in a
    string is invalid, and in a container a `{` after a `}` needs a comma), so every LF ends a
    value; as many values as lines then means no line held two."""
    breaks = _line_breaks(body)
    if breaks is None:
        return None
    try:
        objects = decode_lines(body)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        return None
    if len(objects) != len(breaks) + (body[-1] != _LF):
        return None
    return objects  # each line starts with `{`: all objects


def _line_breaks(body: bytes) -> np.ndarray | None:
    """The LFs of a block of lines each written `{…}` edge to edge, or None: each LF sits
    between a `}` and a `{` (see _lines_of_objects)."""
    if not body or body[0] != _OPEN:
        return None
    codes = np.frombuffer(body, dtype=np.uint8)
    breaks = np.flatnonzero(codes == _LF)
    nexts = breaks[:-1] + 1 if body[-1] == _LF else breaks + 1
    if (len(breaks) and (codes[breaks - 1] != _CLOSE).any()) or (codes[nexts] != _OPEN).any():
        return None
    return breaks


_LF, _OPEN, _CLOSE = ord("\n"), ord("{"), ord("}")


def _objects(lines: list[bytes], decode: Callable[[bytes], Any]) -> list[dict[str, Any]] | None:
    """The block's objects when every line is one JSON object (the usual case), decoded without
    a Python step per line; else None, and the block is read line by line, which tells blank,
    malformed and non-object lines apart and numbers them. msgspec takes a line's CR / LF as
    the trailing whitespace JSON allows, and a blank line is not JSON, so it goes line by line."""
    try:
        objects = list(map(decode, lines))
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        return None
    if set(map(type, objects)) != {dict}:
        return None
    return objects


def _text(content: bytes) -> str:
    return replace_markers(content.decode("utf-8", errors="replace"))
