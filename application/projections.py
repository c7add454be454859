"""Read models built only from events: the job status document and the job index row.

`apply_event` is a pure reducer; the Projector feeds it the application's notification log in
order and hands the results to a ReadModelStore together with the log position, so an event is
never applied twice and a rebuild from position 0 gives the same documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def _add(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    out = dict(total)
    for k, v in more.items():
        out[k] = out.get(k, 0) + v
    return out


def _add_nested(total: dict[str, dict[str, int]], more: dict[str, dict[str, int]]) -> dict:
    out = {k: dict(v) for k, v in total.items()}
    for k, v in more.items():
        out[k] = _add(out.get(k, {}), v)
    return out


def _fresh_run(doc: dict[str, Any]) -> None:
    doc.update(
        readRows=0,
        validRows=0,
        invalidRows=0,
        errorSummary=None,
        mergedInserts=0,
        mergedUpdates=0,
        mergedUnchanged=0,
        mergedDeletes=0,
        chunksValidated=0,
        chunksWithRows=0,
        chunksMerged=0,
        chunksTotal=None,
        rejectedByField={},
        warningsByField={},
        healing={"headers": {}, "columnFormats": {}, "values": {}},
        errorSegments=[],
    )


def _derive(doc: dict[str, Any]) -> None:
    read, valid, invalid = doc["readRows"], doc["validRows"], doc["invalidRows"]
    doc["rowsTotal"] = read
    doc["rowsImported"] = valid
    doc["rowsRejected"] = invalid
    doc["successRate"] = round(valid / read, 4) if read else 1.0
    doc["hasErrors"] = invalid > 0
    merged = (doc["mergedInserts"] + doc["mergedUpdates"] + doc.get("mergedUnchanged", 0)
              + doc["mergedDeletes"])
    state, stage = doc["state"], doc["stage"]
    if state == "completed":
        percent = 100.0
    elif state == "running" and stage == "merging":
        percent = 50.0 + (50.0 * merged / valid if valid else 50.0)
    elif state == "running":
        percent = 0.0
    else:
        percent = None
    doc["progress"] = {
        "percent": round(percent, 1) if percent is not None else None,
        "rowsValidated": read,
        "rowsMerged": merged,
        "chunksValidated": doc["chunksValidated"],
        "chunksMerged": doc["chunksMerged"],
        "chunksTotal": doc["chunksTotal"],
    }


def apply_event(doc: dict[str, Any] | None, event_type: str, data: dict[str, Any], at: datetime,
                job_id: UUID, version: int) -> dict[str, Any]:
    """Return the status document after one event (a new dict; the input is not changed)."""
    if doc is None:
        doc = {}
    else:
        doc = {**doc, "progress": dict(doc.get("progress") or {})}
    ts = _iso(at)
    if event_type == "Created":
        doc.update(
            jobId=str(job_id),
            workspace=data["workspace"],
            objectName=data["object_name"],
            fileName=data.get("file_name"),
            fileSize=data.get("file_size"),
            source=data.get("source"),
            labels=list(data.get("labels") or []),
            idempotencyKey=data.get("idempotency_key"),
            inlineRows=bool(data.get("inline_rows")),
            listId=data.get("list_id"),
            callback=({"url": data["callback_url"], "state": "pending", "attempts": 0, "detail": None}
                      if data.get("callback_url") else None),
            state="pending",
            stage=None,
            planVersion=0,
            importMode=None,
            operation=None,
            reviewPolicy=None,
            fileSha256=None,
            errorMessage=None,
            errorCode=None,
            proposal=None,
            createdAt=ts,
            startedAt=None,
            processingStartedAt=None,
            finishedAt=None,
        )
        _fresh_run(doc)
    elif event_type == "FileReceived":
        doc.update(fileName=data["file_name"], fileSize=data["size"], fileSha256=data["sha256"])
        if doc.get("importMode") is not None:
            doc["state"] = "ready"
    elif event_type == "Mapped":
        plan = data["plan"]
        doc.update(planVersion=1, importMode=plan.get("importMode"), operation=plan.get("operation"),
                   reviewPolicy=plan.get("reviewPolicy"))
        if doc.get("fileSha256") is not None:
            doc["state"] = "ready"
    elif event_type == "Started":
        doc.update(state="queued", startedAt=ts)
    elif event_type == "ProcessingStarted":
        doc.update(state="running", stage="validating", processingStartedAt=ts)
        _fresh_run(doc)
    elif event_type == "ChunkValidated":
        doc["chunksValidated"] += 1
        doc["readRows"] += data["read_rows"]
        doc["validRows"] += data["valid_rows"]
        if data["valid_rows"]:
            doc["chunksWithRows"] += 1
        doc["rejectedByField"] = _add_nested(doc["rejectedByField"], data["rejected_by_field"])
        doc["warningsByField"] = _add(doc["warningsByField"], data["warnings_by_field"])
        healing = doc["healing"]
        doc["healing"] = {
            "headers": {**healing["headers"], **data["header_healing"]},
            "columnFormats": {**healing["columnFormats"], **data["column_formats"]},
            "values": _add_nested(healing["values"], data["healed_by_field"]),
        }
    elif event_type == "RowsRejected":
        doc["invalidRows"] += sum(data["counts"].values())
        doc["errorSummary"] = _add(doc["errorSummary"] or {}, data["counts"])
        if data.get("error_segment"):
            doc["errorSegments"] = [*doc["errorSegments"], list(data["error_segment"])]
    elif event_type == "ValidationFinished":
        doc.update(stage="merging", chunksTotal=data["chunks"])
    elif event_type == "AttentionNeeded":
        doc.update(state="needs_attention", stage=None, proposal=data["proposal"])
    elif event_type == "FixApproved":
        plan = data["plan"]
        doc.update(state="queued", planVersion=data["plan_version"], proposal=None,
                   importMode=plan.get("importMode"), operation=plan.get("operation"),
                   reviewPolicy=plan.get("reviewPolicy"))
    elif event_type == "ChunkMerged":
        doc["chunksMerged"] += 1
        doc["mergedInserts"] += data["inserts"]
        doc["mergedUpdates"] += data["updates"]
        doc["mergedUnchanged"] = doc.get("mergedUnchanged", 0) + data.get("unchanged", 0)
        doc["mergedDeletes"] += data["deletes"]
    elif event_type == "Completed":
        doc.update(state="completed", stage=None, finishedAt=ts)
    elif event_type == "Failed":
        doc.update(state="failed", stage=None, finishedAt=ts, errorMessage=data["error_message"],
                   errorCode=data.get("error_code", "SOURCE_UNREADABLE"))
    elif event_type == "Cancelled":
        doc.update(state="cancelled", stage=None, finishedAt=ts)
    elif event_type == "Deleted":
        doc.update(state="deleted", stage=None)
    elif event_type in ("CallbackDelivered", "CallbackFailed"):
        doc["callback"] = {**doc["callback"], "attempts": data["attempts"], "detail": data["detail"],
                           "state": "delivered" if event_type == "CallbackDelivered" else "failed"}
    elif event_type == "MetadataEdited":
        for key, attr in (("source", "source"), ("labels", "labels"), ("file_name", "fileName")):
            if data.get(key) is not None:
                doc[attr] = data[key]
    doc["updatedAt"] = ts
    doc["version"] = version
    _derive(doc)
    return doc


@dataclass(frozen=True)
class IndexRow:
    """What listing needs to filter and page without reading whole documents."""

    job_id: str
    workspace: str
    state: str
    object_name: str
    source: str | None
    labels: list[str]
    created_at: str
    idempotency_key: str | None


def callback_due(doc: dict[str, Any]) -> bool:
    """The job has ended and its callbackUrl has not been called yet."""
    callback = doc.get("callback")
    return bool(callback) and callback["state"] == "pending" and doc["state"] in (
        "completed", "failed", "cancelled")


def index_row(doc: dict[str, Any]) -> IndexRow:
    return IndexRow(
        job_id=doc["jobId"],
        workspace=doc["workspace"],
        state=doc["state"],
        object_name=doc["objectName"],
        source=doc.get("source"),
        labels=list(doc.get("labels") or []),
        created_at=doc["createdAt"],
        idempotency_key=doc.get("idempotencyKey"),
    )


@dataclass(frozen=True)
class JobFilter:
    workspace: str
    states: tuple[str, ...] = ()
    object_name: str | None = None
    source: str | None = None
    label: str | None = None
    created_from: str | None = None
    created_to: str | None = None
    limit: int = 50
    cursor: tuple[str, str] | None = None  # (created_at, job_id) of the last row seen


class ReadModelStore(Protocol):
    """Where projections live; `apply` writes documents and the new position atomically."""

    def position(self, projection: str) -> int: ...

    def apply(self, projection: str, expected_position: int, new_position: int,
              docs: dict[str, dict[str, Any]]) -> bool:
        """Store docs and move the position, only if it still is `expected_position`."""
        ...

    def get(self, job_id: str) -> dict[str, Any] | None: ...

    def list(self, flt: JobFilter) -> list[dict[str, Any]]: ...

    def all_documents(self) -> dict[str, dict[str, Any]]: ...

    def count_active(self, workspace: str) -> int: ...

    def find_by_idempotency_key(self, workspace: str, key: str) -> dict[str, Any] | None: ...

    def callbacks_due(self) -> list[str]:
        """Ids of ended jobs whose callbackUrl has not been called yet."""
        ...

    def clear(self) -> None: ...
