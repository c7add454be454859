"""Source bytes as a clean UTF-8 stream: decompressed, BOM removed, transcoded, sanitised.

Parsers downstream (pyarrow's CSV reader, msgspec) need valid UTF-8, but a row with bytes that
are invalid in the file's encoding must still be read, numbered and reported as ENCODING_ERROR.
So every such byte is replaced by a *marker*: the private-use code point U+10FF00 + byte value.
Markers are valid UTF-8 (4 bytes, never a delimiter, quote or newline), so records split exactly
as they would have; the validator finds markers in a cell, rejects (or repairs) the row, and
shows each as U+FFFD. A genuine U+10FFxx in the data would be taken for a marker, but only in a
file that also has invalid bytes; that plane is unassigned private use and has not been met.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

MARKER_BASE = 0x10FF00
MARKER_REGEX = "[\U0010FF00-\U0010FFFF]"  # for pyarrow.compute (RE2)
MARKER_BYTES = re.compile(rb"\xf4\x8f[\xbc-\xbf][\x80-\xbf]")
_TO_REPLACEMENT = {MARKER_BASE + b: "\ufffd" for b in range(256)}

READ_SIZE = 1 << 20


def _marker(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    return "".join(chr(MARKER_BASE + b) for b in bad), exc.end


codecs.register_error("lading-marker", _marker)


def replace_markers(text: str) -> str:
    """Markers back to U+FFFD, for the error file and for landing_friendly repairs."""
    return text.translate(_TO_REPLACEMENT)


_MARKER_TEXT = re.compile(MARKER_REGEX)


def has_marker(text: str) -> bool:
    return _MARKER_TEXT.search(text) is not None


# WHATWG windows-1252: cp1252, with the five bytes it leaves undefined mapped as in latin-1.
_CP1252 = bytes(range(256)).decode("cp1252", errors="replace")
_CP1252 = "".join(chr(i) if ch == "\ufffd" else ch for i, ch in enumerate(_CP1252))
_LATIN1_TO_CP1252 = {i: ord(ch) for i, ch in enumerate(_CP1252) if i != ord(ch)}

BOMS = {
    "utf-8": codecs.BOM_UTF8,
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
}


def open_bytes(path: Path, compressed: bool) -> BinaryIO:
    """The file's (decompressed) bytes as a forward-only stream."""
    return open_tracked(path, compressed)[0]


def open_tracked(path: Path, compressed: bool) -> tuple[BinaryIO, Callable[[], int]]:
    """The file's (decompressed) bytes, and how far into the file on disk reading has got (what
    progress is measured in: the file's size is known, a .gz file's inflated size is not)."""
    disk = open(path, "rb")

    def position() -> int:
        return 0 if disk.closed else disk.tell()
    if not compressed:
        return disk, position
    try:
        return pa.input_stream(disk, compression="gzip"), position  # closing it closes `disk`
    except BaseException:
        disk.close()
        raise


def read_head(path: Path, compressed: bool, size: int = 1 << 16) -> bytes:
    with open_bytes(path, compressed) as fh:
        return fh.read(size)


class Utf8Stream:
    """A forward-only file object yielding sanitised UTF-8 (`read(n)` returns n bytes until EOF).

    `markers` counts the invalid bytes replaced so far, and `nul` says whether a NUL character
    has been seen; readers check them to know whether cells can hold markers or NULs at all, so
    clean files pay nothing for those checks.
    """

    def __init__(self, raw: BinaryIO, encoding: str, skip_bom: bool) -> None:
        self._raw = raw
        self.encoding = encoding
        self._skip_bom = skip_bom
        self._pending = b""  # undecoded tail (an incomplete sequence)
        # Converted bytes not handed out yet, as read: joined once by read(), not appended
        # to a buffer and copied out of it again (a copy of every byte fewer).
        self._out: list[bytes] = []
        self._held = 0  # their total length
        self._eof = False
        self.markers = 0
        self.nul = False
        self.closed = False
        self.delivered = 0  # bytes handed out by read()
        self._decoder = None
        if encoding.startswith("utf-16"):
            self._decoder = codecs.getincrementaldecoder(encoding)(errors="lading-marker")

    # pyarrow's PythonFile asks for these
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._raw.close()

    def __enter__(self) -> "Utf8Stream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read(self, n: int = -1) -> bytes:
        while (n < 0 or self._held < n) and not self._eof:
            self._fill()
        pieces = self._out
        if n < 0 or n >= self._held:
            data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
            self._out, self._held = [], 0
        else:
            # Pieces are the last read's rest and what this one filled until it held n bytes,
            # so byte n is in the last piece: its bytes past n stay for the next read.
            over = self._held - n
            last = pieces[-1]
            pieces[-1] = last[:len(last) - over]
            data = b"".join(pieces)
            self._out, self._held = [last[len(last) - over:]], over
        self.delivered += len(data)
        return data

    def _fill(self) -> None:
        data = self._raw.read(READ_SIZE)
        final = not data
        if self._skip_bom:
            data = self._pending + data
            self._pending = b""
            bom = BOMS.get(self.encoding, b"")
            if len(data) < len(bom) and not final:
                self._pending = data
                return
            if bom and data.startswith(bom):
                data = data[len(bom):]
            self._skip_bom = False
        if final:
            self._eof = True
        converted = self._convert(data, final)
        if not self.nul and b"\0" in converted:
            self.nul = True
        if converted:
            self._out.append(converted)
            self._held += len(converted)

    def _convert(self, data: bytes, final: bool) -> bytes:
        if self.encoding == "cp1252":
            return data.decode("latin-1").translate(_LATIN1_TO_CP1252).encode("utf-8")
        if self._decoder is not None:
            encoded = self._decoder.decode(data, final).encode("utf-8")
            self.markers += len(MARKER_BYTES.findall(encoded))
            return encoded
        return self._validate_utf8(data, final)

    def _validate_utf8(self, data: bytes, final: bool) -> bytes:
        data = self._pending + data
        # A block ending in an ASCII byte ends on a character boundary: when Arrow finds it valid
        # (the strict decoder's rules, a seventh of its time), nothing is held back. Any other
        # block, valid or not, takes the strict decoder's path.
        if data.isascii() or (data[-1] < 0x80 and _valid_utf8(data)):
            self._pending = b""
            return data
        try:
            _, used = codecs.utf_8_decode(data, "strict", final)
        except UnicodeDecodeError:
            out, used, bad = sanitise_utf8(data, final)
            self.markers += bad
        else:
            out = data[:used]
        self._pending = data[used:]
        return out


