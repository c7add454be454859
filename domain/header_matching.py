"""Match a file's header to the mapping's source columns by name, never by position.

Passes, each taking only the columns earlier passes left free:
1. exact names;
2. names equal once case, surrounding whitespace and `_`/`-`/space are ignored (`E-mail` is
   `email`);
3. outside strict mode, token containment: the column's words include all the mapped name's
   (`Is VIP` for `VIP`, `Customer Email Address` for `email`), fewest extra words first;
4. outside strict mode, similarity above SIMILARITY_THRESHOLD (`Emial` for `email`);
5. outside strict mode and when sample values are given, for a field whose type or
   constraints can tell columns apart: the one free column whose values fit the field better
   than every other free column (see value_fit).
Every match under another name is a rename and is recorded (`renames`), the passes 2-5 alike.
Two candidates equally good for one mapped column are never guessed between: the column stays
unmatched and the candidates are reported. A mapped column with no match, or in strict mode a
header column the mapping does not use, makes the whole file unimportable.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from lading.domain import value_formats as vf
from lading.domain.errors import ColumnsMissing, SourceUnreadable
from lading.domain.table_schema import Field
from lading.domain.value_fit import is_informative, value_fit

SIMILARITY_THRESHOLD = 0.8
DID_YOU_MEAN = 3  # candidates named in a missing column's message
# Values judged per free column when a field is sought by values: a column's identity shows in
# its first few hundred values, and judging every free column's whole sample per field is slow.
VALUES_JUDGED = 500
_IGNORED = re.compile(r"[\s_\-\ufeff]+")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[^\W\d_]+")


def normalize_header(name: str) -> str:
    return _IGNORED.sub("", name).casefold()


def header_tokens(name: str) -> frozenset[str]:
    """The words of a column name, case-folded: `isVIP`, `Is VIP` and `is_vip` -> {is, vip}."""
    return frozenset(w.casefold() for w in _WORD.findall(name))


def similarity(a: str, b: str) -> float:
    """How alike two normalised names are, 0..1: difflib's ratio, or 0.85 when one name
    starts or ends the other and is long enough to mean something (`email` in `emailaddress`)."""
    if not a or not b:
        return 0.0
    score = difflib.SequenceMatcher(None, a, b).ratio()
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 5 and len(short) >= 0.4 * len(long_) and (
            long_.startswith(short) or long_.endswith(short)):
        score = max(score, 0.85)
    return score


@dataclass(frozen=True)
class HeaderRename:
    """A mapped column found under another name in the file's header."""

    column: str  # the header's name
    mapped: str  # the fieldMap key it stands for
    field: str
    reason: str  # normalised | field name | contained | similar | values
    score: float

    def describe(self) -> str:
        how = {"normalised": "same name once case and separators are ignored",
               "field name": f"it is named as the field {self.field!r}",
               "contained": "its name contains the mapped name's words",
               "similar": f"similar name ({self.score:.2f})",
               "values": f"its values fit the field ({self.score:.0%})"}[self.reason]
        return f"column {self.column!r} used for mapped column {self.mapped!r}: {how}"

    def to_dict(self) -> dict[str, object]:
        return {"column": self.column, "mappedColumn": self.mapped, "field": self.field,
                "reason": self.reason, "score": round(self.score, 4)}


@dataclass(frozen=True)
class HeaderMatch:
    columns: dict[str, int]  # mapped source column -> header position
    renamed: dict[str, str] = field(default_factory=dict)  # header name -> field, every rename
    unused: tuple[str, ...] = ()
    renames: tuple[HeaderRename, ...] = ()


ColumnValues = Callable[[int], Sequence[object]]


