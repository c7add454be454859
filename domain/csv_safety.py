"""Cells that a spreadsheet would run as a formula are written so it shows them as text.

OWASP's CSV injection advice: a cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage
return is prefixed with a single quote, which spreadsheets read as "this is text" and hide.
A plain number (`-5`, `+1.5e3`) is no formula and is left as it is, so numbers, negative ones
included, stay numbers. Every CSV Lading writes for people passes its text cells through here
(or through the vectorised twin in adapters/arrow_csv_safety.py, built from these patterns).
"""

from __future__ import annotations

from lading.domain import value_formats as vf

TRIGGERS = "=+-@\t\r"
QUOTE = "'"
# Both patterns are in the RE2 / Python common subset (see value_formats).
TRIGGER_START = "^" + vf.char_class(TRIGGERS)
PLAIN_NUMBER = f"^(?:{vf.NUMBER_BODY})$"


def needs_neutralising(text: str) -> bool:
    return bool(text) and text[0] in TRIGGERS and vf.fullmatch(vf.NUMBER_BODY, text) is None


def neutralise(text: str) -> str:
    """`text` as a spreadsheet must show it: quoted when it would start a formula."""
    return QUOTE + text if needs_neutralising(text) else text
