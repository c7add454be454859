"""Request and response shapes of the /v1 API (camelCase on the wire), as msgspec Structs.

Responses are often the application's own dicts (the status document): the Structs here
describe them for OpenAPI and for the schema-conformance tests, and the encoder writes the
dicts as they are, so the HTTP body and `lading import --json` stay the same document.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec
from litestar.datastructures import UploadFile
from msgspec import Meta

from lading.domain.limits import MAX_INLINE_ROWS
from lading.domain.table_schema import FIELD_TYPES
from lading.entrypoints.http.envelope import Wire

# More rows than this is 413 LIMIT.PAYLOAD_TOO_LARGE (a size limit, like a file's), not a 400.
InlineRows = Annotated[list[dict[str, Any]], Meta(
    description=f"At most {MAX_INLINE_ROWS:,} rows; more is 413 LIMIT.PAYLOAD_TOO_LARGE.")]

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Label = Annotated[str, Meta(min_length=1, max_length=200)]
ReviewPolicyValue = str | dict[str, float]
JobState = Literal["pending", "ready", "queued", "running", "needs_attention", "completed",
                   "failed", "cancelled", "reverting", "reverted"]


class RequestBody(Wire, forbid_unknown_fields=True):
    """Requests refuse unknown fields: a typo must not be silently ignored.

    `schema_rules` states in JSON Schema what the handler checks across fields (either this or
    that), so the published shape is exactly what is accepted (openapi_document.py).
    """

    schema_rules: ClassVar[dict[str, Any]] = {}  # "allOf": [if/then/else…], kept as generators read it


# SPEC §3's modes that need nothing more: `custom` is reserved (400 until a workspace policy
# defines it), so it is not offered.
IMPORT_MODE_SCHEMA = {"anyOf": [{"enum": ["balanced", "strict", "landing_friendly"]}, {"type": "null"}]}
# SPEC §3's review policies, as domain/plan.py parses them.
REVIEW_POLICY_SCHEMA = {"anyOf": [
    {"enum": ["auto", "review_on_errors"]},
    {"type": "object", "required": ["maxInvalidRatio"], "additionalProperties": False,
     "properties": {"maxInvalidRatio": {"type": "number", "minimum": 0, "maximum": 1}}},
    {"type": "null"},
]}


def _given(*pairs: Any) -> dict[str, Any]:
    """JSON Schema for "these fields are present and not null": (name, JSON type or const)…"""
    names, kinds = pairs[::2], pairs[1::2]
    return {"required": list(names), "properties": {
        n: {"const": k} if isinstance(k, bool) else {"type": k} for n, k in zip(names, kinds)}}


# -- jobs -----------------------------------------------------------------------------------


class AnnouncedFile(RequestBody):
    file_name: Name
    file_size: Annotated[int, Meta(ge=0)]


class CreateJob(RequestBody):
    object_name: Name
    file_name: Name | None = None
    file_size: Annotated[int, Meta(ge=0)] | None = None
    # Several files read in order as one source, each uploaded to its own signed URL.
    files: Annotated[list[AnnouncedFile], Meta(min_length=1, max_length=100)] | None = None
    rows: InlineRows | None = None
    idempotency_key: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    source: Name | None = None
    labels: Annotated[list[Label], Meta(max_length=50)] | None = None
    create_list: bool = False
    list_name: Name | None = None
    target_list_id: Name | None = None
    create_audience: bool = False
    audience_name: Name | None = None
    auto_profile_after_import: bool = False
    callback_url: Annotated[str, Meta(max_length=2000)] | None = None
    # One import at a time: refused (409 LIMIT.CONCURRENCY) while a job of the same scope is open.
    concurrency_scope: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    # The job's file is this object (s3://bucket/key), copied inside the store: no upload.
    source_url: Annotated[str, Meta(min_length=1, max_length=2000)] | None = None

    schema_rules: ClassVar[dict[str, Any]] = {
        # What check_create_request (jobs.py) refuses across fields: inline rows, several files, or
        # a file's name and size; listName exactly with createList; createList or targetListId,
        # not both; audienceName exactly with createAudience.
        # As if/then (which generators leave alone), not as oneOf (which they read as unions).
        "allOf": [{"if": {"anyOf": [_given("rows", "array"), _given("files", "array")]},
                   "then": {}, "else": _given("fileName", "string", "fileSize", "integer")},
                  {"if": _given("rows", "array"),
                   "then": {"not": {"anyOf": [_given("fileSize", "integer"), _given("files", "array")]}}},
                  {"if": _given("files", "array"),
                   "then": {"not": {"anyOf": [_given("fileName", "string"),
                                              _given("fileSize", "integer")]}}},
                  {"if": _given("createList", True),
                   "then": {**_given("listName", "string"), "not": _given("targetListId", "string")},
                   "else": {"not": _given("listName", "string")}},
                  {"if": _given("createAudience", True), "then": _given("audienceName", "string"),
                   "else": {"not": _given("audienceName", "string")}}],
    }


class FileUploadSlot(Wire):
    file_name: str
    upload_url: str
    method: Literal["PUT"]
    headers: dict[str, str]
    expires_at: str


class UploadSlot(Wire):
    job_id: str
    state: str
    upload_url: str | None
    method: Literal["PUT"] | None
    headers: dict[str, str]
    expires_at: str | None
    landing_path: str | None
    # A several-file job: one signed PUT a file, in reading order (upload_url is then null).
    uploads: list[FileUploadSlot] | None = None


class ExpectedFile(Wire):
    file_name: str
    file_size: int
    received: bool


class HeaderRename(Wire):
    column: str  # the header's name
    mapped_column: str  # the fieldMap key it stands for
    field: str
    reason: str  # normalised | field name | contained | similar | values
    score: float


class Healing(Wire):
    headers: dict[str, str]
    column_formats: dict[str, str]
    values: dict[str, dict[str, int]]
    # Every mapped column found under another name, and why (normalised ones included).
    header_renames: list[HeaderRename] = []


class Progress(Wire):
    percent: float | None
    rows_validated: int
    rows_merged: int
    chunks_validated: int
    chunks_merged: int
    chunks_total: int | None


class Links(Wire):
    self_: str = msgspec.field(name="self")
    errors: str
    valid_rows: str
    annotated_rows: str
    errors_csv: str
    events: str


class ColumnReport(Wire):
    source_column: str | None
    skipped: int  # rows skipped for this field (their primary error), by code in `reasons`
    reasons: dict[str, int]
    also_failing: int  # rows that failed this field too but were skipped for another one
    samples: list[dict[str, Any]]  # up to 5: rowNumber, value, code, message


class RowProblems(Wire):
    skipped: int  # rows skipped as a whole (malformed, unreadable), by code in `reasons`
    reasons: dict[str, int]
    samples: list[dict[str, Any]]


class HealedSample(Wire):
    row_number: int
    value: Any  # as the source gave it
    healed: Any  # as it was stored


class WarningSample(Wire):
    row_number: int
    value: Any  # as the source gave it (stored as null)


class ReportHealing(Wire):
    headers: list[HeaderRename]
    column_formats: dict[str, str]
    values: dict[str, dict[str, int]]
    samples: dict[str, dict[str, list[HealedSample]]] = {}


class DetailedReport(Wire):
    columns: dict[str, ColumnReport]
    row_problems: RowProblems
    totals: dict[str, int]
    healing: ReportHealing
    warnings: dict[str, int]
    warning_samples: dict[str, list[WarningSample]] = {}
    profile: dict[str, Any] | None = None


class CallbackStatus(Wire):
    url: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    detail: str | None  # the receiver's last HTTP status, or why it could not be reached


class SourceFileInfo(Wire):
    file_name: str
    file_size: int
    sha256: str


class UpdatedSample(Wire):
    key: dict[str, Any]
    before: dict[str, Any]  # only the fields the update changes
    after: dict[str, Any]


class InsertedSample(Wire):
    key: dict[str, Any]
    after: dict[str, Any]


class DeletedSample(Wire):
    key: dict[str, Any]
    before: dict[str, Any]


class DiffSamples(Wire):
    updated: list[UpdatedSample]
    inserted: list[InsertedSample]
    deleted: list[DeletedSample]


class Diff(Wire):
    """What a dry run would do: the counts the real run would report, and up to 20 sample
    rows of each kind."""

    inserted: int
    updated: int
    unchanged: int
    deleted: int
    rejected: int
    samples: DiffSamples | None = None


class RevertProgress(Wire):
    force: bool
    conflicts: int  # rows later jobs changed, restored over because of force
    chunks_reverted: int
    removed: int  # rows the job inserted, deleted again
    restored: int  # rows the job updated or deleted, put back as they were
    started_at: str


class JobStatus(Wire):
    job_id: str
    object_name: str
    file_name: str | None
    file_size: int | None
    source: str | None
    labels: list[str]
    list_id: str | None
    callback: CallbackStatus | None
    state: JobState
    stage: str | None
    progress: Progress
    plan_version: int
    import_mode: str | None
    operation: str | None
    review_policy: ReviewPolicyValue | None
    file_sha256: str | None
    read_rows: int
    valid_rows: int
    invalid_rows: int
    error_summary: dict[str, int] | None
    merged_inserts: int
    merged_updates: int
    merged_unchanged: int
    merged_deletes: int
    rows_total: int
    rows_imported: int
    rows_rejected: int
    success_rate: float
    has_errors: bool
    healing: Healing
    warnings: dict[str, int] | None
    proposal: dict[str, Any] | None
    error_message: str | None
    error_code: str | None
    created_at: str
    started_at: str | None
    processing_started_at: str | None
    finished_at: str | None
    updated_at: str
    links: Links
    # How many of the job's events this status reflects (the last one's version, SPEC §8).
    version: int
    detailed_report: DetailedReport | None = None
    # Several files read in order as one source; null for a single file.
    source_files: list[SourceFileInfo] | None = None
    # The files a several-file job was created for, and which of them arrived.
    expected_files: list[ExpectedFile] | None = None
    # A cohort (created without data): the status its client declared and the rows it expects.
    declared_status: str | None = None
    expected_rows: int | None = None
    concurrency_scope: str | None = None
    # When `lading purge` removed the job's files (its history stays): no error file then.
    purged_at: str | None = None
    # The dynamic audience this job's writes make (createAudience), and whether it is profiled.
    audience_id: str | None = None
    auto_profile_after_import: bool = False
    # SPEC §8: a dry run and its diff, the dry run a job applies, and a revert.
    dry_run: bool = False
    dry_run_of: str | None = None
    diff: Diff | None = None
    reverted_at: str | None = None
    revert: RevertProgress | None = None


class JobPage(Wire):
    items: list[JobStatus]
    next_cursor: str | None


# -- lists ----------------------------------------------------------------------------------


class AudienceInfo(Wire):
    audience_id: str
    name: str
    object_name: str
    job_id: str  # its members are the records whose last write came from this job
    created_at: str
    member_count: int  # evaluated now


class AudiencePage(Wire):
    items: list[AudienceInfo]
    next_cursor: str | None


class AudienceMemberPage(Wire):
    audience_id: str
    members: list[dict[str, Any]]
    next_cursor: str | None


class ListInfo(Wire):
    list_id: str
    name: str
    object_name: str
    created_at: str
    member_count: int


class ListPage(Wire):
    items: list[ListInfo]
    next_cursor: str | None


class MemberPage(Wire):
    list_id: str
    members: Annotated[list[dict[str, Any]], Meta(
        description="Each member is the record's primary key: an object of its key fields.")]
    next_cursor: str | None


class JobEvent(Wire):
    type: str
    version: int
    timestamp: str
    data: dict[str, Any]


class ErrorFileInfo(Wire):
    has_errors: bool
    error_file_url: str | None
    expires_at: str | None
    error_count: int
    valid_rows_url: str | None


class MappingFields(RequestBody):
    source_fields: dict[str, str] | None = None
    field_map: dict[str, str] | None = None
    import_mode: Literal["balanced", "strict", "landing_friendly", "custom"] | None = None
    operation: Literal["upsert", "insert", "update", "delete"] | None = None
    review_policy: ReviewPolicyValue | None = None

    schema_rules: ClassVar[dict[str, Any]] = {"properties": {
        "reviewPolicy": REVIEW_POLICY_SCHEMA, "importMode": IMPORT_MODE_SCHEMA,
        "sourceFields": {"anyOf": [{"type": "object", "additionalProperties": {"enum": list(FIELD_TYPES)}},
                                   {"type": "null"}]}}}


class MappingRequest(MappingFields):
    template_id: Name | None = None
    save_as_template: bool = False
    template_name: Name | None = None


class Plan(Wire):
    field_map: dict[str, str]
    source_fields: dict[str, str]
    import_mode: str
    operation: str
    review_policy: ReviewPolicyValue
    fixes: dict[str, Any] | None = None


class MappingResult(Wire):
    job_id: str
    state: str
    plan_version: int
    mapping: Plan
    template_id: str | None


class EditMetadata(RequestBody):
    """Only metadata: `state` (or anything else) is an unknown field, refused with 400."""

    source: Name | None = None
    labels: Annotated[list[Label], Meta(max_length=50)] | None = None
    file_name: Name | None = None


class StatusDeclaration(RequestBody):
    """A cohort's own word for its status and the rows it expects, while it holds no data."""

    status: Name | None = None
    expected_rows: Annotated[int, Meta(ge=0)] | None = None

    schema_rules: ClassVar[dict[str, Any]] = {  # the handler needs one of them
        "anyOf": [_given("status", "string"), _given("expectedRows", "integer")]}


