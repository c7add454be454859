"""Read models built only from events: the job status document and the job index row.

`apply_event` is a pure reducer; the Projector feeds it the application's notification log in
order and hands the results to a ReadModelStore together with the log position, so an event is
never applied twice and a rebuild from position 0 gives the same documents.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from lading.domain.import_job import EVENTS, ImportJob
from lading.domain.lifecycle import TERMINAL_STATES
from lading.domain.timestamps import iso_utc


def _add(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    out = dict(total)
    for k, v in more.items():
        out[k] = out.get(k, 0) + v
    return out


def _add_nested(total: dict[str, dict[str, int]],
                more: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
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
        mergedDeletes=0,
        mergedUnchanged=0,
        chunksValidated=0,
        chunksWithRows=0,
        chunksMerged=0,
        chunksTotal=None,
        diffCounts={},
        diffSampleChunks=[],
        rejectedByField={},
        warningsByField={},
        healing={"headers": {}, "columnFormats": {}, "values": {}, "headerRenames": []},
        errorSegments=[],
    )


def _derive(doc: dict[str, Any]) -> None:
    read, valid, invalid = doc["readRows"], doc["validRows"], doc["invalidRows"]
    doc["rowsTotal"] = read
    doc["rowsImported"] = valid
    doc["rowsRejected"] = invalid
    doc["successRate"] = round(valid / read, 4) if read else 1.0
    doc["hasErrors"] = invalid > 0 and doc.get("purgedAt") is None  # no error file after a purge
    merged = (doc["mergedInserts"] + doc["mergedUpdates"] + doc.get("mergedUnchanged", 0)
              + doc["mergedDeletes"])
    if doc.get("dryRun"):
        counts = doc.get("diffCounts") or {}
        doc["diff"] = {kind: counts.get(kind, 0)
                       for kind in ("inserted", "updated", "unchanged", "deleted")}
        doc["diff"]["rejected"] = invalid
        merged += sum(counts.values())  # for progress only: a dry run's merged* stay 0
    state, stage = doc["state"], doc["stage"]
    if state in ("completed", "reverting", "reverted"):  # a revert does not redo the import
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


Event = Any  # an ImportJob event (domain.import_job.EVENTS)
_Reducer = Callable[[dict[str, Any], Any, str], None]
_REDUCERS: dict[type, _Reducer] = {}


def _on(event_class: type) -> Callable[[_Reducer], _Reducer]:
    def register(fn: _Reducer) -> _Reducer:
        _REDUCERS[event_class] = fn
        return fn
    return register


def apply_event(doc: dict[str, Any] | None, event: Event) -> dict[str, Any]:
    """Return the status document after one event (a new dict; the input is not changed)."""
    doc = {} if doc is None else {**doc, "progress": dict(doc.get("progress") or {})}
    ts = iso_utc(event.timestamp)
    try:
        reduce = _REDUCERS[type(event)]
    except KeyError:
        raise TypeError(f"no projection for event {type(event).__qualname__}") from None
    if type(event) is ImportJob.Created:
        doc["jobId"] = str(event.originator_id)
    reduce(doc, event, ts)
    doc["updatedAt"] = ts
    doc["version"] = event.originator_version
    _derive(doc)
    return doc


@_on(ImportJob.Created)
def _created(doc: dict[str, Any], e: ImportJob.Created, ts: str) -> None:
    doc.update(
        workspace=e.workspace,
        objectName=e.object_name,
        fileName=e.file_name,
        fileSize=e.file_size,
        source=e.source,
        labels=list(e.labels or []),
        idempotencyKey=e.idempotency_key,
        inlineRows=bool(e.inline_rows),
        listId=e.list_id,
        audienceId=e.audience_id,
        autoProfileAfterImport=bool(e.auto_profile),
        concurrencyScope=e.concurrency_scope,
        callback=({"url": e.callback_url, "state": "pending", "attempts": 0, "detail": None}
                  if e.callback_url else None),
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
        sourceFiles=None,
        expectedFiles=([{"fileName": f["fileName"], "fileSize": f["fileSize"], "received": False}
                        for f in e.expected_files] if e.expected_files else None),
        declaredStatus=None,
        expectedRows=None,
        createdAt=ts,
        startedAt=None,
        processingStartedAt=None,
        finishedAt=None,
        purgedAt=None,
        dryRun=False,
        dryRunOf=e.dry_run_of,
        revertedAt=None,
        revert=None,
    )
    _fresh_run(doc)


@_on(ImportJob.FileReceived)
def _file_received(doc: dict[str, Any], e: ImportJob.FileReceived, ts: str) -> None:
    doc.update(fileName=e.file_name, fileSize=e.size, fileSha256=e.sha256, sourceFiles=None,
               purgedAt=None)
    if doc.get("importMode") is not None:
        doc["state"] = "ready"


@_on(ImportJob.FilesReceived)
def _files_received(doc: dict[str, Any], e: ImportJob.FilesReceived, ts: str) -> None:
    doc.update(fileName=e.files[0]["fileName"], fileSize=sum(f["size"] for f in e.files),
               fileSha256=e.files[0]["sha256"],
               sourceFiles=[{"fileName": f["fileName"], "fileSize": f["size"], "sha256": f["sha256"]}
                            for f in e.files],
               purgedAt=None)
    if doc.get("importMode") is not None:
        doc["state"] = "ready"


@_on(ImportJob.FilePartReceived)
def _part_received(doc: dict[str, Any], e: ImportJob.FilePartReceived, ts: str) -> None:
    expected = [dict(f) for f in doc.get("expectedFiles") or []]
    if not 0 <= e.index < len(expected):
        return  # no file was announced at that place (the aggregate records none): nothing to count
    expected[e.index]["received"] = True
    parts = {**(doc.get("receivedParts") or {}), str(e.index): {"size": e.size, "sha256": e.sha256}}
    doc.update(expectedFiles=expected, receivedParts=parts)
    if len(parts) == len(expected):  # the job holds them now, as after FilesReceived
        files = [{"fileName": f["fileName"], "fileSize": parts[str(i)]["size"],
                  "sha256": parts[str(i)]["sha256"]} for i, f in enumerate(expected)]
        doc.update(fileName=files[0]["fileName"], fileSize=sum(f["fileSize"] for f in files),
                   fileSha256=files[0]["sha256"], sourceFiles=files)
        if doc.get("importMode") is not None:
            doc["state"] = "ready"


@_on(ImportJob.StatusDeclared)
def _status_declared(doc: dict[str, Any], e: ImportJob.StatusDeclared, ts: str) -> None:
    if e.status is not None:
        doc["declaredStatus"] = e.status
    if e.expected_rows is not None:
        doc["expectedRows"] = e.expected_rows


@_on(ImportJob.Mapped)
def _mapped(doc: dict[str, Any], e: ImportJob.Mapped, ts: str) -> None:
    doc.update(planVersion=1, importMode=e.plan.get("importMode"), operation=e.plan.get("operation"),
               reviewPolicy=e.plan.get("reviewPolicy"))
    if doc.get("fileSha256") is not None:
        doc["state"] = "ready"


@_on(ImportJob.Started)
def _started(doc: dict[str, Any], e: ImportJob.Started, ts: str) -> None:
    doc.update(state="queued", startedAt=ts, dryRun=bool(e.dry_run))


@_on(ImportJob.ProcessingStarted)
def _processing_started(doc: dict[str, Any], e: ImportJob.ProcessingStarted, ts: str) -> None:
    doc.update(state="running", stage="validating", processingStartedAt=ts)
    _fresh_run(doc)


@_on(ImportJob.ChunkValidated)
def _chunk_validated(doc: dict[str, Any], e: ImportJob.ChunkValidated, ts: str) -> None:
    doc["chunksValidated"] += 1
    doc["readRows"] += e.read_rows
    doc["validRows"] += e.valid_rows
    if e.valid_rows:
        doc["chunksWithRows"] += 1
    doc["rejectedByField"] = _add_nested(doc["rejectedByField"], e.rejected_by_field)
    doc["warningsByField"] = _add(doc["warningsByField"], e.warnings_by_field)
    healing = doc["healing"]
    doc["healing"] = {
        "headers": {**healing["headers"], **e.header_healing},
        "columnFormats": {**healing["columnFormats"], **e.column_formats},
        "values": _add_nested(healing["values"], e.healed_by_field),
        "headerRenames": [*healing.get("headerRenames", []), *(e.header_renames or [])],
    }


@_on(ImportJob.RowsRejected)
def _rows_rejected(doc: dict[str, Any], e: ImportJob.RowsRejected, ts: str) -> None:
    doc["invalidRows"] += sum(e.counts.values())
    doc["errorSummary"] = _add(doc["errorSummary"] or {}, e.counts)
    if e.error_segment:
        doc["errorSegments"] = [*doc["errorSegments"], list(e.error_segment)]


@_on(ImportJob.ValidationFinished)
def _validation_finished(doc: dict[str, Any], e: ImportJob.ValidationFinished, ts: str) -> None:
    doc.update(stage="merging", chunksTotal=e.chunks)


@_on(ImportJob.AttentionNeeded)
def _attention_needed(doc: dict[str, Any], e: ImportJob.AttentionNeeded, ts: str) -> None:
    doc.update(state="needs_attention", stage=None, proposal=e.proposal)


@_on(ImportJob.FixApproved)
def _fix_approved(doc: dict[str, Any], e: ImportJob.FixApproved, ts: str) -> None:
    doc.update(state="queued", planVersion=e.plan_version, proposal=None,
               importMode=e.plan.get("importMode"), operation=e.plan.get("operation"),
               reviewPolicy=e.plan.get("reviewPolicy"))


@_on(ImportJob.ChunkMerged)
def _chunk_merged(doc: dict[str, Any], e: ImportJob.ChunkMerged, ts: str) -> None:
    doc["chunksMerged"] += 1
    doc["mergedInserts"] += e.inserts
    doc["mergedUpdates"] += e.updates
    doc["mergedDeletes"] += e.deletes
    doc["mergedUnchanged"] = doc.get("mergedUnchanged", 0) + e.unchanged


@_on(ImportJob.ChunkDiffed)
def _chunk_diffed(doc: dict[str, Any], e: ImportJob.ChunkDiffed, ts: str) -> None:
    doc["chunksMerged"] += 1
    doc["diffCounts"] = _add(doc.get("diffCounts") or {}, {
        "inserted": e.inserts, "updated": e.updates, "deleted": e.deletes,
        "unchanged": e.unchanged})
    if any(e.samples.values()):
        doc["diffSampleChunks"] = [*(doc.get("diffSampleChunks") or []), e.chunk]


@_on(ImportJob.RevertStarted)
def _revert_started(doc: dict[str, Any], e: ImportJob.RevertStarted, ts: str) -> None:
    doc.update(state="reverting", crashes=0, revert={"force": e.force, "conflicts": e.conflicts,
                                          "chunksReverted": 0, "removed": 0, "restored": 0,
                                          "startedAt": ts})


@_on(ImportJob.ChunkReverted)
def _chunk_reverted(doc: dict[str, Any], e: ImportJob.ChunkReverted, ts: str) -> None:
    revert = dict(doc["revert"])
    revert.update(chunksReverted=revert["chunksReverted"] + 1,
                  removed=revert["removed"] + e.removed, restored=revert["restored"] + e.restored)
    doc["revert"] = revert


@_on(ImportJob.Reverted)
def _reverted(doc: dict[str, Any], e: ImportJob.Reverted, ts: str) -> None:
    doc.update(state="reverted", revertedAt=ts)


@_on(ImportJob.Completed)
def _completed(doc: dict[str, Any], e: ImportJob.Completed, ts: str) -> None:
    doc.update(state="completed", stage=None, finishedAt=ts)


@_on(ImportJob.Failed)
def _failed(doc: dict[str, Any], e: ImportJob.Failed, ts: str) -> None:
    doc.update(state="failed", stage=None, finishedAt=ts, errorMessage=e.error_message,
               errorCode=e.error_code)


@_on(ImportJob.ProcessingCrashed)
def _processing_crashed(doc: dict[str, Any], e: ImportJob.ProcessingCrashed, ts: str) -> None:
    doc["crashes"] = e.attempt  # the job stays where it was; the next attempt resumes it


@_on(ImportJob.Cancelled)
def _cancelled(doc: dict[str, Any], e: ImportJob.Cancelled, ts: str) -> None:
    doc.update(state="cancelled", stage=None, finishedAt=ts)


@_on(ImportJob.Deleted)
def _deleted(doc: dict[str, Any], e: ImportJob.Deleted, ts: str) -> None:
    doc.update(state="deleted", stage=None)


@_on(ImportJob.BlobsPurged)
def _blobs_purged(doc: dict[str, Any], e: ImportJob.BlobsPurged, ts: str) -> None:
    doc["purgedAt"] = ts
    if doc["state"] in ("pending", "ready"):  # a job never started lost its file
        doc.update(state="pending", fileSha256=None, sourceFiles=None)


@_on(ImportJob.CallbackDelivered)
def _callback_delivered(doc: dict[str, Any], e: ImportJob.CallbackDelivered, ts: str) -> None:
    doc["callback"] = {**doc["callback"], "attempts": e.attempts, "detail": e.detail,
                       "state": "delivered"}


@_on(ImportJob.CallbackFailed)
def _callback_failed(doc: dict[str, Any], e: ImportJob.CallbackFailed, ts: str) -> None:
    doc["callback"] = {**doc["callback"], "attempts": e.attempts, "detail": e.detail, "state": "failed"}


@_on(ImportJob.MetadataEdited)
def _metadata_edited(doc: dict[str, Any], e: ImportJob.MetadataEdited, ts: str) -> None:
    for value, attr in ((e.source, "source"), (e.labels, "labels"), (e.file_name, "fileName")):
        if value is not None:
            doc[attr] = value


_EVENT_META = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def event_fields(event: Event) -> dict[str, Any]:
    """An event's own fields (not its envelope), JSON-ready, as `GET …/events` shows them."""
    return {k: _jsonable(v) for k, v in event.__dict__.items() if k not in _EVENT_META}


def _jsonable(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


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
    return callback is not None and callback["state"] == "pending" and doc["state"] in TERMINAL_STATES


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

    def list(self, flt: JobFilter) -> builtins.list[dict[str, Any]]: ...

    def all_documents(self) -> dict[str, dict[str, Any]]: ...

    def count_active(self, workspace: str) -> int: ...

    def state_totals(self) -> builtins.list[tuple[str, int, int, int, int, int]]:
        """Per state: (state, jobs, rows read, valid, invalid, merged), for metrics."""
        ...

    def find_by_idempotency_key(self, workspace: str, key: str) -> dict[str, Any] | None: ...

    def idempotency_key_used(self, workspace: str, idempotency_key: str) -> bool:
        """Whether a job not deleted was created with this key, whatever its payload."""
        ...

    def callbacks_due(self) -> builtins.list[str]:
        """Ids of ended jobs whose callbackUrl has not been called yet."""
        ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


# Every declared event has a projection: a new event class without one fails at import.
assert set(EVENTS) == set(_REDUCERS), set(EVENTS) ^ set(_REDUCERS)
