"""The domain's error hierarchy: every refusal a caller can meet, each with a stable code."""


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
        super().__init__(f"cannot {command} a job that is {state}{detail}")


class InvalidSchema(DomainError):
    """A Table Schema that Lading cannot use."""


class InvalidPlan(DomainError):
    """A mapping that is malformed (bad mode, operation or shape)."""


class UnknownField(DomainError):
    """A mapping that names a field the destination object does not have."""

    code = "VALIDATION.REQUEST_SCHEMA"


class SourceUnreadable(DomainError):
    """A source file that cannot be imported at all; the job fails with this message."""


class InvalidObjectName(DomainError):
    """An object name outside letters, digits, '_' and '-' (1 to 63 characters)."""


class ObjectExists(DomainError):
    """An object name already taken in the workspace by a different Table Schema."""

    code = "STATE.CONFLICT"


class InvalidScopes(DomainError):
    """API key scopes outside imports:read, imports:write and admin, or none at all."""
