"""Frozen parameter and result types of the storage operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from joblane.core.batch import Batch
from joblane.core.job import Job, JobErrorInfo, Lease, Progress
from joblane.core.states import JobState


@dataclass(frozen=True, slots=True)
class JobFilter:
    tenant_id: str | None
    states: tuple[JobState, ...] = ()
    types: tuple[str, ...] = ()
    batch_id: str | None = None
    created_after: float | None = None
    created_before: float | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    before_id: str | None = None
    after_id: str | None = None
    oldest_first: bool = False  # item order for a batch's jobs; newest first otherwise
    limit: int = 50


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a worker (or the rescuer) ends a running attempt. Applied only if `lease` still holds."""

    lease: Lease
    state: JobState
    result: Any = None
    error: JobErrorInfo | None = None
    retry_delay: float = 0.0
    rescue: bool = False  # only apply if the lease has expired (the rescuer's guard)
    release: bool = False  # back to queued without using up an attempt (worker shutdown)
    progress: Progress | None = None  # the last progress reported, written with the outcome


@dataclass(frozen=True, slots=True)
class ProgressUpdate:
    lease: Lease
    progress: Progress


@dataclass(frozen=True, slots=True)
class HeartbeatResult:
    lost: frozenset[str]
    cancel_requested: frozenset[str]


@dataclass(frozen=True, slots=True)
class Change:
    """Result of a user-initiated change: the job as it is now and whether this call changed it."""

    job: Job | None
    changed: bool


@dataclass(frozen=True, slots=True)
class IdempotentInsert:
    job: Job | None
    created: bool
    mismatch: bool = False


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    tenant_id: str
    name: str
    prefix: str
    key_hash: str
    scopes: tuple[str, ...]
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    hash_version: int = 2  # 1: SHA-256 (keys made before migration 0003); 2: HMAC-SHA256
    replaced_by: str | None = None  # the key that rotated this one out


@dataclass(frozen=True, slots=True)
class WorkerRecord:
    id: str
    hostname: str
    pid: int
    types: tuple[str, ...]
    concurrency: int
    started_at: float
    heartbeat_at: float
    running: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class BatchFilter:
    tenant_id: str | None
    before_id: str | None = None  # newest first: the page after this id
    limit: int = 50


@dataclass(frozen=True, slots=True)
class BatchChange:
    """Result of a user action on a batch: the batch now, whether this call changed it, and how
    many items it moved (cancelled, cancel-requested or re-queued)."""

    batch: Batch | None
    changed: bool
    items: int = 0


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One line of a batch's results stream."""

    id: str
    state: JobState
    result: Any
    error: dict[str, Any] | None
