"""The Python client of the Joblane API: `Client` (blocking) and `AsyncClient` (asyncio).

    from joblane import Client

    with Client() as client:  # JOBLANE_URL, JOBLANE_API_KEY
        job = client.submit("sleep", {"seconds": 3})
        done = client.wait(job, timeout=60, on_progress=lambda j: print(j.progress.percentage))
        print(done.result)

Both share every decision (requests, answers, retries, waiting, event streams) through the
pure modules here; `sync_*` and `async_*` only do the I/O.
"""

from __future__ import annotations

from joblane.client.async_client import AsyncClient
from joblane.client.errors import (
    ApiError,
    BadRequest,
    ClientError,
    Conflict,
    Forbidden,
    Gone,
    IdempotencyKeyMismatch,
    JobCancelledError,
    JobFailed,
    JobNotCompleted,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
    Unavailable,
    ValidationError,
    WaitTimeout,
)
from joblane.client.models import (
    Batch,
    BatchProgress,
    BatchTiming,
    ErrorGroup,
    Event,
    Job,
    JobErrorInfo,
    Page,
    Progress,
    ResultLine,
)
from joblane.client.retry import RetryPolicy
from joblane.client.sync_client import Client

__all__ = [
    "ApiError",
    "AsyncClient",
    "BadRequest",
    "Batch",
    "BatchProgress",
    "BatchTiming",
    "Client",
    "ClientError",
    "Conflict",
    "ErrorGroup",
    "Event",
    "Forbidden",
    "Gone",
    "IdempotencyKeyMismatch",
    "Job",
    "JobCancelledError",
    "JobErrorInfo",
    "JobFailed",
    "JobNotCompleted",
    "NotFound",
    "Page",
    "PayloadTooLarge",
    "Progress",
    "RateLimited",
    "ResultLine",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "Unavailable",
    "ValidationError",
    "WaitTimeout",
]
