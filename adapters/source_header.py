"""The column names a source offers, for mapping columns to same-named fields by default."""

from __future__ import annotations

import tempfile
from pathlib import Path

from lading.adapters.readers import SourceLimits, open_source
from lading.application.ports import SourceFile
from lading.domain.errors import SourceUnreadable
from lading.domain.reference_validator import ndjson_header
from lading.domain.column_formats import SAMPLE_ROWS


def source_columns(source: SourceFile, limits: SourceLimits = SourceLimits()) -> list[str]:
    """The header (NDJSON: the keys of the sampled objects); [] when the file cannot be read,
    which the validation run then reports as the job's failure."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            reader = open_source(Path(source.path), source.file_name, Path(tmp), 1 << 20,
                                 repair_encoding=True, limits=limits)
        except SourceUnreadable:
            return []
        try:
            if reader.kind != "ndjson":
                return list(reader.header)
            sample: list = []
            for chunk in reader.chunks():
                sample.extend(chunk.records)
                if len(sample) >= SAMPLE_ROWS:
                    break
            header = ndjson_header(sample)
            limits.check_columns(len(header))
            return header
        except SourceUnreadable:
            return []
        finally:
            reader.close()
