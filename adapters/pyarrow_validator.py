"""A chunk of source rows judged at once: the vectorised twin of domain.reference_validator.

Per field, adapters/pyarrow_fields/ gives typed values and an Issue / Healing code per row;
here those are combined into row outcomes with the same steps and the same order as the
reference (row-level problems, fields, `unique`, key), and the rejected rows, which are few,
are written out one by one with the reference's messages.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lading.adapters.arrow_types import arrow_type
from lading.adapters.numpy_key_registry import KeyRegistry, fingerprints, is_exact, normalised
from lading.adapters.pyarrow_fields.column import ColumnInput, FieldColumn, evaluate_column
from lading.adapters.readers.source_chunk import BadRow, RecordsChunk, SourceChunk
from lading.adapters.readers.text_stream import MARKER_REGEX, replace_markers
from lading.adapters.key_json import key_of
from lading.domain.field_rules import ISSUE_CODES, FieldRule, Healing, Issue, message
from lading.domain.reference_validator import KeyLookup, source_row_from_cells
from lading.domain.error_entries import DEFAULT_VALUE_CHARS, error_entry
from lading.domain.row_errors import FieldError, RowErrorCode
from lading.domain.validation_plan import ROW_LEVEL, WARN_ENCODING, WARN_RAGGED, ValidationPlan
from lading.domain.value_formats import display_value

VALUE_SAMPLES = 5  # rows shown per healing kind and per warning in the detailed report


_NO_KEY, _DUPLICATE, _EXISTS, _NOT_FOUND = 0, 1, 2, 3
_KEY_CODES = {_DUPLICATE: RowErrorCode.DUPLICATE_KEY, _EXISTS: RowErrorCode.KEY_EXISTS,
              _NOT_FOUND: RowErrorCode.KEY_NOT_FOUND}
_NATIVE_TEXT = {"string", "date", "datetime", "time"}
# Integers beyond 2**53 are not all exact as float64 (a `number`), nor beyond 2**63 as int64.
_EXACT_INT = 2**53
_NATIVE_PY = {
    "integer": (int,), "year": (int,), "number": (int, float), "boolean": (bool,),
}
# Each NDJSON value's kind, by its exact type (a bool is not an int here); dicts and lists
# are _OTHER. The msgspec decoder makes no other types.
_NULL, _OTHER = 0, 5
_KIND_CODES = {type(None): _NULL, str: 1, int: 2, float: 3, bool: 4}
_NATIVE_CODES = {kind: tuple(_KIND_CODES[t] for t in types) for kind, types in _NATIVE_PY.items()}


@dataclass
class ChunkResult:
    table: pa.Table | None
    read_rows: int
    valid_rows: int
    errors: list[tuple[int, dict[str, Any]]]  # (rowNumber, error file entry), source order
    rejected_by_code: dict[str, int] = field(default_factory=dict)
    rejected_by_field: dict[str, dict[str, int]] = field(default_factory=dict)
    healed_by_field: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings_by_field: dict[str, int] = field(default_factory=dict)
    # The first rows of each healing (field -> kind) and each warning (field), for the report:
    # {rowNumber, value (as given), healed (as stored)} and {rowNumber, value}.
    healing_samples: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    warning_samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # For the per-row results: the valid rows' numbers (in the table's order) and each
    # rejected row's key by row number (its typed key where it parsed, else the text given).
    valid_row_numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rejected_keys: dict[int, Any] = field(default_factory=dict)


class _View:
    """The chunk's well-formed rows, plus (landing_friendly) its ragged rows padded to the
    header's width, all in row-number order."""

    def __init__(self, chunk: SourceChunk, header: Sequence[str], names: Sequence[str],
                 ragged: list[BadRow]) -> None:
        self.chunk = chunk
        self.header = header
        self.names = names
        self.ragged = ragged
        n = chunk.num_rows
        numbers = np.concatenate([chunk.row_numbers,
                                  np.array([b.row_number for b in ragged], dtype=np.int64)])
        self.order = np.argsort(numbers, kind="stable")
        self.numbers = numbers[self.order]
        self.from_ragged = self.order >= n
        self.identity = not ragged
        self.n = len(numbers)

    def column(self, position: int) -> Any:
        base = self.chunk.column(position, self.header)
        if self.identity:
            return base
        width = len(self.header)
        extra = [(list(b.cells) + [None] * width)[position] for b in self.ragged]
        combined = pa.concat_arrays([base.cast(pa.string()), pa.array(extra, pa.string())])
        return combined.take(pa.array(self.order))

    def source_rows(self, rows: Sequence[int]) -> list[dict[str, Any]]:
        n = self.chunk.num_rows
        original = [int(self.order[r]) for r in rows]
        plain = [o for o in original if o < n]
        from_chunk = dict(zip(plain, self.chunk.source_rows(plain, self.names)))
        out = []
        for o in original:
            if o < n:
                out.append(from_chunk[o])
            else:
                cells = self.ragged[o - n].cells
                if self.chunk.markers:
                    cells = [replace_markers(c) for c in cells]
                out.append(source_row_from_cells(self.names, cells))
        return out


