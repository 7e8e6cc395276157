"""One exception hierarchy for the domain. The API maps each class to a contract code."""

from __future__ import annotations

from typing import Any


class JoblaneError(Exception):
    """Base of every error Joblane raises on purpose."""

    code = "INTERNAL_ERROR"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(JoblaneError):
    code = "JOB_NOT_FOUND"


class InvalidId(JoblaneError):
    code = "INVALID_JOB_ID"


class BatchNotFound(NotFound):
    code = "BATCH_NOT_FOUND"


class JobExpired(JoblaneError):
    """The job existed, but retention purged its record at `purged_at` (epoch seconds)."""

    code = "JOB_EXPIRED"

    def __init__(
        self, message: str, *, purged_at: float, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.purged_at = purged_at


class BatchExpired(JobExpired):
    code = "BATCH_EXPIRED"


class InvalidBatchId(InvalidId):
    code = "INVALID_BATCH_ID"


class KeyNotFound(NotFound):
    code = "KEY_NOT_FOUND"


class InvalidKeyId(InvalidId):
    code = "INVALID_KEY_ID"


class TenantNotFound(NotFound):
    code = "TENANT_NOT_FOUND"


class WebhookNotFound(NotFound):
    code = "WEBHOOK_NOT_FOUND"


class InvalidWebhookId(InvalidId):
    code = "INVALID_WEBHOOK_ID"


class WebhookEventNotFound(NotFound):
    code = "EVENT_NOT_FOUND"


class InvalidEventId(InvalidId):
    code = "INVALID_EVENT_ID"


class ValidationFailed(JoblaneError):
    code = "VALIDATION_ERROR"

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


class Conflict(JoblaneError):
    code = "CONFLICT"


class IdempotencyMismatch(JoblaneError):
    code = "IDEMPOTENCY_KEY_MISMATCH"


class Unauthorized(JoblaneError):
    code = "UNAUTHORIZED"


class InvalidApiKey(JoblaneError):
    code = "INVALID_API_KEY"


class Forbidden(JoblaneError):
    code = "FORBIDDEN"


class NotImplementedType(JoblaneError):
    code = "NOT_IMPLEMENTED"


class Unavailable(JoblaneError):
    code = "UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(JoblaneError):
    """Over the API key's rate; `retry_after` whole seconds until the next request may pass."""

    code = "RATE_LIMITED"

    def __init__(
        self, message: str, *, retry_after: int, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class StaleLease(JoblaneError):
    """A worker wrote with a lease it no longer holds (job rescued, cancelled or finished)."""

    code = "CONFLICT"


class JobError(Exception):
    """Raised by a handler to fail its attempt with a structured, client-visible error."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        retryable: bool = False,
        resolution: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.retryable = retryable
        self.resolution = resolution


class JobCancelled(Exception):
    """Raised by `ctx.check_cancelled()` once the job's cancellation was requested."""


# -- artifacts ---------------------------------------------------------------------------------
class ArtifactNotFound(NotFound):
    """No such file of this job (or its file is gone from the store)."""

    code = "ARTIFACT_NOT_FOUND"


class InvalidArtifactName(JoblaneError):
    code = "INVALID_ARTIFACT_NAME"


class ArtifactLinkInvalid(JoblaneError):
    """A signed artifact link whose signature does not match (tampered with, or made up)."""

    code = "ARTIFACT_LINK_INVALID"


class ArtifactLinkExpired(JoblaneError):
    code = "ARTIFACT_LINK_EXPIRED"
