"""How source text becomes typed values: canonical forms, tolerated variants, column formats.

Every regular expression here is written in the common subset of Python's `re` and RE2 (the
engine behind pyarrow.compute): `[0-9]` instead of `\\d`, explicit character classes instead of
`\\s`, named groups `(?P<name>...)`, no look-around. Python applies them with `fullmatch`, the
vectorised engine anchors them with `^(?:...)$`; both then read the same named groups. That is
what lets the plain-Python reference and the Arrow engine agree value for value.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

# Trimming touches ASCII whitespace only: Python's str.strip() and Arrow's utf8_trim_whitespace
# disagree on some Unicode spaces, and an explicit list keeps both sides identical.
ASCII_WHITESPACE = " \t\n\r\x0b\x0c"

# The characters for which str.isspace() is true, spelled out so a regex engine without
# Python's tables (RE2) can be given exactly the same class. tests check the list is complete.
UNICODE_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# Python's datetime range, which every engine must respect: year 1 to 9999.
MIN_YEAR, MAX_YEAR = 1, 9999

_REGEX_SPECIAL = set(".^$*+?()[]{}|\\")


def escape(text: str) -> str:
    """Escape regex metacharacters the way both `re` and RE2 read them."""
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text)


def char_class(chars: str, negate: bool = False, extra: str = "") -> str:
    """A bracket expression for `chars` (+ already-escaped `extra`), valid in `re` and RE2."""
    parts = []
    for c in chars:
        code = ord(c)
        if c in "]\\^-[":
            parts.append("\\" + c)
        elif code < 0x20 or 0x7F <= code <= 0xFF:
            parts.append(f"\\x{code:02x}")
        else:
            parts.append(c)
    return "[" + ("^" if negate else "") + extra + "".join(parts) + "]"


def trim(value: str) -> str:
    return value.strip(ASCII_WHITESPACE)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(value: str) -> str:
    """Lower-case A-Z only (what Arrow's ascii_lower does); other characters are left alone."""
    return value.translate(_ASCII_LOWER)


# -- string formats -------------------------------------------------------------------------

_NOT_WS = char_class(UNICODE_WHITESPACE, negate=True, extra="@")
_LABEL = char_class(UNICODE_WHITESPACE, negate=True, extra="@.")
# exactly one @, no whitespace, a non-empty local part, two or more non-empty domain labels
EMAIL_BODY = f"{_NOT_WS}+@{_LABEL}+(?:\\.{_LABEL}+)+"
# a scheme, a colon, then at least one character and no whitespace anywhere
URI_BODY = "[A-Za-z][A-Za-z0-9+.\\-]*:" + char_class(UNICODE_WHITESPACE, negate=True) + "+"
UUID_BODY = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
STRING_FORMAT_BODIES = {"email": EMAIL_BODY, "uri": URI_BODY, "uuid": UUID_BODY}

# -- canonical forms --------------------------------------------------------------------------

INTEGER_BODY = "[+-]?[0-9]+"
# An integer written with a zero fraction ("12.00"), as spreadsheets export whole numbers.
INTEGER_FROM_DECIMAL_BODY = "[+-]?[0-9]+\\.0+"
NUMBER_BODY = "[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
YEAR_BODY = "[0-9]{4}"
DATE_BODY = "(?P<Y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
_TIME_TAIL = "(?::(?P<S>[0-9]{2})(?:\\.(?P<f>[0-9]{1,6}))?)?"
TIME_BODY = "(?P<H>[0-9]{2}):(?P<M>[0-9]{2})" + _TIME_TAIL
DATETIME_BODY = DATE_BODY + "T" + TIME_BODY + "(?P<z>Z|[+-][0-9]{2}:[0-9]{2})?"

TRUE_WORDS = ("true", "yes", "y", "t", "1", "on")
FALSE_WORDS = ("false", "no", "n", "f", "0", "off")

MONTHS: dict[str, int] = {}
for _i, _name in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), start=1):
    MONTHS[_name] = _i
    MONTHS[_name[:3]] = _i
MONTHS["sept"] = 9


def fullmatch(body: str, value: str) -> re.Match[str] | None:
    return _compiled(body).fullmatch(value)


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(body: str) -> re.Pattern[str]:
    pattern = _CACHE.get(body)
    if pattern is None:
        pattern = _CACHE[body] = re.compile(body)
    return pattern