class StartRequest(RequestBody):
    dry_run: bool = False  # run whole, write nothing, report a diff (SPEC §8)


class RevertRequest(RequestBody):
    force: bool = False  # restore the before-images over later jobs' changes too


class Approval(RequestBody):
    proposal: dict[str, Any] | None = None


class Deleted(Wire):
    job_id: str
    deleted: bool


class Removed(Wire):
    id: str
    deleted: bool


# -- one-shot imports and pushes --------------------------------------------------------------


# The multipart text fields take the JSON API's limits (issue 9.8).
MAX_FORM_JSON_CHARS = 100_000


MAX_FILES = 100


class OneShotForm(Wire, forbid_unknown_fields=True):
    # Several `file` parts are read in order as one source (each header matched on its own).
    file: Annotated[list[UploadFile], Meta(min_length=1, max_length=MAX_FILES)]
    object_name: Name | None = None
    configuration_id: Name | None = None
    field_map: Annotated[str, Meta(max_length=MAX_FORM_JSON_CHARS)] | None = None  # JSON object
    import_mode: Name | None = None
    operation: Name | None = None
    review_policy: Annotated[str, Meta(max_length=MAX_FORM_JSON_CHARS)] | None = None
    source: Name | None = None
    idempotency_key: Annotated[str, Meta(min_length=1, max_length=200)] | None = None


