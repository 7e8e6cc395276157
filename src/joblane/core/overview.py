"""What the dashboard's overview shows, pure: counts by status and type, queue depth and the
oldest waiting job per type, throughput buckets (last hour, last day), workers.

Storage hands back flat rows (`StateCount`, `QueueStat`, `FinishCount`); `build_overview`
assembles them into the frozen `Overview` the UI renders. Statuses are the contract's names
(`JobState` values), always all five, in `STATUSES` order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from joblane.core.states import JobState

STATUSES: tuple[JobState, ...] = tuple(JobState)
HOUR_BUCKETS = 12  # x 5 minutes
HOUR_BUCKET_SECONDS = 300.0
DAY_BUCKETS = 24  # x 1 hour
DAY_BUCKET_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class StatusCounts:
    queued: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0

    def get(self, status: JobState | str) -> int:
        value: int = getattr(self, JobState(status).value)
        return value

    @property
    def total(self) -> int:
        return self.queued + self.running + self.completed + self.failed + self.cancelled

    def items(self) -> list[tuple[str, int]]:
        """(contract status, count) for every status, in `STATUSES` order."""
        return [(s.value, self.get(s)) for s in STATUSES]

    def plus(self, other: StatusCounts) -> StatusCounts:
        return StatusCounts(
            *(a + b for (_, a), (_, b) in zip(self.items(), other.items(), strict=True))
        )


@dataclass(frozen=True, slots=True)
class Bucket:
    """Jobs that finished in [start, start + seconds)."""

    start: float
    seconds: float
    completed: int = 0
    failed: int = 0

    @property
    def finished(self) -> int:
        return self.completed + self.failed

    @property
    def failure_rate(self) -> float | None:
        """Failed / (completed + failed), or None when nothing finished."""
        return self.failed / self.finished if self.finished else None


@dataclass(frozen=True, slots=True)
class Throughput:
    """Consecutive buckets, oldest first; the last one ends at the overview's `at`."""

    buckets: tuple[Bucket, ...]

    @property
    def completed(self) -> int:
        return sum(b.completed for b in self.buckets)

    @property
    def failed(self) -> int:
        return sum(b.failed for b in self.buckets)

    @property
    def failure_rate(self) -> float | None:
        finished = self.completed + self.failed
        return self.failed / finished if finished else None


@dataclass(frozen=True, slots=True)
class OldestWaiting:
    """The queued job that has been ready to run longest (`ready_at` = its `scheduled_at`)."""

    job_id: str
    created_at: float
    ready_at: float
    age: float  # seconds it has waited since ready, as of the overview's `at`


@dataclass(frozen=True, slots=True)
class TypeStats:
    type: str
    counts: StatusCounts
    queue_depth: int  # queued and ready to run now (scheduled_at <= at)
    oldest_waiting: OldestWaiting | None
    last_hour: Throughput
    last_day: Throughput


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    id: str
    hostname: str
    pid: int
    types: tuple[str, ...]
    concurrency: int
    started_at: float
    heartbeat_at: float
    running: tuple[str, ...]  # ids of the jobs it runs now


@dataclass(frozen=True, slots=True)
class Overview:
    at: float
    tenant_id: str | None  # None: every tenant (an admin's view)
    counts: StatusCounts
    queue_depth: int
    types: tuple[TypeStats, ...]  # by type name
    last_hour: Throughput
    last_day: Throughput
    workers: tuple[WorkerInfo, ...] | None  # None: not shown to this caller (admin only)


# -- what storage returns --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StateCount:
    type: str
    state: JobState
    count: int


@dataclass(frozen=True, slots=True)
class QueueStat:
    type: str
    depth: int
    oldest_id: str | None
    oldest_created_at: float | None
    oldest_ready_at: float | None


@dataclass(frozen=True, slots=True)
class FinishCount:
    """Jobs of `type` that finished in the bucket starting at `start` (a multiple of seconds)."""

    type: str
    start: float
    completed: int
    failed: int


@dataclass(frozen=True, slots=True)
class OverviewRows:
    states: Sequence[StateCount]
    queues: Sequence[QueueStat]
    finished: Sequence[FinishCount]  # per `FinishBuckets`