# -- calendar components ----------------------------------------------------------------------


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def pivot_year(two_digits: int) -> int:
    """Two-digit years the way strptime reads them: 69-99 -> 19xx, 00-68 -> 20xx."""
    return 1900 + two_digits if two_digits >= 69 else 2000 + two_digits


def _group(m: re.Match[str], name: str) -> str | None:
    return m.groupdict().get(name) or None


def date_from_match(m: re.Match[str]) -> date | None:
    """A calendar-valid date from the Y|y, m|b and d groups, or None."""
    g = m.groupdict()
    if g.get("Y"):
        year = int(g["Y"])
    elif g.get("y"):
        year = pivot_year(int(g["y"]))
    else:
        return None
    if g.get("m"):
        month = int(g["m"])
    elif g.get("b"):
        month = MONTHS.get(ascii_lower(g["b"]), 0)
    else:
        return None
    day = int(g.get("d") or 0)
    if not MIN_YEAR <= year <= MAX_YEAR or not 1 <= month <= 12:
        return None
    if not 1 <= day <= days_in_month(year, month):
        return None
    return date(year, month, day)


def time_from_match(m: re.Match[str]) -> time | None:
    g = m.groupdict()
    hour, minute = int(g["H"]), int(g["M"])
    second = int(g.get("S") or 0)
    fraction = g.get("f")
    micro = int(fraction.ljust(6, "0")) if fraction else 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second, micro)


def offset_minutes(zone: str | None) -> int | None:
    """Minutes east of UTC for 'Z', '+HH:MM' or '+HHMM' (none means UTC); None when invalid."""
    if not zone or zone == "Z":
        return 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        return None
    return sign * (hours * 60 + minutes)


def datetime_from_match(m: re.Match[str]) -> datetime | None:
    """An aware UTC datetime; naive source values are taken as UTC."""
    day = date_from_match(m)
    clock = time_from_match(m)
    offset = offset_minutes(_group(m, "z"))
    if day is None or clock is None or offset is None:
        return None
    local = datetime.combine(day, clock)
    try:
        utc = local - timedelta(minutes=offset)
    except OverflowError:
        return None
    return utc.replace(tzinfo=timezone.utc)


# -- column formats ---------------------------------------------------------------------------

_DIRECTIVES = {
    "d": ("d", "[0-9]{1,2}", "[0-9]{2}"),
    "m": ("m", "[0-9]{1,2}", "[0-9]{2}"),
    "Y": ("Y", "[0-9]{4}", "[0-9]{4}"),
    "y": ("y", "[0-9]{2}", "[0-9]{2}"),
    "b": ("b", "[A-Za-z]{3,9}", "[A-Za-z]{3}"),
    "B": ("b", "[A-Za-z]{3,9}", "[A-Za-z]{3,9}"),
    "H": ("H", "[0-9]{1,2}", "[0-9]{2}"),
    "M": ("M", "[0-9]{2}", "[0-9]{2}"),
}
_TIME_LABELS = ("%H:%M:%S", "%H:%M")
_ZONE = "(?P<z>Z|[+-][0-9]{2}:?[0-9]{2})?"


@dataclass(frozen=True)
class DateFormat:
    """A non-ISO date or datetime layout, named by its strftime-style label."""

    label: str
    body: str
    with_time: bool


def date_format(label: str, with_time: bool) -> DateFormat | None:
    """Translate a strftime-style label (%d %m %Y %y %b %B, then %H:%M[:%S]) into a DateFormat.

    Returns None for labels using anything else, so an unusable approved fix is ignored rather
    than guessed at. In a datetime label the seconds are optional and a UTC offset may follow.
    """
    date_part, time_part = label, ""
    if with_time:
        for tail in _TIME_LABELS:
            for sep in (" ", "T"):
                if label.endswith(sep + tail):
                    date_part, time_part = label[: -len(sep + tail)], sep
                    break
            if time_part:
                break
        if not time_part:
            return None
    body = _date_body(date_part)
    if body is None:
        return None
    if with_time:
        body += escape(time_part) + "(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})" + _TIME_TAIL + _ZONE
    return DateFormat(label=label, body=body, with_time=with_time)