# -- objects and records ----------------------------------------------------------------------


class ObjectCreate(RequestBody):
    name: Name
    schema: dict[str, Any]


class ObjectSummary(Wire):
    name: str
    schema: dict[str, Any]


class ObjectInfo(Wire):
    name: str
    schema: dict[str, Any]
    record_count: int


class RecordPage(Wire):
    object_name: str
    records: list[dict[str, Any]]
    count: int
    next_cursor: str | None


MAX_SAMPLE_CHARS = 4 * 1024 * 1024


class SuggestMappingRequest(RequestBody):
    """The header and first rows of a file, or the start of the file itself as text."""

    header: Annotated[list[str], Meta(max_length=10_000)] | None = None
    rows: Annotated[list[list[Any]], Meta(max_length=5000)] | None = None
    sample: Annotated[str, Meta(max_length=MAX_SAMPLE_CHARS)] | None = None
    file_name: Name | None = None

    schema_rules: ClassVar[dict[str, Any]] = {"allOf": [
        {"if": _given("sample", "string"), "then": {"not": _given("header", "array")},
         "else": _given("header", "array")}]}


class ColumnSuggestion(Wire):
    column: str
    field: str | None
    confidence: float
    reason: str


class UnmappedField(Wire):
    field: str
    required: bool


class MappingSuggestion(Wire):
    object_name: str
    sampled_rows: int
    field_map: dict[str, str]
    columns: list[ColumnSuggestion]
    unmapped_fields: list[UnmappedField]


