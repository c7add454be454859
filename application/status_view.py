"""The public shape of a job's status (GET /v1/import-jobs/{id}, `lading import --json`) and of
its detailed report (GET …/report, `lading jobs show --report`)."""

from __future__ import annotations

from typing import Any

from lading.application.skipped_rows import SAMPLES, RejectionSummary
from lading.application.value_samples import ValueSamples

_INTERNAL = ("workspace", "idempotencyKey", "errorSegments", "chunksWithRows", "chunksValidated",
             "chunksMerged", "chunksTotal", "rejectedByField", "warningsByField", "inlineRows",
             "crashes", "receivedParts", "diffCounts", "diffSampleChunks")


def public_status(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in _INTERNAL}
    base = f"/v1/import-jobs/{doc['jobId']}"
    out["warnings"] = doc.get("warningsByField") or None
    out["links"] = {
        "self": base,
        "errors": f"{base}/errors",
        "validRows": f"{base}/valid-rows.csv",
        "annotatedRows": f"{base}/annotated.csv",
        "errorsCsv": f"{base}/errors.csv",
        "events": f"{base}/events",
    }
    return out


def detailed_report(doc: dict[str, Any], rejections: RejectionSummary,
                    profile: dict[str, Any] | None = None,
                    samples: ValueSamples | None = None) -> dict[str, Any]:
    """The report of a job from its status and its rejection summary.

    `columns[field]`: rows skipped because of that field (its primary error), by code, so the
    `skipped` of every column plus `rowProblems` add up to `invalidRows`; `alsoFailing` counts
    the rows that failed the field too but were skipped for another one."""
    columns: dict[str, dict[str, Any]] = {}
    problems: dict[str, Any] = {"skipped": 0, "reasons": {}, "samples": []}
    for group in rejections.groups:
        if group.field is None:
            entry = problems
        else:
            entry = columns.setdefault(group.field, _column(group.column))
        entry["skipped"] += group.count
        entry["reasons"][group.code] = entry["reasons"].get(group.code, 0) + group.count
        room = SAMPLES - len(entry["samples"])
        entry["samples"].extend({**sample, "code": group.code} for sample in group.samples[:room])
    for name, n in rejections.also_failing.items():
        columns.setdefault(name, _column(None))["alsoFailing"] = n
    healing = doc.get("healing") or {}
    report: dict[str, Any] = {
        "columns": columns,
        "rowProblems": problems,
        "totals": {
            "inserted": doc.get("mergedInserts", 0),
            "updated": doc.get("mergedUpdates", 0),
            "unchanged": doc.get("mergedUnchanged", 0),
            "deleted": doc.get("mergedDeletes", 0),
            "skipped": doc.get("invalidRows", 0),
        },
        "healing": {"headers": healing.get("headerRenames") or [],
                    "columnFormats": healing.get("columnFormats") or {},
                    "values": healing.get("values") or {},
                    "samples": samples.healing if samples else {}},
        "warnings": doc.get("warningsByField") or {},
        "warningSamples": samples.warnings if samples else {},
    }
    if profile is not None:
        report["profile"] = profile
    return report


def _column(source_column: str | None) -> dict[str, Any]:
    return {"sourceColumn": source_column, "skipped": 0, "reasons": {}, "alsoFailing": 0,
            "samples": []}
