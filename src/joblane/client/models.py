"""Typed views of the wire: jobs, batches, pages, problems, events, result lines.

Every model accepts (and keeps) fields it does not know, and every field but `id` has a
default, so a newer server (new fields, new states) or a `fields=` selection never breaks an
older client. Statuses are plain strings for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

JOB_TERMINAL = frozenset({"completed", "failed", "cancelled"})
BATCH_TERMINAL = frozenset({"completed", "failed", "cancelled"})


class Wire(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Progress(Wire):
    percentage: float | None = None
    total: int | None = None
    processed: int = 0
    failed: int = 0
    message: str | None = None


class JobErrorInfo(Wire):
    """A failed job's (or attempt's) error, as the handler raised it."""

    code: str
    message: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    retryable: bool = False
    resolution: str | None = None


class Job(Wire):
    id: str
    object: str = "job"
    type: str = ""
    status: str = ""
    version: int = 0
    progress: Progress = Field(default_factory=Progress)
    input: dict[str, Any] | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    result: Any = None
    error: JobErrorInfo | None = None
    attempt: int = 0
    max_attempts: int = 0
    priority: int = 0
    timeout: float | None = None
    batch_id: str | None = None
    idempotency_key: str | None = None
    callback_url: str | None = None
    cancel_requested: bool = False
    cancel_reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    failed_at: datetime | None = None
    cancelled_at: datetime | None = None
    estimated_completion: datetime | None = None
    retry_after: float | None = None
    queue_position: int | None = None
    waiting_reason: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in JOB_TERMINAL


class BatchProgress(Wire):
    percentage: float = 0.0
    completed: int = 0
    failed: int = 0
    pending: int = 0
    processing: int = 0
    cancelled: int = 0
    total: int = 0

    @property
    def finished(self) -> int:
        return self.completed + self.failed + self.cancelled


class BatchTiming(Wire):
    created_at: datetime | None = None
    started_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    estimated_completion: datetime | None = None
    deadline: datetime | None = None
    elapsed_time: float = 0.0
    average_item_time: float | None = None


class ErrorGroup(Wire):
    error_type: str
    count: int = 0
    affected_jobs: list[str] = Field(default_factory=list)
    affected_jobs_total: int = 0
    resolution: str | None = None


class Batch(Wire):
    id: str
    object: str = "batch"
    name: str | None = None
    status: str = ""
    status_reason: str | None = None
    cancel_requested: bool = False
    version: int = 0
    progress: BatchProgress = Field(default_factory=BatchProgress)
    timing: BatchTiming = Field(default_factory=BatchTiming)
    job_details: list[dict[str, Any]] | None = None
    job_details_next_cursor: str | None = None
    error_summary: list[ErrorGroup] | None = None
    batch_configuration: dict[str, Any] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.status in BATCH_TERMINAL


T = TypeVar("T")


class Page(Wire, Generic[T]):
    """One page of a list; pass `next_cursor` as `cursor` for the next (None: the last)."""

    object: str = "list"
    data: list[T] = Field(default_factory=list)
    next_cursor: str | None = None


class ResultLine(Wire):
    """One line of a batch's results stream."""

    id: str
    status: str = ""
    result: Any = None
    error: JobErrorInfo | dict[str, Any] | None = None


class Problem(Wire):
    type: str = "about:blank"
    title: str = ""
    status: int = 0
    detail: str = ""
    code: str = "INTERNAL_ERROR"
    request_id: str | None = None
    details: dict[str, Any] | None = None
    errors: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class Event(Generic[T]):
    """One Server-Sent Event: `id` is the version, `event` its name (`status`, `progress`,
    `completed`, `failed`, `cancelled`…), `data` the job or batch at that version."""

    id: int | None
    event: str
    data: T
