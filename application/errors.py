"""Refusals the application adds to the domain's: missing things and exceeded limits."""

from lading.domain.errors import DomainError


class NotFound(DomainError):
    code = "NOT_FOUND"


class JobNotFound(NotFound):
    def __init__(self, job_id: object) -> None:
        super().__init__(f"import job {job_id} not found")


class ObjectNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"object '{name}' not found")


class AudienceNotFound(NotFound):
    def __init__(self, audience_id: object) -> None:
        super().__init__(f"audience {audience_id} not found")


class ListNotFound(NotFound):
    def __init__(self, list_id: object) -> None:
        super().__init__(f"list {list_id} not found")


class FilesPurged(NotFound):
    """The job's blobs were removed by `lading purge`; its status and history remain (ADR 0084)."""

    def __init__(self, job_id: object, purged_at: str | None) -> None:
        super().__init__(f"the files of import job {job_id} were purged at {purged_at};"
                         " its status and events are kept")
        self.details = {"jobId": str(job_id), "purgedAt": purged_at}


class LimitExceeded(DomainError):
    code = "LIMIT.CONCURRENCY"


class ScopeBusy(LimitExceeded):
    """A job with the same concurrency scope is not terminal yet: one import at a time."""

    def __init__(self, scope: str, job_id: str) -> None:
        super().__init__(f"an import of the same scope ('{scope}') is still running: job {job_id}")
        self.details = {"jobId": job_id, "concurrencyScope": scope}


class PayloadTooLarge(DomainError):
    """More data than a limit allows (inline rows, file size)."""

    code = "LIMIT.PAYLOAD_TOO_LARGE"


class IdempotencyConflict(DomainError):
    code = "IDEMPOTENCY.CONFLICT"

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key '{key}' was already used with a different request")


class RevertConflict(DomainError):
    """Rows the job changed were changed again by later jobs (SPEC §8): refused unless forced."""

    code = "REVERT.CONFLICT"

    def __init__(self, job_id: object, conflicts: list[dict[str, object]], count: int) -> None:
        super().__init__(f"{count} rows that import job {job_id} changed were changed by later"
                         " jobs since; revert with force to restore them anyway")
        self.details = {"conflicts": conflicts, "count": count}
