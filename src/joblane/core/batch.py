"""Batch value objects and the pure rules that turn stored counts into a batch's status.

A batch stores only what a user controls (`BatchControl`: active, paused, cancelled); its
status is derived from that and from the item counts, which storage keeps up to date on every
item transition. So a batch can never disagree with its items.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BatchControl(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"


class BatchStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


BATCH_TERMINAL = frozenset({BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class BatchCounts:
    """Items per job state. `queued` is the contract's `pending`, `running` its `processing`."""

    queued: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.queued + self.running + self.completed + self.failed + self.cancelled

    @property
    def finished(self) -> int:
        return self.completed + self.failed + self.cancelled

    @property
    def unfinished(self) -> int:
        return self.queued + self.running

    @property
    def percentage(self) -> float:
        total = self.total
        return 100.0 if total == 0 else round(100.0 * self.finished / total, 2)


@dataclass(frozen=True, slots=True)
class NewBatch:
    id: str
    tenant_id: str
    name: str | None = None
    max_concurrent: int | None = None
    priority: int = 0
    timeout: float | None = None  # seconds from creation; unfinished items are then cancelled
    callback_url: str | None = None
    notification_enabled: bool = False


@dataclass(frozen=True, slots=True)
class Batch:
    id: str
    tenant_id: str
    name: str | None
    control: BatchControl
    version: int  # bumped by every control change and every item transition
    counts: BatchCounts
    max_concurrent: int | None
    priority: int
    timeout: float | None
    callback_url: str | None
    notification_enabled: bool
    created_at: float
    updated_at: float
    started_at: float | None  # first item claimed
    last_finished_at: float | None  # latest item to reach a terminal state
    item_seconds: float  # summed run time (finish - start) of finished items that ran
    timed_items: int  # how many items `item_seconds` sums over
    control_reason: str | None = None  # why it was cancelled (by a user, or its timeout)

    @property
    def status(self) -> BatchStatus:
        return batch_status(self.control, self.counts, self.started_at)

    @property
    def terminal(self) -> bool:
        return self.status in BATCH_TERMINAL

    @property
    def deadline(self) -> float | None:
        return None if self.timeout is None else self.created_at + self.timeout

    @property
    def completed_at(self) -> float | None:
        return self.last_finished_at if self.counts.unfinished == 0 else None

    @property
    def average_item_time(self) -> float | None:
        return round(self.item_seconds / self.timed_items, 3) if self.timed_items else None


def batch_status(
    control: BatchControl, counts: BatchCounts, started_at: float | None
) -> BatchStatus:
    if control is BatchControl.CANCELLED and counts.running == 0:
        return BatchStatus.CANCELLED
    if control is BatchControl.CANCELLED:  # like a job: running until its items have stopped
        return BatchStatus.RUNNING
    if counts.unfinished == 0:
        if counts.total > 0 and counts.failed == counts.total:
            return BatchStatus.FAILED
        return BatchStatus.COMPLETED
    if control is BatchControl.PAUSED:
        return BatchStatus.PAUSED
    return BatchStatus.QUEUED if started_at is None else BatchStatus.RUNNING


# control changes a user may ask for, and the controls each may start from
CONTROL_SOURCES: dict[BatchControl, frozenset[BatchControl]] = {
    BatchControl.PAUSED: frozenset({BatchControl.ACTIVE}),
    BatchControl.ACTIVE: frozenset({BatchControl.PAUSED}),
    BatchControl.CANCELLED: frozenset({BatchControl.ACTIVE, BatchControl.PAUSED}),
}


def estimated_completion(batch: Batch, now: float) -> float | None:
    """From the rate at which items have finished since the first one started."""
    counts = batch.counts
    if batch.terminal or batch.started_at is None or counts.finished == 0:
        return None
    if batch.status is BatchStatus.PAUSED:
        return None
    elapsed = max(1e-3, now - batch.started_at)
    rate = counts.finished / elapsed
    return now + counts.unfinished / rate


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    """Failed items of one batch sharing an error code."""

    code: str
    count: int
    sample_job_ids: tuple[str, ...]  # a few of them, oldest first
    resolution: str | None = None  # from the first failed item's error, if it said one
