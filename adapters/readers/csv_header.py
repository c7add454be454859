"""The CSV header's extent, found before pyarrow sees the file, so a hostile header is refused
without building anything per column (issue 9.17: 100,000 columns took pyarrow to 1 GB).

The scan follows pyarrow's reading of the dialect: blank lines before the header are skipped; a
field that starts with the quote character runs to the closing quote (a doubled quote is one
quote, line breaks inside are data) and then, like any field, to the next delimiter or line
break. It works field by field with regular expressions over a buffer that doubles as needed,
so it is linear in the header's length and stops at the first column over the limit.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from lading.adapters.readers.limits import SourceLimits
from lading.domain.errors import SourceUnreadable

_FIRST_READ = 1 << 16
HEADER_NEVER_ENDS = ("cannot parse the CSV file: its header row never ends "
                     "(a quoted field is not closed)")


def header_extent(stream: BinaryIO, delimiter: str, quote: str, limits: SourceLimits) -> int:
    """The number of bytes up to the end of the header record (0: no header at all).

    Raises TOO_MANY_COLUMNS past `limits.max_columns`, RECORD_TOO_LARGE past the record cap,
    and SourceUnreadable when a quote opened in the header never closes.
    """
    d, q = re.escape(delimiter.encode()), re.escape(quote.encode())
    quoted = re.compile(q + b"[^" + q + b"]*(?:" + q + q + b"[^" + q + b"]*)*" + q)
    unquoted = re.compile(b"[^" + d + b"\r\n]*")
    quote_byte = quote.encode()[0]
    delimiter_byte = delimiter.encode()[0]
    buf = b""
    eof = False
    cap = limits.max_record_bytes

    def more() -> None:
        nonlocal buf, eof
        piece = stream.read(max(_FIRST_READ, len(buf)))
        if not piece:
            eof = True
        buf += piece

    more()
    start = 0
    while True:  # blank lines before the header are not records
        while start < len(buf) and buf[start] in b"\r\n":
            start += 1
        if start < len(buf) or eof:
            break
        more()
    if start >= len(buf):
        return 0
    pos, field_start, columns = start, True, 1
    while True:
        if pos - start > cap:
            raise limits.record_too_large("the header", "; a quoted field may never close")
        if pos >= len(buf):
            if eof:
                return pos
            more()
            continue
        if field_start and buf[pos] == quote_byte:
            m = quoted.match(buf, pos)
            if m is None or (m.end() == len(buf) and not eof):
                if eof:
                    raise SourceUnreadable(HEADER_NEVER_ENDS)
                if len(buf) - start > cap:
                    raise limits.record_too_large("the header", "; a quoted field may never close")
                more()  # then match the quoted field again, from its start
                continue
            pos = m.end()
        field_start = False
        pos = unquoted.match(buf, pos).end()
        if pos >= len(buf):
            continue
        if buf[pos] == delimiter_byte:
            columns += 1
            if columns > limits.max_columns:
                raise limits.too_many_columns()
            pos += 1
            field_start = True
            continue
        return pos  # a line break ends the header
