"""What a reader hands the validator: one chunk of source rows, in source order.

Well-formed rows come as columns (Arrow arrays for CSV and Parquet, Python lists for NDJSON)
with their row numbers; rows that could not be split into the header's columns come separately
as BadRows, also numbered, so no read row is ever lost.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import msgspec
import numpy as np
import pyarrow as pa

from lading.adapters.readers.text_stream import replace_markers
from lading.domain.reference_validator import json_ready


@dataclass(frozen=True)
class BadRow:
    row_number: int
    kind: str  # "ragged" (CSV cell count), "malformed" (not a JSON object), "undecodable"
    text: str  # the record or line as read, markers shown as U+FFFD
    message: str = ""
    cells: tuple[str, ...] | None = None  # ragged CSV records, split with the file's dialect


@dataclass
class SourceChunk:
    row_numbers: np.ndarray  # int64, the well-formed rows, ascending
    bad_rows: list[BadRow] = field(default_factory=list)
    markers: bool = False  # text values may hold encoding markers (see text_stream)
    nul: bool = True  # text values may hold U+0000 (readers that can tell say False)
    bytes_read: int = 0  # how far into the file on disk reading had got for this chunk (progress)

    @property
    def num_rows(self) -> int:
        return len(self.row_numbers)

    @property
    def read_rows(self) -> int:
        return self.num_rows + len(self.bad_rows)

    def column(self, position: int, header: Sequence[str]) -> Any:
        raise NotImplementedError

    def source_rows(self, indices: Sequence[int], names: Sequence[str]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def repaired(self) -> np.ndarray | None:
        """Rows whose undecodable bytes were replaced (landing_friendly NDJSON), or None."""
        return None


@dataclass
class TableChunk(SourceChunk):
    """CSV (every column text) and Parquet (typed columns) chunks."""

    batch: pa.RecordBatch | None = None

    def column(self, position: int, header: Sequence[str]) -> pa.Array:
        return self.batch.column(position)

    def source_rows(self, indices: Sequence[int], names: Sequence[str]) -> list[dict[str, Any]]:
        if not len(indices):
            return []
        taken = self.batch.take(pa.array(indices, type=pa.int64()))
        columns = [self._json_values(c) for c in taken.columns]
        return [dict(zip(names, values)) for values in zip(*columns)]

    def _json_values(self, column: pa.Array) -> list[Any]:
        values = column.to_pylist()
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            # text is JSON as it is (CSV's every column): only markers need replacing
            if self.markers:
                return [v if v is None else replace_markers(v) for v in values]
            return values
        return [json_ready(replace_markers(v) if isinstance(v, str) and self.markers else v)
                for v in values]


_EXACT = (pa.string(), pa.bool_())
# A value of another kind (or a key name UTF-8 cannot hold, a lone surrogate) fails the whole
# conversion; the key is then read as a Python list.
_NOT_EXACT = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, UnicodeError)


class RowValues(Sequence[Any]):
    """One field's values in a chunk's rows, each looked up (`get`) only for the rows asked
    for (the rows an error entry or a report sample shows)."""

    def __init__(self, rows: list[Any], get: Callable[[Any], Any]) -> None:
        self.rows = rows
        self.get = get

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return list(map(self.get, self.rows[index]))
        return self.get(self.rows[index])


@dataclass(frozen=True)
class LinesOrigin:
    """An NDJSON chunk's whole lines as read (UTF-8, encoding markers in place) and what
    decoding them again needs: a split job stores these, not the decoded objects (ADR 0130)."""

    body: bytes
    line_no: int  # the lines before the first one
    check_markers: bool  # the stream had replaced undecodable bytes by this block
    repair: bool  # landing_friendly: marked lines are repaired, not rejected


@dataclass
class RecordsChunk(SourceChunk):
    """NDJSON chunks: one decoded JSON object per well-formed line."""

    records: list[dict[str, Any]] = field(default_factory=list)
    repaired_rows: list[int] = field(default_factory=list)  # indices into records
    origin: LinesOrigin | None = None  # its lines, kept by NdjsonSource.decode (a split job)

    def column(self, position: int, header: Sequence[str]) -> list[Any]:
        key = header[position]
        return [r.get(key) for r in self.records]

    def exact_columns(self, types: dict[str, pa.DataType]) -> dict[str, pa.Array]:
        """The keys whose values are all of their type's JSON kind, or null, or missing (str
        for pa.string(), true / false for pa.bool_()), as Arrow arrays; a key with any other
        value is left out. pyarrow converts the objects to a struct in one pass in C, and
        converts into those two types only values of exactly that kind, so a conversion that
        succeeds is what a Python list of the values would have given."""
        if any(t not in _EXACT for t in types.values()):
            raise ValueError("only text and booleans convert exactly")
        if not types:
            return {}
        try:
            converted = pa.array(self.records, pa.struct(list(types.items())))
            return {key: converted.field(i) for i, key in enumerate(types)}
        except _NOT_EXACT:
            pass
        columns = {}
        for key, typ in types.items():
            try:
                columns[key] = pa.array(self.records, pa.struct([(key, typ)])).field(0)
            except _NOT_EXACT:
                continue
        return columns

    def given_values(self, key: str) -> Sequence[Any]:
        """Each object's value of `key` (None where missing), looked up when asked for."""
        return RowValues(self.records, lambda record: record.get(key))

    def source_rows(self, indices: Sequence[int], names: Sequence[str]) -> list[dict[str, Any]]:
        return [json_ready(self.records[i]) for i in indices]

    def repaired(self) -> np.ndarray | None:
        if not self.repaired_rows:
            return None
        mask = np.zeros(len(self.records), dtype=bool)
        mask[self.repaired_rows] = True
        return mask