def _date_body(label: str) -> str | None:
    out, seen, i = [], set(), 0
    while i < len(label):
        c = label[i]
        if c != "%":
            out.append(escape(c))
            i += 1
            continue
        if i + 1 >= len(label) or label[i + 1] not in "dmYybB":
            return None
        name, loose, fixed = _DIRECTIVES[label[i + 1]]
        if name in seen:
            return None
        seen.add(name)
        # Two numeric directives side by side ("%Y%m%d") need fixed widths to split cleanly.
        glued = i + 2 < len(label) and label[i + 2] == "%"
        out.append(f"(?P<{name}>{fixed if glued else loose})")
        i += 2
    if not ({"Y", "y"} & seen and {"m", "b"} & seen and "d" in seen):
        return None
    return "".join(out)


DATE_CANDIDATES = (
    "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y/%m/%d", "%Y.%m.%d",
    "%d %b %Y", "%b %d %Y", "%b %d, %Y", "%d-%b-%Y", "%Y%m%d", "%d/%m/%y", "%m/%d/%y", "%d.%m.%y",
)
DATETIME_CANDIDATES = ("%Y-%m-%d %H:%M:%S",) + tuple(f"{d} %H:%M:%S" for d in DATE_CANDIDATES)

GROUP_SPACE = " \xa0\u202f"
CURRENCY_SYMBOLS = ("$", "€", "£", "¥")


@dataclass(frozen=True)
class NumberFormat:
    """How a column writes numbers: thousands group mark, decimal mark, currency symbol."""

    group: str  # "", ",", "." or " " (any of GROUP_SPACE)
    decimal: str  # "." or ","
    currency: str = ""

    @property
    def label(self) -> str:
        group = {" ": " ", "": ""}.get(self.group, self.group)
        text = f"1{group}234{self.decimal}56"
        return f"{self.currency}{text}" if self.currency else text

    def body(self, integer: bool) -> str:
        return _number_body(self, integer)

    def normalised(self, m: re.Match[str]) -> str:
        """The match rewritten as a canonical number: sign, plain digits, '.' fraction."""
        digits = m.group("int")
        for mark in (GROUP_SPACE if self.group == " " else self.group):
            digits = digits.replace(mark, "")
        fraction = _group(m, "frac")
        return m.group("sign") + digits + ("." + fraction if fraction else "")

    @staticmethod
    def has_symbol(m: re.Match[str]) -> bool:
        return bool(_group(m, "c1") or _group(m, "c2"))


@functools.cache
def _number_body(self: NumberFormat, integer: bool) -> str:
    if self.group == "":
            digits = "[0-9]+"
    else:
        mark = char_class(GROUP_SPACE) if self.group == " " else escape(self.group)
        digits = f"[0-9]{{1,3}}(?:{mark}[0-9]{{3}})*"
    fraction = "" if integer else f"(?:{escape(self.decimal)}(?P<frac>[0-9]+))?"
    core = "(?P<sign>[+-]?)"
    if self.currency:
        cur = escape(self.currency)
        return (f"{core}(?:(?P<c1>{cur}) ?)?(?P<int>{digits}){fraction}"
                f"(?: ?(?P<c2>{cur}))?")
    return f"{core}(?P<int>{digits}){fraction}"


NUMBER_CANDIDATES: tuple[NumberFormat, ...] = (
    NumberFormat(",", "."), NumberFormat(".", ","), NumberFormat(" ", ","), NumberFormat("", ","),
    NumberFormat(" ", "."),
) + tuple(
    NumberFormat(group, decimal, symbol)
    for symbol in CURRENCY_SYMBOLS
    for group, decimal in (("", "."), (",", "."), (".", ","), (" ", ","), ("", ","))
)

NUMBER_LABELS = {f.label: f for f in NUMBER_CANDIDATES}


def finite_float(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def int64_or_none(value: int) -> int | None:
    return value if INT64_MIN <= value <= INT64_MAX else None


def display_value(value: Any) -> str | None:
    """How a source value appears in error entries: text as given, other JSON values as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (date, time, datetime)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return decode_lenient(bytes(value))
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def decode_lenient(raw: bytes) -> str:
    """UTF-8 with one U+FFFD per byte that is not part of a valid sequence."""
    return raw.decode("utf-8", errors="lading-replace-each")


def _replace_each(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "\ufffd" * (exc.end - exc.start), exc.end


import codecs as _codecs  # noqa: E402  (registration belongs next to its only user)

_codecs.register_error("lading-replace-each", _replace_each)
