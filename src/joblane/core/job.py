"""Job value objects. Frozen: a change is a new version written by storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from joblane.core.states import JobState, is_terminal

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Progress:
    processed: int = 0
    total: int | None = None
    failed: int = 0
    message: str | None = None

    @property
    def percentage(self) -> float | None:
        if not self.total:
            return None
        return round(min(100.0, 100.0 * self.processed / self.total), 2)


@dataclass(frozen=True, slots=True)
class JobErrorInfo:
    """The error of a failed attempt, as clients see it."""

    code: str
    message: str
    details: JSON = field(default_factory=dict)
    retryable: bool = False
    resolution: str | None = None

    def to_dict(self) -> JSON:
        data: JSON = {
            "code": self.code,
            "message": self.message,
            "details": self.details,
            "retryable": self.retryable,
        }
        if self.resolution:
            data["resolution"] = self.resolution
        return data

    @classmethod
    def from_dict(cls, data: JSON) -> JobErrorInfo:
        return cls(
            code=str(data["code"]),
            message=str(data.get("message", "")),
            details=dict(data.get("details") or {}),
            retryable=bool(data.get("retryable", False)),
            resolution=data.get("resolution"),
        )


@dataclass(slots=True)
class NewJob:
    """Everything needed to insert a job; ids and times are filled in by the caller/storage.

    Not frozen: a batch builds a million of these, and a frozen dataclass's `__init__` (one
    `object.__setattr__` per field) takes three times as long. Nothing changes one once made.
    """

    id: str
    tenant_id: str
    type: str
    input: JSON
    metadata: dict[str, str] = field(default_factory=dict)
    priority: int = 0
    max_attempts: int = 3
    timeout: float = 600.0
    run_at: float | None = None
    callback_url: str | None = None
    batch_id: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    tenant_id: str
    type: str
    state: JobState
    version: int
    input: JSON
    metadata: dict[str, str]
    priority: int
    attempt: int
    max_attempts: int
    timeout: float
    progress: Progress
    result: Any
    error: JobErrorInfo | None
    batch_id: str | None
    idempotency_key: str | None
    callback_url: str | None
    created_at: float
    updated_at: float
    scheduled_at: float
    started_at: float | None = None
    completed_at: float | None = None
    failed_at: float | None = None
    cancelled_at: float | None = None
    cancel_requested: bool = False
    cancel_reason: str | None = None
    lease_token: str | None = None
    lease_expires_at: float | None = None
    worker_id: str | None = None

    @property
    def terminal(self) -> bool:
        return is_terminal(self.state)

    @property
    def stamp(self) -> JobStamp:
        return JobStamp(self.id, self.state, self.version, self.attempt)


@dataclass(frozen=True, slots=True)
class JobStamp:
    """What a write did to a job: enough to wake waiters and to log, without the whole job."""

    id: str
    state: JobState
    version: int
    attempt: int


@dataclass(frozen=True, slots=True)
class Lease:
    """Proof that a worker holds a running job: every worker write carries it."""

    job_id: str
    token: str