class ChunkValidator:
    """Judges chunks in source order, remembering accepted keys across chunks."""

    def __init__(self, vplan: ValidationPlan, key_lookup: KeyLookup | None, spill_dir: Path,
                 value_chars: int = DEFAULT_VALUE_CHARS) -> None:
        self.vplan = vplan
        self.value_chars = value_chars  # error file values are cut beyond this many characters
        self.key_lookup = key_lookup
        self.rules = vplan.rules
        self.by_name = {r.name: r for r in self.rules}
        self.key_rules = [self.by_name[k] for k in vplan.key_fields]
        self.unique_rules = [self.by_name[u] for u in vplan.unique_fields]
        self.names = vplan.source_names
        self.keys = KeyRegistry([arrow_type(r.field) for r in self.key_rules], spill_dir, "keys")
        self.uniques = {r.name: KeyRegistry([arrow_type(r.field)], spill_dir, f"unique-{r.name}")
                        for r in self.unique_rules}
        self.order = vplan.schema.field_names
        # Per field, across chunks: which fast path failed before (a dirty column's optimistic
        # cast fails on every chunk and costs as much as one that succeeds).
        self.hints: dict[str, dict] = {r.name: {} for r in self.rules}
        self._messages: dict[tuple[int, int, int], str] = {}
        # The last chunk's rows whose key was judged against the registries (no field issue):
        # their row numbers and normalised key columns (ADR 0055 settles chunks with them).
        self.candidates: tuple[np.ndarray, list[pa.Array]] = (np.zeros(0, np.int64), [])

    def continue_keys_of(self, earlier: "ChunkValidator") -> None:
        """Judge keys as if this source continued `earlier`'s (several files read as one)."""
        self.keys = earlier.keys
        self.uniques = {name: earlier.uniques.get(name, registry)
                        for name, registry in self.uniques.items()}

    # -- per chunk ------------------------------------------------------------------------

    def validate(self, chunk: SourceChunk, index: int) -> ChunkResult:
        p = self.vplan
        ragged = [b for b in chunk.bad_rows if b.kind == "ragged"]
        unusable = [b for b in chunk.bad_rows if b.kind != "ragged" or not p.landing]
        view = _View(chunk, p.header, self.names, ragged if p.landing else [])
        n = view.n
        inputs, encoding, nul = self._inputs(view, chunk)
        columns = [evaluate_column(rule, inputs[rule.name], self.hints[rule.name])
                   for rule in self.rules]
        issues = np.stack([c.issue for c in columns]) if columns else np.zeros((0, n), np.int8)
        enc_rows = np.zeros(n, dtype=bool)
        for mask in encoding.values():
            enc_rows |= mask
        repaired = chunk.repaired()
        if p.landing:
            key_positions = [self.rules.index(r) for r in self.key_rules]
            rejected = (issues[key_positions] != Issue.NONE).any(axis=0) if key_positions else np.zeros(n, bool)
        else:
            rejected = (issues != Issue.NONE).any(axis=0) | enc_rows
        values = {rule.name: col.values for rule, col in zip(self.rules, columns)}
        self.candidates = (np.zeros(0, np.int64), [])
        key_code, unique_bad, unique_null = self._keys(values, ~rejected, index)
        self.candidates = (view.numbers[self.candidates[0]], self.candidates[1])
        accepted = ~rejected & (key_code == _NO_KEY)
        for bad in unique_bad.values():
            accepted &= ~bad
        for name, nulls in unique_null.items():
            if nulls.any():
                values[name] = pc.if_else(pa.array(nulls), pa.scalar(None, values[name].type),
                                          values[name])

        result = ChunkResult(table=None, read_rows=chunk.read_rows, valid_rows=int(accepted.sum()),
                             errors=[])
        if result.valid_rows:
            keep = pa.array(accepted)
            staged = [f for f in p.staged_fields]
            result.table = pa.table([values[f].filter(keep) for f in staged],
                                    schema=pa.schema([pa.field(f, arrow_type(self.by_name[f].field))
                                                      for f in staged]))
        self._count_accepted(result, columns, issues, accepted, view, encoding, repaired, unique_null,
                             inputs)
        self._entries(result, view, inputs, columns, issues, encoding, nul, rejected, key_code,
                      unique_bad, accepted, unusable)
        result.valid_row_numbers = view.numbers[accepted]
        result.rejected_keys = self._rejected_keys(view, inputs, columns, accepted)
        return result

    def _rejected_keys(self, view: _View, inputs: dict[str, ColumnInput],
                       columns: list[FieldColumn], accepted: np.ndarray) -> dict[int, Any]:
        """Rows cut before they had fields (malformed, undecodable) have no key: absent here."""
        rows = np.nonzero(~accepted)[0]
        if not len(rows) or not self.key_rules:
            return {}
        names = [r.name for r in self.key_rules]
        parts = []
        for rule in self.key_rules:
            typed = columns[self.rules.index(rule)].values.take(pa.array(rows)).to_pylist()
            given = inputs[rule.name].display(rows)  # type: ignore[attr-defined]
            parts.append([t if t is not None else g for t, g in zip(typed, given)])
        return {int(view.numbers[row]): key_of(names, values)
                for row, values in zip(rows.tolist(), zip(*parts))}

    def _inputs(self, view: _View, chunk: SourceChunk) -> tuple[dict[str, ColumnInput],
                                                               dict[str, np.ndarray],
                                                               dict[str, np.ndarray]]:
        """Each field's input, with the rows whose text cannot be stored: `encoding` (either
        reason) and `nul` (a NUL character in otherwise valid text)."""
        inputs: dict[str, ColumnInput] = {}
        encoding: dict[str, np.ndarray] = {}
        nul: dict[str, np.ndarray] = {}
        exact = _exact_json(self.rules, self.vplan.header, self.vplan.mapping.positions, chunk)
        for rule in self.rules:
            position = self.vplan.mapping.positions[rule.name]
            col = exact.get(rule.name)
            if col is None:
                col = _column_input(rule, view.column(position), view.n)
            col.markers = chunk.markers
            if col.text is not None and (chunk.markers or chunk.nul):
                marked = _mask(pc.match_substring_regex(col.text, MARKER_REGEX)) if chunk.markers \
                    else np.zeros(view.n, dtype=bool)
                nuls = _mask(pc.match_substring(col.text, "\0")) if chunk.nul \
                    else np.zeros(view.n, dtype=bool)
                bad = marked | nuls
                if bad.any():
                    encoding[rule.name] = bad
                    if (nuls & ~marked).any():
                        nul[rule.name] = nuls & ~marked
                    if self.vplan.landing:
                        col.text = pc.replace_substring_regex(col.text, MARKER_REGEX + "|\\x00",
                                                              "\ufffd")
                        if col.given is not None:  # NDJSON values are shown as given: repaired too
                            col.given = [v.replace("\0", "\ufffd") if isinstance(v, str) else v
                                         for v in col.given]
                    else:
                        col.raw_text = col.text
                        col.text = pc.if_else(pa.array(bad), pa.scalar(None, pa.string()), col.text)
            inputs[rule.name] = col
        return inputs, encoding, nul

    # -- keys and unique values -------------------------------------------------------------

    def _keys(self, values: dict[str, pa.Array], candidates: np.ndarray, index: int):
        n = len(candidates)
        code = np.zeros(n, dtype=np.int8)
        unique_bad = {r.name: np.zeros(n, dtype=bool) for r in self.unique_rules} if not self.vplan.landing else {}
        unique_null = {r.name: np.zeros(n, dtype=bool) for r in self.unique_rules} if self.vplan.landing else {}
        cand = np.nonzero(candidates)[0]
        if not len(cand):
            return code, unique_bad, unique_null
        take = pa.array(cand)
        key_columns = [normalised(values[r.name].take(take)) for r in self.key_rules]
        self.candidates = (cand, key_columns)
        gid, firsts = _groups(key_columns)
        first_columns = [c.take(pa.array(firsts)) for c in key_columns]
        seen = self.keys.contains(first_columns)
        fails = np.zeros(len(firsts), dtype=bool)
        op = self.vplan.operation
        if op != "upsert" and self.key_lookup is not None:
            ask = np.nonzero(~seen)[0]
            if len(ask):
                idx = pa.array(ask)
                tuples = list(zip(*(c.take(idx).to_pylist() for c in first_columns)))
                existing = self.key_lookup(tuples)
                exists = np.array([t in existing for t in tuples], dtype=bool)
                fails[ask] = exists if op == "insert" else ~exists
        lookup_code = _EXISTS if op == "insert" else _NOT_FOUND
        if not self.unique_rules:
            is_first = np.zeros(len(cand), dtype=bool)
            is_first[firsts] = True
            row_seen = seen[gid]
            row_fails = fails[gid]
            code[cand[row_seen]] = _DUPLICATE
            code[cand[~row_seen & row_fails]] = lookup_code
            code[cand[~row_seen & ~row_fails & ~is_first]] = _DUPLICATE
            accepted_groups = ~seen & ~fails
            self.keys.add([c.filter(pa.array(accepted_groups)) for c in first_columns], index)
            return code, unique_bad, unique_null
        return self._keys_with_unique(values, cand, gid, seen, fails, lookup_code, key_columns,
                                      code, unique_bad, unique_null, index)

    def _keys_with_unique(self, values, cand, gid, seen, fails, lookup_code, key_columns, code,
                          unique_bad, unique_null, index):
        """With `unique` fields besides the key, each row's fate depends on the rows accepted
        before it, so candidates are walked in order (in Python; only such schemas pay)."""
        take = pa.array(cand)
        landing = self.vplan.landing
        unique_values, unique_seen = {}, {}
        for rule in self.unique_rules:
            column = normalised(values[rule.name].take(take))
            unique_values[rule.name] = column.to_pylist()
            present = np.nonzero(np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False), bool))[0]
            flags = np.zeros(len(cand), dtype=bool)
            if len(present):
                flags[present] = self.uniques[rule.name].contains([column.take(pa.array(present))])
            unique_seen[rule.name] = flags
        accepted_groups: set[int] = set()
        accepted_values: dict[str, set] = {r.name: set() for r in self.unique_rules}
        accepted_rows = []
        for j, row in enumerate(cand.tolist()):
            if not landing:
                clash = [name for name in accepted_values
                         if unique_values[name][j] is not None
                         and (unique_seen[name][j] or unique_values[name][j] in accepted_values[name])]
                if clash:
                    for name in clash:
                        unique_bad[name][row] = True
                    continue
            g = int(gid[j])
            if seen[g] or g in accepted_groups:
                code[row] = _DUPLICATE
                continue
            if fails[g]:
                code[row] = lookup_code
                continue
            accepted_groups.add(g)
            accepted_rows.append(j)
            for name, seen_set in accepted_values.items():
                value = unique_values[name][j]
                if value is None:
                    continue
                if unique_seen[name][j] or value in seen_set:
                    unique_null[name][row] = True
                else:
                    seen_set.add(value)
        rows = pa.array(accepted_rows, type=pa.int64())
        self.keys.add([c.take(rows) for c in key_columns], index)
        for rule in self.unique_rules:
            column = normalised(values[rule.name].take(take)).take(rows)
            if rule.name in unique_null:
                column = pc.if_else(pa.array(unique_null[rule.name][cand[accepted_rows]]),
                                    pa.scalar(None, column.type), column)
            self.uniques[rule.name].add([column.drop_null()], index)
        return code, unique_bad, unique_null

    # -- counting and the error file ---------------------------------------------------------

    def _count_accepted(self, result: ChunkResult, columns: list[FieldColumn], issues: np.ndarray,
                        accepted: np.ndarray, view: _View, encoding: dict[str, np.ndarray],
                        repaired: np.ndarray | None, unique_null: dict[str, np.ndarray],
                        inputs: dict[str, ColumnInput]) -> None:
        healed: dict[str, dict[str, int]] = {}
        for rule, col, issue in zip(self.rules, columns, issues):
            ok = accepted & (issue == Issue.NONE)
            if rule.name in unique_null:
                ok &= ~unique_null[rule.name]
            kinds = np.bincount(col.healing[ok].astype(np.int64), minlength=len(Healing))
            for kind in np.nonzero(kinds[1:])[0] + 1:
                label = Healing(int(kind)).label
                healed.setdefault(rule.name, {})[label] = int(kinds[kind])
                rows = np.nonzero(ok & (col.healing == kind))[0][:VALUE_SAMPLES]
                result.healing_samples.setdefault(rule.name, {})[label] = [
                    {"rowNumber": int(view.numbers[r]), "value": given, "healed": display_value(v)}
                    for r, given, v in zip(rows.tolist(), self._given(inputs[rule.name], rows),
                                           col.values.take(pa.array(rows)).to_pylist())]
        result.healed_by_field = healed
        if not self.vplan.landing:
            return
        warnings: dict[str, int] = {}
        ragged = int((view.from_ragged & accepted).sum())
        if ragged:
            warnings[WARN_RAGGED] = ragged
        enc = np.zeros(view.n, dtype=bool)
        for mask in encoding.values():
            enc |= mask
        if repaired is not None:
            enc |= repaired
        if (enc & accepted).any():
            warnings[WARN_ENCODING] = int((enc & accepted).sum())
        for rule, issue in zip(self.rules, issues):
            nulled = accepted & (issue != Issue.NONE)
            if rule.name in unique_null:
                nulled |= accepted & unique_null[rule.name]
            if nulled.any():
                warnings[rule.name] = int(nulled.sum())
                rows = np.nonzero(nulled)[0][:VALUE_SAMPLES]
                result.warning_samples[rule.name] = [
                    {"rowNumber": int(view.numbers[r]), "value": given}
                    for r, given in zip(rows.tolist(), self._given(inputs[rule.name], rows))]
        result.warnings_by_field = warnings

    @staticmethod
    def _given(column: ColumnInput, rows: np.ndarray) -> list[Any]:
        """The source values of `rows` as error entries show them (none for a constant)."""
        display = getattr(column, "display", None)
        return display(rows) if display is not None else [None] * len(rows)

    def _entries(self, result: ChunkResult, view: _View, inputs: dict[str, ColumnInput],
                 columns: list[FieldColumn], issues: np.ndarray, encoding: dict[str, np.ndarray],
                 nul: dict[str, np.ndarray], rejected: np.ndarray, key_code: np.ndarray, unique_bad: dict[str, np.ndarray],
                 accepted: np.ndarray, unusable: list[BadRow]) -> None:
        p = self.vplan
        rows = np.nonzero(~accepted)[0]
        entries: list[tuple[int, dict[str, Any]]] = []
        if len(rows):
            raws = {rule.name: inputs[rule.name].display(rows) for rule in self.rules}
            sources = view.source_rows(rows.tolist())
            key_names = [r.name for r in self.key_rules]
            row_issues = issues[:, rows].T.tolist()  # one list per rejected row, not a lookup a cell
            for j, (row, source) in enumerate(zip(rows.tolist(), sources)):
                errors: list[FieldError] = []
                if not p.landing and any(m[row] for m in encoding.values()):
                    for rule in self.rules:
                        if rule.name in encoding and encoding[rule.name][row]:
                            why = Issue.NUL if rule.name in nul and nul[rule.name][row] else Issue.ENCODING
                            errors.append(FieldError(RowErrorCode.ENCODING_ERROR,
                                                     message(rule, why), rule.name,
                                                     rule.column, raws[rule.name][j]))
                elif rejected[row]:
                    for k, issue in enumerate(row_issues[j]):
                        rule = self.rules[k]
                        if issue and (not p.landing or rule.name in key_names):
                            errors.append(FieldError(
                                ISSUE_CODES[Issue(issue)],
                                self._message(k, issue, int(columns[k].healing[row])),
                                rule.name, rule.column, raws[rule.name][j]))
                elif any(bad[row] for bad in unique_bad.values()):
                    for rule in self.unique_rules:
                        if unique_bad[rule.name][row]:
                            errors.append(FieldError(
                                RowErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
                                message(rule, Issue.UNIQUE), rule.name, rule.column,
                                raws[rule.name][j]))
                else:
                    errors.append(p.key_error(_KEY_CODES[int(key_code[row])],
                                              [raws[k][j] for k in key_names]))
                entries.append((int(view.numbers[row]), self._entry(int(view.numbers[row]), errors, source)))
        for bad in unusable:
            entries.append((bad.row_number, self._bad_entry(bad)))
        entries.sort(key=lambda e: e[0])
        result.errors = entries
        by_code: Counter[str] = Counter()
        by_field: dict[str, Counter[str]] = defaultdict(Counter)
        for _, entry in entries:
            by_code[entry["code"]] += 1
            for e in entry["errors"]:
                by_field[e["field"] or ROW_LEVEL][e["code"]] += 1
        result.rejected_by_code = dict(by_code)
        result.rejected_by_field = {f: dict(c) for f, c in by_field.items()}

    def _message(self, position: int, issue: int, healing: int) -> str:
        """`message` of the rule at `position`, which depends on the rule, issue and healing
        only: worked out once for all the rows that share them."""
        key = (position, issue, healing)
        text = self._messages.get(key)
        if text is None:
            text = self._messages[key] = message(self.rules[position], Issue(issue),
                                                 Healing(healing))
        return text

    def _entry(self, number: int, errors: list[FieldError], source: dict[str, Any]) -> dict[str, Any]:
        return error_entry(number, errors, source, self.order, self.value_chars)

    def _bad_entry(self, bad: BadRow) -> dict[str, Any]:
        if bad.kind == "ragged":
            cells = [replace_markers(c) for c in bad.cells or ()]
            source = source_row_from_cells(self.names, cells)
            error = FieldError(RowErrorCode.MALFORMED_ROW, bad.message)
        elif bad.kind == "undecodable":
            source = {"_raw": bad.text}
            error = FieldError(RowErrorCode.ENCODING_ERROR, bad.message)
        else:
            source = {"_raw": bad.text}
            error = FieldError(RowErrorCode.MALFORMED_ROW, bad.message)
        return self._entry(bad.row_number, [error], source)


