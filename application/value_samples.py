"""The first rows of each healing and each warning, kept as validation runs (bounded: five of
each), so the detailed report shows them without reading the source again."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lading.application.ports import ValidatedChunk
from lading.application.skipped_rows import SAMPLES

Sample = dict[str, Any]  # {rowNumber, value, healed} for a healing, {rowNumber, value} for a warning


@dataclass
class ValueSamples:
    healing: dict[str, dict[str, list[Sample]]] = field(default_factory=dict)  # field -> kind
    warnings: dict[str, list[Sample]] = field(default_factory=dict)  # field

    def add(self, chunk: ValidatedChunk) -> None:
        """Keep the chunk's samples while fewer than SAMPLES are kept (chunks come in order)."""
        for name, kinds in chunk.healing_samples.items():
            for kind, samples in kinds.items():
                _keep(self.healing.setdefault(name, {}).setdefault(kind, []), samples)
        for name, samples in chunk.warning_samples.items():
            _keep(self.warnings.setdefault(name, []), samples)

    def to_json(self) -> str:
        return json.dumps({"healing": self.healing, "warnings": self.warnings}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ValueSamples:
        doc = json.loads(text)
        return cls(healing=doc["healing"], warnings=doc["warnings"])


def _keep(kept: list[Sample], samples: list[Sample]) -> None:
    kept.extend(samples[:SAMPLES - len(kept)])
