"""The third-party test corpus (shared/corpus beside the repository) and how its files are run.

Tests are parametrised by each file's path relative to the corpus, so a failure names the file.
Without the corpus the tests skip on a developer machine but fail in CI (`CI` set), so CI can
never pass by silently not running them.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lading.adapters.arrow_engine import ArrowValidationEngine
from lading.adapters.source_header import source_columns
from lading.application.ports import SourceFile, ValidatedChunk
from lading.domain.errors import SourceUnreadable
from lading.domain.plan import ImportPlan
from lading.domain.table_schema import TableSchema

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
# What a user could upload: the corpus's tables and lines. Its .json files are expected outputs,
# schemas and JSON documents; they are run as uploads too (see test_corpus_sweep).
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".ndjson", ".jsonl", ".geojsonl", ".json")


def corpus_params(pattern: str, exclude: tuple[str, ...] = ()) -> list[Any]:
    """One pytest param per corpus file matching `pattern`, identified by its relative path."""
    if not CORPUS.is_dir():
        return [pytest.param(None, id=f"corpus-missing:{pattern}")]
    files = sorted(p for p in CORPUS.glob(pattern) if p.is_file())
    return [pytest.param(rel, id=rel) for rel in (str(p.relative_to(CORPUS)) for p in files)
            if not any(re.search(x, rel) for x in exclude)]


def corpus_path(rel: str | None) -> Path:
    if rel is None or not CORPUS.is_dir():
        message = f"the third-party corpus is not at {CORPUS}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CORPUS / rel


def field_name(position: int) -> str:
    """Corpus headers are rarely valid field names (spaces, CJK, empty), so fields are named by
    position and the mapping carries the header names."""
    return f"c{position + 1}"


def string_schema(header: list[str], key: int | None = 0, missing_values: tuple[str, ...] = ("",),
                  ) -> tuple[TableSchema, dict[str, str]]:
    """A schema of string fields for a header (the first of duplicate names only: a mapping maps
    a name once) and the fieldMap from header names to those fields. The key is the field at
    position `key`, or with None every field: the whole row."""
    field_map: dict[str, str] = {}
    for i, name in enumerate(header):
        field_map.setdefault(name, field_name(i))
    fields = [{"name": f, "type": "string"} for f in field_map.values()]
    key_fields = [f["name"] for f in fields] if key is None else [fields[key]["name"]]
    schema = TableSchema.from_dict({"fields": fields, "primaryKey": key_fields,
                                    "missingValues": list(missing_values)})
    return schema, field_map


@dataclass
class Run:
    """What the engine made of one file: counters, staged rows and the error file."""

    chunks: list[ValidatedChunk]
    errors: list[dict]
    engine: ArrowValidationEngine
    field_map: dict[str, str]

    @property
    def read(self) -> int:
        return sum(c.read_rows for c in self.chunks)

    @property
    def valid(self) -> int:
        return sum(c.valid_rows for c in self.chunks)

    @property
    def invalid(self) -> int:
        return sum(c.invalid_rows for c in self.chunks)

    @property
    def by_code(self) -> dict[str, int]:
        total: Counter = Counter()
        for c in self.chunks:
            total.update(c.rejected_by_code)
        return dict(total)

    def codes(self) -> dict[int, str]:
        return {e["rowNumber"]: e["code"] for e in self.errors}

    def rows(self) -> list[dict[str, Any]]:
        """Staged rows keyed by the source's header names, in source order."""
        by_field = {f: h for h, f in self.field_map.items()}
        out = []
        for c in self.chunks:
            if c.staged_path:
                for row in self.engine.load_chunk(c.staged_path).to_pylist():
                    out.append({by_field[f]: v for f, v in row.items()})
        return out

    def assert_counters_add_up(self) -> None:
        assert self.valid + self.invalid == self.read
        assert sum(self.by_code.values()) == self.invalid
        assert len(self.errors) == self.invalid
        numbers = [e["rowNumber"] for e in self.errors]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
        assert all(1 <= n for n in numbers)


@dataclass
class Failed:
    """The file could not be imported at all: the job fails with this message."""

    message: str


def header_of(path: Path) -> list[str]:
    return source_columns(SourceFile(path, path.name))


def run_engine(path: Path, workdir: Path, schema: TableSchema, field_map: dict[str, str],
               mode: str = "balanced", block_size: int | None = None) -> Run | Failed:
    """Validate one file with the real engine as a job would; a SourceUnreadable is the job's
    clean failure, anything else raised is a bug and propagates."""
    engine = ArrowValidationEngine(block_size) if block_size else ArrowValidationEngine()
    plan = ImportPlan.from_dict({"fieldMap": field_map, "importMode": mode}, schema)
    error_file = workdir / "errors.jsonl"
    try:
        chunks = list(engine.validate(SourceFile(path, path.name), schema, plan,
                                      workdir / "work", error_file))
    except SourceUnreadable as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return Failed(str(exc))
    raw = error_file.read_bytes() if error_file.exists() else b""
    run = Run(chunks, [json.loads(line) for line in raw.splitlines()], engine, field_map)
    run.assert_counters_add_up()
    return run


def run_as_strings(path: Path, workdir: Path, mode: str = "balanced", key: int = 0,
                   missing_values: tuple[str, ...] = ("",)) -> Run | Failed:
    """Every column read as a string field, the header deciding the fields."""
    header = header_of(path)
    if not header:
        header = ["value"]  # nothing readable: any mapping lets the engine say why
    schema, field_map = string_schema(header, key, missing_values)
    return run_engine(path, workdir, schema, field_map, mode)