def match_headers(header: Sequence[str], field_map: Mapping[str, str], strict: bool,
                  fields: Mapping[str, Field] | None = None,
                  column_values: ColumnValues | None = None,
                  missing_values: Sequence[str] = ("",)) -> HeaderMatch:
    """Find each mapped column in the header; raise SourceUnreadable when the file cannot map.

    `fields` (field name -> Field) and `column_values` (header position -> sampled values)
    enable the value pass; without them only names are compared."""
    matcher = _Matcher(header, field_map)
    # Positions by name, looked up per key, so a header of thousands of columns maps in
    # linear time; the first position not yet taken wins, as in a left-to-right scan.
    exact_positions = _positions_by(header, lambda h: h)
    for key in field_map:
        found = _first_free(exact_positions.get(key, ()), matcher.taken)
        if found is not None:
            matcher.take(key, found, "exact", 1.0)
    normalized_positions = _positions_by(header, normalize_header)
    for key in field_map:
        wanted = normalize_header(key)
        if key in matcher.columns or not wanted:
            continue
        found = _first_free(normalized_positions.get(wanted, ()), matcher.taken)
        if found is not None:
            matcher.take(key, found, "normalised", 1.0)
    if not strict:
        matcher.assign("contained", _containment)
        matcher.assign("similar", _similar)
        if fields is not None and column_values is not None:
            _match_by_values(matcher, fields, column_values, missing_values)
    missing = [k for k in field_map if k not in matcher.columns]
    if missing:
        raise _missing_error(header, field_map, missing, matcher)
    unused = tuple(h for i, h in enumerate(header) if i not in matcher.taken)
    if strict and unused:
        raise SourceUnreadable(
            "strict mode: the file has column(s) the mapping does not use: "
            + ", ".join(repr(u) for u in unused), "COLUMNS_UNEXPECTED")
    renames = tuple(sorted(matcher.renames, key=lambda r: matcher.columns[r.mapped]))
    return HeaderMatch(columns=dict(matcher.columns),
                       renamed={r.column: r.field for r in renames},
                       unused=unused, renames=renames)


class _Matcher:
    """The matches made so far, and the ties left undecided."""

    def __init__(self, header: Sequence[str], field_map: Mapping[str, str]) -> None:
        self.header = header
        self.field_map = field_map
        self.order = {k: i for i, k in enumerate(field_map)}
        self.columns: dict[str, int] = {}
        self.taken: set[int] = set()
        self.renames: list[HeaderRename] = []
        self.ambiguous: dict[str, list[str]] = {}

    def take(self, key: str, position: int, reason: str, score: float) -> None:
        self.columns[key] = position
        self.taken.add(position)
        self.ambiguous.pop(key, None)
        if reason != "exact":
            column, field_name = self.header[position], self.field_map[key]
            if reason != "normalised" and normalize_header(column) == normalize_header(field_name):
                reason = "field name"  # a mistyped mapped name, the column named as the field
            self.renames.append(HeaderRename(column, key, field_name, reason, score))

    def open_keys(self) -> list[str]:
        return [k for k in self.field_map if k not in self.columns]

    def free(self) -> list[int]:
        return [i for i in range(len(self.header)) if i not in self.taken]

    def assign(self, reason: str, score_of: Callable[[str, str, str], float | None]) -> None:
        """Match open keys to free columns by `score_of(key, field, column)`, best first.

        A key whose best score is shared by two free columns, or a column that is the best
        of two keys at one score, is a tie: neither is matched, the candidates are kept."""
        keys = self.open_keys()
        if not keys:
            return
        free = self.free()
        if len(free) * len(keys) > 1_000_000:
            return  # a header this wide is matched by name only; fuzzy search would be quadratic
        scored: dict[str, list[tuple[float, int]]] = {}
        for key in keys:
            options = []
            for i in free:
                score = score_of(key, self.field_map[key], self.header[i])
                if score is not None:
                    options.append((score, i))
            if options:
                scored[key] = sorted(options, key=lambda o: (-o[0], o[1]))
        self.resolve(reason, scored)

    def resolve(self, reason: str, scored: dict[str, list[tuple[float, int]]]) -> None:
        undecided = set(scored)
        while undecided:
            best: dict[str, tuple[float, list[int]]] = {}
            for key in undecided:
                options = [(s, i) for s, i in scored[key] if i not in self.taken]
                if options:
                    top = options[0][0]
                    best[key] = (top, [i for s, i in options if s == top])
            if not best:
                return
            key = min(best, key=lambda k: (-best[k][0], self.order[k]))
            score, positions = best[key]
            rivals = [k for k in best if k != key and best[k][0] == score
                      and set(best[k][1]) & set(positions)]
            undecided.discard(key)
            if len(positions) > 1 or rivals:
                for k in [key, *rivals]:
                    undecided.discard(k)
                    names = [self.header[i] for i in (positions if k == key else best[k][1])]
                    self.ambiguous.setdefault(k, []).extend(
                        n for n in names if n not in self.ambiguous.get(k, []))
                continue
            self.take(key, positions[0], reason, score)