class StructRecordsChunk(RecordsChunk):
    """An NDJSON chunk whose every line is one object holding only keys the file had before,
    decoded into a msgspec Struct of those keys (`fields`: key -> attribute) rather than into
    dicts: half the decoding, and the columns are gathered a row at a time in C (ADR 0131).
    Missing keys read as None, as `dict.get` reads them. The lines are kept: an error entry
    shows its line's object exactly as written (key order, every key), and `records` decodes
    the dicts again for the few callers that want whole objects (a sample, an export)."""

    def __init__(self, row_numbers: np.ndarray, nul: bool, rows: list[Any], fields: dict[str, str],
                 body: bytes, line_starts: np.ndarray) -> None:
        super().__init__(row_numbers=row_numbers, nul=nul)
        self.rows = rows
        self.fields = fields
        self.body = body
        self.line_starts = line_starts  # where each row's line begins; one more: the body's end
        self._records: list[dict[str, Any]] | None = None

    @property  # type: ignore[override]
    def records(self) -> list[dict[str, Any]]:
        if self._records is None:
            self._records = msgspec.json.Decoder().decode_lines(self.body)
        return self._records

    @records.setter
    def records(self, value: list[dict[str, Any]]) -> None:
        self._records = value or None  # RecordsChunk's __init__ sets the empty default

    def column(self, position: int, header: Sequence[str]) -> list[Any]:
        return self._values(header[position])

    def given_values(self, key: str) -> Sequence[Any]:
        attribute = self.fields.get(key)
        return RowValues(self.rows, operator.attrgetter(attribute)) if attribute else [None] * len(self.rows)

    def _values(self, key: str) -> list[Any]:
        attribute = self.fields.get(key)
        if attribute is None:
            return [None] * len(self.rows)  # no object of the file before had this key
        return list(map(operator.attrgetter(attribute), self.rows))

    def exact_columns(self, types: dict[str, pa.DataType]) -> dict[str, pa.Array]:
        if any(t not in _EXACT for t in types.values()):
            raise ValueError("only text and booleans convert exactly")
        n = len(self.rows)
        columns = {key: pa.nulls(n, typ) for key, typ in types.items() if key not in self.fields}
        held = {key: typ for key, typ in types.items() if key in self.fields}
        if not held:
            return columns
        # Converted from tuples as pyarrow converts the dicts (the same converter per field):
        # a conversion that succeeds is exact, as RecordsChunk.exact_columns says.
        try:
            converted = pa.array(self._tuples(list(held)), pa.struct(list(held.items())))
            columns.update({key: converted.field(i) for i, key in enumerate(held)})
            return columns
        except _NOT_EXACT:
            pass
        for key, typ in held.items():
            try:
                columns[key] = pa.array(self._tuples([key]), pa.struct([(key, typ)])).field(0)
            except _NOT_EXACT:
                continue
        return columns

    def _tuples(self, keys: list[str]) -> list[tuple[Any, ...]]:
        attributes = [self.fields[key] for key in keys]
        if len(attributes) == 1:
            one = operator.attrgetter(attributes[0])
            return [(one(row),) for row in self.rows]
        return list(map(operator.attrgetter(*attributes), self.rows))

    def source_rows(self, indices: Sequence[int], names: Sequence[str]) -> list[dict[str, Any]]:
        decode = msgspec.json.Decoder().decode
        starts = self.line_starts
        return [json_ready(decode(self.body[starts[i]:starts[i + 1]])) for i in indices]