def _valid_utf8(data: bytes) -> bool:
    """Whether `data` is well-formed UTF-8, checked by Arrow's validator without a copy."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int32))
    try:
        pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(data)]).cast(pa.string())
    except pa.ArrowInvalid:
        return False
    return True


_ESCAPE_FIRST = 0xDC80  # surrogateescape turns an invalid byte b (>= 0x80) into U+DC00 + b


def sanitise_utf8(data: bytes, final: bool) -> tuple[bytes, int, int]:
    """(UTF-8 with a marker for every invalid byte, bytes consumed, invalid bytes found).

    Linear, and without a Python call per bad byte: the C decoder escapes each invalid byte as
    a lone surrogate (UTF-8 never encodes one, so every surrogate is an escape), numpy moves the
    escapes to the markers' plane in one pass over the code points, and the C encoder writes the
    result. When not `final`, an incomplete sequence at the end is left unconsumed.
    """
    text, used = codecs.utf_8_decode(data, "surrogateescape", final)
    if not text:
        return b"", used, 0
    points = np.array(text).reshape(1).view(np.uint32)[: len(text)]
    escaped = np.subtract(points, _ESCAPE_FIRST, dtype=np.uint32) < 128
    np.add(points, MARKER_BASE - 0xDC00, out=points, where=escaped)
    fixed = points.tobytes().decode("utf-32-le").encode("utf-8")
    return fixed, used, int(np.count_nonzero(escaped))


def detect_encoding(head: bytes) -> tuple[str, bool]:
    """(encoding, has_bom) for a file starting with `head`.

    A BOM decides. Otherwise NUL bytes at every other position mean UTF-16 without BOM. A
    sample that is valid UTF-8 (an incomplete sequence cut off at the end aside) is UTF-8.
    A sample with invalid bytes is legacy cp1252 (WHATWG windows-1252, so every byte decodes)
    when it has no valid multi-byte UTF-8 sequence at all and its high bytes are not only
    0xFE/0xFF (which no text encoding uses much, and which mark corruption far more often);
    otherwise it is UTF-8 whose bad bytes reject their rows as ENCODING_ERROR.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", True
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", True
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", True
    if head.count(0) >= 2 and head.count(0) * 4 >= len(head):
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd >= 2 * even and odd:
            return "utf-16-le", False
        if even >= 2 * odd and even:
            return "utf-16-be", False
    try:
        head.decode("utf-8")
        return "utf-8", False
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf-8", False
    text = head.decode("utf-8", errors="lading-marker")
    valid_multibyte = sum(1 for c in text if 0x80 <= ord(c) < MARKER_BASE)
    bad = [ord(c) - MARKER_BASE for c in text if ord(c) >= MARKER_BASE]
    if valid_multibyte == 0 and any(b < 0xFE for b in bad):
        return "cp1252", False
    return "utf-8", False


def decode_head(head: bytes, encoding: str, bom: bool) -> str:
    """The head as text (markers for invalid bytes), for sniffing."""
    if bom:
        head = head[len(BOMS.get(encoding, b"")):]
    if encoding == "cp1252":
        return head.decode("latin-1").translate(_LATIN1_TO_CP1252)
    return head.decode(encoding, errors="lading-marker")