def _mask(matches: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(matches, False).to_numpy(zero_copy_only=False), dtype=bool)


def _groups(columns: list[pa.Array]) -> tuple[np.ndarray, np.ndarray]:
    """Exact groups of equal keys: (group id per row, first row of each group), groups
    numbered in order of their first row."""
    n = len(columns[0])
    if is_exact([c.type for c in columns]):
        fps = fingerprints(columns)
        if n < 2 or bool((fps[1:] > fps[:-1]).all()):
            # Ascending keys (the usual export order) are all distinct: each row its own group.
            return np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64)
        return _mostly_ascending_groups(fps)
    else:
        names = [f"k{i}" for i in range(len(columns))]
        table = pa.table(columns + [pa.array(np.arange(n))], names=names + ["__pos"])
        order = np.asarray(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in names]
                                           + [("__pos", "ascending")]).to_numpy(), dtype=np.int64)
        new = np.ones(n, dtype=bool)
        if n > 1:
            differs = np.zeros(n - 1, dtype=bool)
            for c in columns:
                s = c.take(pa.array(order))
                differs |= np.asarray(pc.fill_null(pc.not_equal(s.slice(1), s.slice(0, n - 1)),
                                                   True).to_numpy(zero_copy_only=False), dtype=bool)
            new[1:] = differs
        sorted_gid = np.cumsum(new) - 1
        gid = np.empty(n, dtype=np.int64)
        gid[order] = sorted_gid
        firsts = order[new]
    # renumber groups by first appearance so that everything downstream is in source order
    rank = np.argsort(firsts, kind="stable")
    renumber = np.empty_like(rank)
    renumber[rank] = np.arange(len(rank))
    return renumber[gid].astype(np.int64), np.sort(firsts)


