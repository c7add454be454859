"""Suggest a mapping for a sample of a file, and describe a file as a Table Schema.

    suggestions = MappingSuggestions(schemas, saved_mappings, sample_from_bytes, read_sample)
    suggestions.suggest("acme", "contacts", header=["E-mail", ...], rows=[[...], ...])
    suggestions.suggest("acme", "contacts", sample=b"E-mail;Is VIP\\n...")
    suggestions.describe(path, "export.csv")

The sample is either the header and first rows (JSON) or the start of the file itself; past
mappings are the workspace's templates and configurations for the same object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from lading.application.saved_mappings import (
    ImportConfiguration,
    MappingTemplate,
    SavedMappingStore,
    SchemaSource,
)
from lading.domain.column_formats import SAMPLE_ROWS
from lading.domain.errors import InvalidPlan
from lading.domain.mapping_suggestion import suggest_mapping
from lading.domain.schema_inference import infer_schema

MAX_SAMPLE_ROWS = SAMPLE_ROWS


class Sample(Protocol):
    header: list[str]
    rows: list[list[Any]]


SampleFromBytes = Callable[[bytes, str, int], Sample]
SampleFromFile = Callable[[Path, str, int], Sample]


class MappingSuggestions:
    def __init__(self, schemas: SchemaSource, saved: SavedMappingStore,
                 sample_from_bytes: SampleFromBytes, sample_from_file: SampleFromFile) -> None:
        self.schemas = schemas
        self.saved = saved
        self.sample_from_bytes = sample_from_bytes
        self.sample_from_file = sample_from_file

    def suggest(self, workspace: str, object_name: str, *, header: Sequence[str] | None = None,
                rows: Sequence[Sequence[Any]] | None = None, sample: bytes | None = None,
                file_name: str = "sample.csv") -> dict[str, Any]:
        """A proposed fieldMap with a confidence and a reason per column."""
        schema = self.schemas.schema_of(workspace, object_name)
        if (sample is None) == (header is None):
            raise InvalidPlan("give either 'header' (and 'rows') or 'sample' (the start of the file)")
        if sample is not None:
            read = self.sample_from_bytes(sample, file_name, MAX_SAMPLE_ROWS)
            header, rows = read.header, read.rows
        rows = list(rows or [])[:MAX_SAMPLE_ROWS]
        if not all(isinstance(h, str) for h in header or ()):
            raise InvalidPlan("'header' must be a list of column names")
        if not all(isinstance(r, (list, tuple)) for r in rows):
            raise InvalidPlan("'rows' must be lists of cells in header order")
        saved: list[MappingTemplate | ImportConfiguration] = [
            *self.saved.templates(workspace), *self.saved.configurations(workspace)]
        past = [m.mapping.get("fieldMap") or {} for m in saved if m.object_name == object_name]
        suggestion = suggest_mapping(schema, list(header or []), rows, past)
        return {"objectName": object_name, "sampledRows": len(rows), **suggestion}

    def describe(self, path: Path, file_name: str, rows: int = SAMPLE_ROWS) -> dict[str, Any]:
        """A Table Schema inferred from the file's first `rows` rows, and the fieldMap onto it."""
        sample = self.sample_from_file(Path(path), file_name, rows)
        return infer_schema(sample.header, sample.rows)
