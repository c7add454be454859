"""The job's error file: JSON Lines, one rejected row a line, appended chunk by chunk."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def error_line(entry: dict[str, Any]) -> str:
    """One entry as a line. JSON already escapes control characters; U+0085, U+2028 and U+2029
    are escaped too, so even readers splitting on every Unicode line break see one line."""
    text = json.dumps(entry, ensure_ascii=False)
    for char in ("\x85", "\u2028", "\u2029"):
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text + "\n"


class JsonlErrorFile:
    """Appends entries and reports the (offset, length) in bytes of each chunk's segment."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "ab")
        self._offset = self._fh.tell()

    def append(self, entries: Iterable[dict[str, Any]]) -> tuple[int, int] | None:
        data = "".join(error_line(e) for e in entries).encode("utf-8")
        if not data:
            return None
        start = self._offset
        self._fh.write(data)
        self._fh.flush()
        self._offset += len(data)
        return start, len(data)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "JsonlErrorFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
