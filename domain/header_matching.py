"""Match a file's header to the mapping's source columns by name, never by position.

Exact names match first, then names equal once case, surrounding whitespace and `_`/`-`/space
are ignored. Outside strict mode a column still unmatched may be renamed by similarity
(`E-mail` -> `email_address`) above SIMILARITY_THRESHOLD; such renames are healing and are
reported. A mapped column with no match, or in strict mode a header column the mapping does not
use, makes the whole file unimportable.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lading.domain import value_formats as vf
from lading.domain.errors import SourceUnreadable

SIMILARITY_THRESHOLD = 0.8
_IGNORED = re.compile(r"[\s_\-\ufeff]+")


def normalize_header(name: str) -> str:
    return _IGNORED.sub("", name).casefold()


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
class HeaderMatch:
    columns: dict[str, int]  # mapped source column -> header position
    renamed: dict[str, str] = field(default_factory=dict)  # header name -> field (similarity)
    unused: tuple[str, ...] = ()


def match_headers(header: Sequence[str], field_map: Mapping[str, str], strict: bool) -> HeaderMatch:
    """Find each mapped column in the header; raise SourceUnreadable when the file cannot map."""
    taken: set[int] = set()
    columns: dict[str, int] = {}
    # Positions by name, looked up per key, so a header of thousands of columns maps in
    # linear time; the first position not yet taken wins, as in a left-to-right scan.
    exact_positions = _positions_by(header, lambda h: h)
    for key in field_map:
        exact = _first_free(exact_positions.get(key, ()), taken)
        if exact is not None:
            columns[key] = exact
            taken.add(exact)
    normalized_positions = _positions_by(header, normalize_header)
    for key in field_map:
        wanted = normalize_header(key)
        if key in columns or not wanted:
            continue
        found = _first_free(normalized_positions.get(wanted, ()), taken)
        if found is not None:
            columns[key] = found
            taken.add(found)
    renamed: dict[str, str] = {}
    if not strict:
        pairs = []
        keys = [k for k in field_map if k not in columns]
        for order, key in enumerate(keys):
            names = (normalize_header(key), normalize_header(field_map[key]))
            for i, h in enumerate(header):
                if i in taken:
                    continue
                score = max(similarity(n, normalize_header(h)) for n in names)
                if score >= SIMILARITY_THRESHOLD:
                    pairs.append((-score, order, i, key))
        for _, _, i, key in sorted(pairs):
            if key in columns or i in taken:
                continue
            columns[key] = i
            taken.add(i)
            renamed[header[i]] = field_map[key]
    missing = [k for k in field_map if k not in columns]
    if missing:
        hint = ""
        if header and all(_looks_like_data(h) for h in header):
            hint = "; the first row looks like data, and Lading needs a header row naming the columns"
        raise SourceUnreadable(
            f"mapped column(s) missing from the file's header: {', '.join(missing)}{hint}",
            "COLUMNS_MISSING")
    unused = tuple(h for i, h in enumerate(header) if i not in taken)
    if strict and unused:
        raise SourceUnreadable(
            "strict mode: the file has column(s) the mapping does not use: "
            + ", ".join(repr(u) for u in unused), "COLUMNS_UNEXPECTED")
    return HeaderMatch(columns=columns, renamed=renamed, unused=unused)


def _positions_by(header: Sequence[str], name_of) -> dict[str, list[int]]:
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