@dataclass(frozen=True, slots=True)
class FinishBuckets:
    """Which finish counts to read: from `since` on, in buckets of `coarse` seconds, except
    from `fine_since` on, in buckets of `fine` seconds (`fine` divides `coarse`; each bucket
    is aligned to its size). The last day hourly and its last hour by 5 minutes: ~35 rows per
    type instead of 288."""

    since: float
    coarse: float
    fine_since: float
    fine: float

    @classmethod
    def for_overview(cls, at: float) -> FinishBuckets:
        return cls(
            since=bucket_starts(at, DAY_BUCKETS, DAY_BUCKET_SECONDS)[0],
            coarse=DAY_BUCKET_SECONDS,
            fine_since=bucket_starts(at, HOUR_BUCKETS, HOUR_BUCKET_SECONDS)[0],
            fine=HOUR_BUCKET_SECONDS,
        )


def bucket_starts(at: float, count: int, seconds: float) -> list[float]:
    """Starts of `count` buckets aligned to `seconds`, the last one holding `at`, oldest first."""
    last = (at // seconds) * seconds
    return [last - seconds * (count - 1 - i) for i in range(count)]


def throughput(rows: Iterable[FinishCount], at: float, count: int, seconds: float) -> Throughput:
    """Fold finish counts into `count` buckets of `seconds` (rows of a size that divides it;
    a row that starts before the first bucket is not counted)."""
    starts = bucket_starts(at, count, seconds)
    first = starts[0]
    completed = [0] * count
    failed = [0] * count
    for row in rows:
        index = int((row.start - first) // seconds)
        if 0 <= index < count:
            completed[index] += row.completed
            failed[index] += row.failed
    return Throughput(
        tuple(Bucket(s, seconds, c, f) for s, c, f in zip(starts, completed, failed, strict=True))
    )


def build_overview(
    rows: OverviewRows,
    at: float,
    tenant_id: str | None,
    workers: Sequence[WorkerInfo] | None,
) -> Overview:
    """The overview from storage's rows (finish counts as `FinishBuckets.for_overview(at)`)."""
    states: dict[str, dict[str, int]] = defaultdict(dict)
    for r in rows.states:
        states[r.type][r.state.value] = states[r.type].get(r.state.value, 0) + r.count
    queues = {q.type: q for q in rows.queues}
    finished: dict[str, list[FinishCount]] = defaultdict(list)
    for f in rows.finished:
        finished[f.type].append(f)
    per_type = tuple(
        _type_stats(
            name, StatusCounts(**states.get(name, {})), queues.get(name), finished[name], at
        )
        for name in sorted(states.keys() | queues.keys() | finished.keys())
    )
    total = StatusCounts()
    for stats in per_type:
        total = total.plus(stats.counts)
    return Overview(
        at=at,
        tenant_id=tenant_id,
        counts=total,
        queue_depth=sum(t.queue_depth for t in per_type),
        types=per_type,
        last_hour=throughput(rows.finished, at, HOUR_BUCKETS, HOUR_BUCKET_SECONDS),
        last_day=throughput(rows.finished, at, DAY_BUCKETS, DAY_BUCKET_SECONDS),
        workers=None if workers is None else tuple(workers),
    )


def _type_stats(
    name: str,
    counts: StatusCounts,
    queue: QueueStat | None,
    finished: Sequence[FinishCount],
    at: float,
) -> TypeStats:
    return TypeStats(
        type=name,
        counts=counts,
        queue_depth=queue.depth if queue else 0,
        oldest_waiting=_oldest(queue, at),
        last_hour=throughput(finished, at, HOUR_BUCKETS, HOUR_BUCKET_SECONDS),
        last_day=throughput(finished, at, DAY_BUCKETS, DAY_BUCKET_SECONDS),
    )


def _oldest(queue: QueueStat | None, at: float) -> OldestWaiting | None:
    if queue is None or queue.oldest_id is None:
        return None
    created = queue.oldest_created_at if queue.oldest_created_at is not None else at
    ready = queue.oldest_ready_at if queue.oldest_ready_at is not None else created
    return OldestWaiting(queue.oldest_id, created, ready, max(0.0, at - ready))