class RecordsWrite(RequestBody):
    rows: InlineRows
    operation: Literal["upsert", "insert", "update", "delete"] | None = None
    import_mode: Literal["balanced", "strict", "landing_friendly", "custom"] | None = None
    review_policy: ReviewPolicyValue | None = None
    idempotency_key: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    source: Name | None = None
    labels: Annotated[list[Label], Meta(max_length=50)] | None = None

    schema_rules: ClassVar[dict[str, Any]] = {"properties": {"reviewPolicy": REVIEW_POLICY_SCHEMA,
                                                             "importMode": IMPORT_MODE_SCHEMA}}


# -- templates and configurations -------------------------------------------------------------


class TemplateCreate(RequestBody):
    name: Name
    object_name: Name
    mapping: MappingFields


class Template(Wire):
    id: str
    name: str
    object_name: str
    mapping: Plan
    created_at: str


class ConfigurationCreate(RequestBody):
    name: Name
    object_name: Name
    mapping: MappingFields | None = None
    template_id: Name | None = None
    source: Name | None = None
    labels: Annotated[list[Label], Meta(max_length=50)] | None = None
    # A file under LADING_SOURCES_DIR (relative path), or s3://bucket/key when S3 is configured.
    source_url: Annotated[str, Meta(min_length=1, max_length=2000)] | None = None
    # An outside system's id for it: the same externalId again answers 200 with the first one.
    external_id: Annotated[str, Meta(min_length=1, max_length=500)] | None = None


class Configuration(Wire):
    id: str
    name: str
    object_name: str
    mapping: Plan
    source: str | None
    labels: list[str]
    created_at: str
    push_url: str
    source_url: str | None = None
    trigger_url: str | None = None
    external_id: str | None = None


class Health(Wire):
    status: str
