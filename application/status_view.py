"""The public shape of a job's status (GET /v1/import-jobs/{id}, `lading import --json`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_INTERNAL = ("workspace", "idempotencyKey", "errorSegments", "chunksWithRows", "chunksValidated",
             "chunksMerged", "chunksTotal", "rejectedByField", "warningsByField", "inlineRows",
             "version", "crashes", "diffCounts", "diffSampleChunks")


def public_status(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in _INTERNAL}
    base = f"/v1/import-jobs/{doc['jobId']}"
    out["warnings"] = doc.get("warningsByField") or None
    out["links"] = {
        "self": base,
        "errors": f"{base}/errors",
        "validRows": f"{base}/valid-rows.csv",
        "events": f"{base}/events",
    }
    return out


def detailed_report(doc: dict[str, Any], error_file: Path | None,
                    samples_per_column: int = 5) -> dict[str, Any]:
    """Per-column skipped counts with reasons and a few sample values, plus merge totals."""
    columns: dict[str, dict[str, Any]] = {}
    for field, by_code in (doc.get("rejectedByField") or {}).items():
        columns[field] = {"skipped": sum(by_code.values()), "reasons": dict(by_code), "samples": []}
    if error_file is not None and error_file.exists():
        wanting = {f for f in columns}
        with open(error_file, encoding="utf-8") as fh:
            for line in fh:
                if not wanting:
                    break
                row = json.loads(line)
                for err in row.get("errors", []):
                    field = err.get("field")
                    if field in wanting:
                        samples = columns[field]["samples"]
                        samples.append({"rowNumber": row["rowNumber"], "value": err.get("value"),
                                        "code": err.get("code"), "message": err.get("message")})
                        if len(samples) >= samples_per_column:
                            wanting.discard(field)
    return {
        "columns": columns,
        "totals": {
            "inserted": doc.get("mergedInserts", 0),
            "updated": doc.get("mergedUpdates", 0),
            "unchanged": doc.get("mergedUnchanged", 0),
            "deleted": doc.get("mergedDeletes", 0),
            "skipped": doc.get("invalidRows", 0),
        },
    }
