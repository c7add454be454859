"""The domain's error hierarchy: every refusal a caller can meet, each with a stable code."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; `code` is the API error code it maps to."""

    code = "VALIDATION.REQUEST_INVALID"


class TransitionNotAllowed(DomainError):
    """A command the lifecycle table does not allow in the job's current state."""

    code = "STATE.CONFLICT"

    def __init__(self, state: str, command: str, reason: str | None = None) -> None:
        self.state = state
        self.command = command
        detail = f": {reason}" if reason else ""
        super().__init__(f"cannot {_SAID.get(command, command)} a job that is {state}{detail}")


# How a refusal names each lifecycle command to a user (never the internal name).
_SAID = {
    "receive_file": "upload a file to",
    "map": "set the mapping of",
    "start": "start",
    "begin_processing": "run",
    "record_validated_chunk": "record validation progress of",
    "finish_validation": "finish validating",
    "pause_for_attention": "pause",
    "approve_fix": "approve a proposal for",
    "record_merged_chunk": "record merge progress of",
    "complete": "complete",
    "fail": "fail",
    "cancel": "cancel",
    "delete": "delete",
    "edit_metadata": "edit",
    "record_callback": "record a callback for",
    "record_crash": "record a crash of",
    "declare_status": "declare the status of",
    "export_rows": "export the rows of",
    "record_diffed_chunk": "record dry-run progress of",
    "apply": "apply",
    "start_revert": "revert",
    "record_reverted_chunk": "record revert progress of",
    "finish_revert": "finish reverting",
}


class InvalidSchema(DomainError):
    """A Table Schema that Lading cannot use."""


class InvalidPlan(DomainError):
    """A mapping that is malformed (bad mode, operation or shape)."""


class UnknownField(DomainError):
    """A mapping that names a field the destination object does not have."""

    code = "VALIDATION.REQUEST_SCHEMA"


class SourceUnreadable(DomainError):
    """A source file that cannot be imported at all; the job fails with this message.

    `failure_code` is the failed job's `errorCode` (one of FAILURE_CODES)."""

    def __init__(self, message: str, failure_code: str = "SOURCE_UNREADABLE") -> None:
        assert failure_code in FAILURE_CODES, failure_code
        super().__init__(message)
        self.failure_code = failure_code

    def retold(self, message: str) -> SourceUnreadable:
        """The same refusal with another message (e.g. naming the file of several)."""
        return SourceUnreadable(message, self.failure_code)


# The closed list of a failed job's `errorCode` (SPEC §3).
FAILURE_CODES = frozenset({
    "SOURCE_UNREADABLE",  # not a file Lading can read as a table
    "NOT_A_TABLE",  # an image, a binary, an archive, a workbook: named in the message
    "COLUMNS_MISSING",  # a mapped column the file's header lacks
    "COLUMNS_UNEXPECTED",  # strict mode: header columns the mapping does not use
    "RECORD_TOO_LARGE",  # one record longer than the configured maximum
    "TOO_MANY_COLUMNS",  # a header wider than the configured maximum
    "LIMIT_ROWS",  # more rows than a job may have
    "STORAGE_FULL",  # no space left to stage, store or write
    "INTERNAL",  # an unexpected exception in processing, contained to the job
})


class InvalidObjectName(DomainError):
    """An object name outside letters, digits, '_' and '-' (1 to 63 characters)."""


class ObjectExists(DomainError):
    """An object name already taken in the workspace by a different Table Schema."""

    code = "STATE.CONFLICT"


class InvalidScopes(DomainError):
    """API key scopes outside imports:read, imports:write and admin, or none at all."""


class ColumnsMissing(SourceUnreadable):
    """Mapped columns the header lacks; `candidates` holds, per mapped column, the header
    columns that might be it (ties never guessed between), so a proposal can offer them."""

    def __init__(self, message: str, candidates: dict[str, list[str]]) -> None:
        super().__init__(message, "COLUMNS_MISSING")
        self.candidates = candidates

    def retold(self, message: str) -> SourceUnreadable:
        return ColumnsMissing(message, self.candidates)
