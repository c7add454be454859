"""The closed list of row error codes, and how a rejected row's primary code is chosen."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class RowErrorCode(StrEnum):
    MALFORMED_ROW = "MALFORMED_ROW"
    ENCODING_ERROR = "ENCODING_ERROR"
    REQUIRED_FIELD_MISSING = "REQUIRED_FIELD_MISSING"
    VALIDATION_TYPE_MISMATCH = "VALIDATION_TYPE_MISMATCH"
    VALIDATION_CONSTRAINT_VIOLATION = "VALIDATION_CONSTRAINT_VIOLATION"
    COERCION_NOT_ALLOWED = "COERCION_NOT_ALLOWED"
    DUPLICATE_KEY = "DUPLICATE_KEY"
    KEY_EXISTS = "KEY_EXISTS"
    KEY_NOT_FOUND = "KEY_NOT_FOUND"


ROW_LEVEL_CODES = (RowErrorCode.MALFORMED_ROW, RowErrorCode.ENCODING_ERROR)
KEY_CODES = (RowErrorCode.DUPLICATE_KEY, RowErrorCode.KEY_EXISTS, RowErrorCode.KEY_NOT_FOUND)


@dataclass(frozen=True)
class FieldError:
    """One problem with one row; `field`/`column` are None for row-level problems."""

    code: RowErrorCode
    message: str
    field: str | None = None
    column: str | None = None
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "column": self.column,
            "code": str(self.code),
            "message": self.message,
            "value": self.value,
        }


def primary_error(errors: list[FieldError], field_order: tuple[str, ...]) -> FieldError:
    """Pick the error that names the row: row-level first, then schema field order, then key."""
    for e in errors:
        if e.code in ROW_LEVEL_CODES:
            return e
    position = {name: i for i, name in enumerate(field_order)}
    field_errors = [e for e in errors if e.code not in KEY_CODES and e.field is not None]
    if field_errors:
        return min(field_errors, key=lambda e: position.get(e.field or "", len(position)))
    return errors[0]


def error_line(error: FieldError) -> str:
    """The one-line `error` text of the error file: `field: message`."""
    return f"{error.field}: {error.message}" if error.field else error.message