def _mostly_ascending_groups(fps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_groups` of exact keys without sorting them all: a row whose key exceeds every key
    before it starts a group, and these rows' keys ascend, so each other row (a duplicate, or a
    key out of order; few in an export) is looked up among them by binary search, and the rest
    are grouped among themselves."""
    n = len(fps)
    rows = np.arange(n, dtype=np.int64)
    ahead = np.ones(n, dtype=bool)
    ahead[1:] = fps[1:] > np.maximum.accumulate(fps)[:-1]
    rep = rows.copy()  # the first row with each row's key
    others = np.flatnonzero(~ahead)
    leaders = np.flatnonzero(ahead)
    at = np.minimum(np.searchsorted(fps[leaders], fps[others]), len(leaders) - 1)
    found = fps[leaders[at]] == fps[others]
    rep[others[found]] = leaders[at[found]]
    rest = others[~found]
    if len(rest):
        _, first, inverse = np.unique(fps[rest], return_index=True, return_inverse=True)
        rep[rest] = rest[first][inverse.reshape(-1)]
    is_first = rep == rows
    return (np.cumsum(is_first) - 1)[rep], np.flatnonzero(is_first)


def _column_input(rule: FieldRule, raw: Any, n: int) -> "SourceColumn":
    col = SourceColumn(n=n)
    if isinstance(raw, list):
        _classify(rule, raw, col)
        col.given = raw
        return col
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    typ = raw.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        col.text = raw.cast(pa.string())
        return col
    if pa.types.is_null(typ):
        return col
    target = arrow_type(rule.field)
    native_ok = (
        typ == target
        or (rule.type in ("integer", "year") and pa.types.is_integer(typ))
        or (rule.type == "number" and (pa.types.is_floating(typ) or pa.types.is_integer(typ)))
        or (rule.type == "date" and pa.types.is_date(typ))
        or (rule.type == "datetime" and pa.types.is_timestamp(typ) and typ.unit in ("s", "ms", "us"))
        or (rule.type == "time" and pa.types.is_time(typ) and typ.unit in ("s", "ms", "us"))
    )
    if native_ok:
        try:
            col.native = raw.cast(target, safe=True)
            col.native_given = raw  # shown as it came (an integer 0 for a number is "0")
            return col
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    col.others = {i: v for i, v in enumerate(raw.to_pylist()) if v is not None}
    return col


def _exact_json(rules: Sequence[FieldRule], header: Sequence[str], positions: Mapping[str, int],
                chunk: SourceChunk) -> dict[str, "SourceColumn"]:
    """NDJSON fields whose values are all text (a boolean field's: all true / false), made
    into Arrow in one pass over the objects: what _classify makes of the same values, without
    building a Python list per field. The other fields go through _classify."""
    if not isinstance(chunk, RecordsChunk):
        return {}
    wanted: dict[str, pa.DataType] = {}
    for rule in rules:
        typ = _exact_type(rule)
        if typ is not None:
            wanted.setdefault(header[positions[rule.name]], typ)
    converted = chunk.exact_columns(wanted)
    inputs = {}
    n = chunk.num_rows
    for rule in rules:
        key = header[positions[rule.name]]
        values = converted.get(key)
        if values is None or values.type != _exact_type(rule):
            continue
        col = SourceColumn(n=n, given=chunk.given_values(key))
        if pa.types.is_string(values.type):
            col.text = values
        elif values.null_count == n:
            col.text = pa.nulls(n, pa.string())  # no value at all: _classify's text case
        else:
            col.native = values
        inputs[rule.name] = col
    return inputs


def _exact_type(rule: FieldRule) -> pa.DataType | None:
    if rule.type == "boolean":
        return pa.bool_()
    return None if rule.type in _NATIVE_PY else pa.string()


def _classify(rule: FieldRule, values: list[Any], col: "SourceColumn") -> None:
    """NDJSON values: text, the field's own JSON type, or anything else (judged in Python).
    Each value's kind is coded in one pass, then the text and the native values are each
    converted to Arrow with the other rows masked out (pyarrow skips masked values unread)."""
    codes = np.fromiter(map(_KIND_CODES.get, map(type, values), repeat(_OTHER)), np.int8,
                        len(values))
    present = codes != _NULL
    text = codes == _KIND_CODES[str]
    if not (present & ~text).any():
        col.text = pa.array(values, pa.string())
        return
    native_codes = _NATIVE_CODES.get(rule.type, ())
    native = np.isin(codes, native_codes)
    if native_codes and not (present & ~native).any():
        try:
            col.native = pa.array(values, arrow_type(rule.field))
            return
        except (OverflowError, pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    if _KIND_CODES[int] in native_codes:
        native &= ~_inexact_ints(values, codes == _KIND_CODES[int])
    col.others.update((i, values[i]) for i in np.nonzero(present & ~text & ~native)[0].tolist())
    if text.any():
        col.text = pa.array(values, pa.string(), mask=~text)
    if native.any():
        col.native = pa.array(values, arrow_type(rule.field), mask=~native)


def _inexact_ints(values: list[Any], ints: np.ndarray) -> np.ndarray:
    """The integers at `ints` from 2**53 on, either sign: not all exact as a float64, so the
    reference judges them."""
    if not ints.any():
        return ints
    try:
        as_int = pa.array(values, pa.int64(), mask=~ints).fill_null(0).to_numpy()
    except OverflowError:  # beyond int64: look at each integer
        inexact = np.zeros(len(values), dtype=bool)
        for i in np.nonzero(ints)[0].tolist():
            inexact[i] = not -_EXACT_INT < values[i] < _EXACT_INT
        return inexact
    return np.asarray(ints & ((as_int >= _EXACT_INT) | (as_int <= -_EXACT_INT)), dtype=bool)


@dataclass
class SourceColumn(ColumnInput):
    raw_text: pa.Array | None = None  # text before cells with encoding markers were blanked
    native_given: pa.Array | None = None  # Parquet values before the cast to the field's type
    given: Sequence[Any] | None = None  # NDJSON values as decoded: `-1` shows as given, not as `-1.0`
    markers: bool = False  # the chunk's text may hold encoding markers (else U+10FFxx is genuine)

    def _shown(self, text: str) -> str:
        return replace_markers(text) if self.markers else text

    def display(self, rows: np.ndarray) -> list[Any]:
        """The source values of `rows` as error entries show them."""
        if self.given is not None:
            return [self._shown(v) if isinstance(v, str) else display_value(v)
                    for v in map(self.given.__getitem__, rows.tolist())]
        idx = pa.array(rows)
        out: list[Any] = [None] * len(rows)
        text = self.raw_text if self.raw_text is not None else self.text
        if text is not None:
            taken = text.take(idx).to_pylist()
            out = taken if not self.markers else [v if v is None else self._shown(v) for v in taken]
        native = self.native_given if self.native_given is not None else self.native
        if native is not None:
            for j, v in enumerate(native.take(idx).to_pylist()):
                if v is not None and out[j] is None:
                    out[j] = display_value(v)
        for j, r in enumerate(rows.tolist()):
            if r in self.others:
                out[j] = display_value(self.others[r])
        return out