def _containment(key: str, field_name: str, column: str) -> float | None:
    words = header_tokens(column)
    best = None
    for name in (key, field_name):
        wanted = header_tokens(name)
        if wanted and wanted <= words:
            score = len(wanted) / len(words)
            best = score if best is None else max(best, score)
    return best


def _similar(key: str, field_name: str, column: str) -> float | None:
    h = normalize_header(column)
    score = max(similarity(normalize_header(key), h), similarity(normalize_header(field_name), h))
    return score if score >= SIMILARITY_THRESHOLD else None


def _closeness(key: str, field_name: str, column: str) -> float:
    """How much a column looks like a mapped name, for "did you mean" (0..1)."""
    h = normalize_header(column)
    return max(similarity(normalize_header(key), h), similarity(normalize_header(field_name), h),
               _containment(key, field_name, column) or 0.0)


def _match_by_values(matcher: _Matcher, fields: Mapping[str, Field], column_values: ColumnValues,
                     missing_values: Sequence[str]) -> None:
    # A free column named like another field of the object is that field's, not a candidate.
    named = {normalize_header(n) for n in fields} - {
        normalize_header(matcher.field_map[k]) for k in matcher.open_keys()}
    free = [i for i in matcher.free() if normalize_header(matcher.header[i]) not in named]
    keys = [k for k in matcher.open_keys()
            if matcher.field_map[k] in fields and is_informative(fields[matcher.field_map[k]])]
    if not keys or not free or len(free) * len(keys) > 10_000:
        return
    samples = {i: list(column_values(i))[:VALUES_JUDGED] for i in free}
    scored: dict[str, list[tuple[float, int]]] = {}
    for key in keys:
        f = fields[matcher.field_map[key]]
        options = []
        for i in free:
            fit = value_fit(f, samples[i], missing_values)
            if fit.fits:
                options.append((fit.share, i))
        if options:
            scored[key] = sorted(options, key=lambda o: (-o[0], o[1]))
    matcher.resolve("values", scored)


def _missing_error(header: Sequence[str], field_map: Mapping[str, str], missing: list[str],
                   matcher: _Matcher) -> SourceUnreadable:
    candidates: dict[str, list[str]] = {}
    free = [matcher.header[i] for i in matcher.free()]
    if len(free) * len(missing) > 200_000:
        free = []  # too wide to rank every pair; the message still names the missing columns
    for key in missing:
        names = list(matcher.ambiguous.get(key, []))
        scored = [(-_closeness(key, field_map[key], h), i, h) for i, h in enumerate(free)
                  if h not in names]
        room = max(0, DID_YOU_MEAN - len(names))
        names += [h for score, _, h in sorted(scored) if -score >= 0.5][:room]
        candidates[key] = names
    parts = []
    for key in missing:
        names = candidates[key]
        if len(matcher.ambiguous.get(key, [])) > 1:
            parts.append(f"{key} (equally likely: {', '.join(repr(n) for n in names)}; "
                         "say which in the mapping)")
        elif names:
            parts.append(f"{key} (did you mean {' or '.join(repr(n) for n in names)}?)")
        else:
            parts.append(key)
    hint = ""
    if header and all(_looks_like_data(h) for h in header):
        hint = "; the first row looks like data, and Lading needs a header row naming the columns"
    return ColumnsMissing(
        f"mapped column(s) missing from the file's header: {', '.join(parts)}{hint}", candidates)


def _positions_by(header: Sequence[str], name_of: Callable[[str], str]) -> dict[str, list[int]]:
    positions: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        positions.setdefault(name_of(h), []).append(i)
    return positions


def _first_free(positions: Sequence[int], taken: set[int]) -> int | None:
    return next((i for i in positions if i not in taken), None)


def _looks_like_data(name: str) -> bool:
    text = vf.trim(name)
    return (text == "" or bool(vf.fullmatch(vf.NUMBER_BODY, text))
            or bool(vf.fullmatch(vf.DATE_BODY, text)) or text.lower() in ("true", "false"))


def unique_names(header: Sequence[str]) -> list[str]:
    """Header names made unique for the error file's `sourceRow` (`id`, `id (2)`, ...)."""
    seen: dict[str, int] = {}
    out = []
    for name in header:
        count = seen.get(name, 0) + 1
        seen[name] = count
        candidate = name if count == 1 else f"{name} ({count})"
        while count > 1 and candidate in seen:
            count += 1
            candidate = f"{name} ({count})"
        if candidate != name:
            seen[candidate] = 1
        out.append(candidate)
    return out
