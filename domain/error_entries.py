"""The error file's entry for one rejected row (SPEC §3 "Error file"), built here for the
reference validator and the engine alike, so the two cannot drift apart.

Values are cut to `value_chars` characters with a visible marker (`…[+N characters]`), in
`sourceRow` (nested NDJSON values too) and in each error's `value`: one line then costs at most
a few kilobytes per column, whatever the source holds, and an error file stays proportionate
to the number of rows it reports (issue 9.12; LADING_ERROR_VALUE_CHARS).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lading.domain.row_errors import FieldError, error_line, primary_error

DEFAULT_VALUE_CHARS = 1000


def truncated(value: Any, limit: int = DEFAULT_VALUE_CHARS) -> Any:
    """`value` with every text longer than `limit` characters cut, and the cut marked."""
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        return f"{value[:limit]}…[+{len(value) - limit:,} characters]"
    if isinstance(value, dict):
        # short text (nearly every value of a source row) is kept without a call per value
        return {k: v if type(v) is str and len(v) <= limit else truncated(v, limit)
                for k, v in value.items()}
    if isinstance(value, list):
        return [truncated(v, limit) for v in value]
    return value


def error_entry(row_number: int, errors: Sequence[FieldError], source_row: dict[str, Any],
                field_order: Sequence[str], value_chars: int = DEFAULT_VALUE_CHARS) -> dict[str, Any]:
    """One rejected row as its error file line: the primary error first chosen by SPEC §3."""
    first = primary_error(list(errors), tuple(field_order))
    return {
        "rowNumber": row_number,
        "code": str(first.code),
        "error": error_line(first),
        "errors": [_error_dict(e, value_chars) for e in errors],
        "sourceRow": truncated(source_row, value_chars),
    }


def _error_dict(error: FieldError, value_chars: int) -> dict[str, Any]:
    entry = error.to_dict()
    entry["value"] = truncated(entry["value"], value_chars)
    return entry
