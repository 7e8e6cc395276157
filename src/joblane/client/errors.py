"""What the client raises.

Every error answered by the API becomes an `ApiError` subclass chosen by the contract's `code`
(then by HTTP status), carrying `code`, `detail`, `status` and `request_id`. Waiting raises
`JobFailed`, `JobCancelledError` (both `JobNotCompleted`) and `WaitTimeout`.

`JobCancelledError` is deliberately not named `JobCancelled`: `joblane.JobCancelled` is what a
*handler's* `ctx.check_cancelled()` raises inside a worker. Catching one where the other was
meant would silently do nothing, so the two names differ.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from joblane.client.models import Batch, Job, JobErrorInfo


class ClientError(Exception):
    """Base of everything the Joblane client raises."""


class TransportError(ClientError):
    """The server could not be reached, or the connection broke before an answer came."""


class ApiError(ClientError):
    """An error answered by the API (RFC 9457 problem+json with the contract's `code`)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        request_id: str | None = None,
        title: str | None = None,
        details: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.request_id = request_id
        self.title = title
        self.details = details or {}
        self.errors = errors or []
        self.retry_after = retry_after
        self.body = body or {}


class BadRequest(ApiError):
    """400: a malformed id (`INVALID_JOB_ID`, `INVALID_BATCH_ID`) or request."""


class Unauthorized(ApiError):
    """401: no credentials (`UNAUTHORIZED`) or an unknown/revoked/expired key."""


class Forbidden(ApiError):
    """403: the key lacks the scope, or the tenant may not use the job type."""


class NotFound(ApiError):
    """404: no such job or batch for this tenant."""


class Gone(ApiError):
    """410: the record existed but retention purged it (`JOB_EXPIRED`, `BATCH_EXPIRED`)."""


class Conflict(ApiError):
    """409: an illegal transition (cancel a finished job), or an idempotency key in flight."""


class PayloadTooLarge(ApiError):
    """413: the body is over a limit."""


class ValidationError(ApiError):
    """422: the body or query failed validation; `errors` lists each field."""


class IdempotencyKeyMismatch(ValidationError):
    """422: the same Idempotency-Key was used with a different body."""


class RateLimited(ApiError):
    """429: over the key's rate (`retry_after` seconds until the next request may pass)."""


class ServerError(ApiError):
    """5xx other than 503."""


class Unavailable(ServerError):
    """503: storage unreachable or overloaded (`retry_after`)."""


BY_CODE: dict[str, type[ApiError]] = {
    "IDEMPOTENCY_KEY_MISMATCH": IdempotencyKeyMismatch,
    "VALIDATION_ERROR": ValidationError,
    "RATE_LIMITED": RateLimited,
    "UNAVAILABLE": Unavailable,
}
BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    413: PayloadTooLarge,
    422: ValidationError,
    429: RateLimited,
    503: Unavailable,
}


def error_class(status: int, code: str) -> type[ApiError]:
    if code in BY_CODE:
        return BY_CODE[code]
    if status in BY_STATUS:
        return BY_STATUS[status]
    return ServerError if status >= 500 else ApiError


class JobNotCompleted(ClientError):
    """The job being waited for ended without completing; `job` is its final state."""

    def __init__(self, message: str, job: Job) -> None:
        super().__init__(message)
        self.job = job


class JobFailed(JobNotCompleted):
    """The job failed; `error` is its structured error (code, message, details, retryable)."""

    @property
    def error(self) -> JobErrorInfo | None:
        return self.job.error


class JobCancelledError(JobNotCompleted):
    """The job was cancelled (`job.cancel_reason` says why, when one was given)."""


class WaitTimeout(ClientError, TimeoutError):
    """The job (or batch) was not finished within the wait's timeout; `last` is what was seen
    last (None if nothing could be read)."""

    def __init__(self, message: str, last: Job | Batch | None) -> None:
        super().__init__(message)
        self.last = last
