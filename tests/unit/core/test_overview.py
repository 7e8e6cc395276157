"""core/overview.py: buckets aligned to their size and folded from finer rows, status counts in
contract order, the oldest waiting job's age."""

from __future__ import annotations

from joblane.core.overview import (
    FinishBuckets,
    FinishCount,
    OverviewRows,
    QueueStat,
    StateCount,
    StatusCounts,
    bucket_starts,
    build_overview,
    throughput,
)
from joblane.core.states import JobState

AT = 10 * 86400 + 3 * 3600 + 7 * 60 + 5.0  # 03:07:05 on day 10


def test_buckets_are_aligned_and_the_last_holds_now() -> None:
    starts = bucket_starts(AT, 12, 300.0)
    assert len(starts) == 12 and all(s % 300 == 0 for s in starts)
    assert starts[-1] <= AT < starts[-1] + 300
    assert starts[1] - starts[0] == 300
    buckets = FinishBuckets.for_overview(AT)
    assert buckets.since == bucket_starts(AT, 24, 3600.0)[0] == AT - 7 * 60 - 5 - 23 * 3600
    assert buckets.fine_since == starts[0] == AT - 5 - 2 * 60 - 55 * 60  # 02:10
    assert (buckets.coarse, buckets.fine) == (3600.0, 300.0)


def test_five_minute_rows_fold_into_hours_and_old_rows_drop_out() -> None:
    hour = (AT // 3600) * 3600
    rows = [
        FinishCount("a", hour, 2, 1),
        FinishCount("a", hour + 300, 3, 0),
        FinishCount("b", hour - 3600, 0, 4),
        FinishCount("a", hour - 24 * 3600, 9, 9),  # before the day's window
    ]
    day = throughput(rows, AT, 24, 3600.0)
    assert (day.buckets[-1].completed, day.buckets[-1].failed) == (5, 1)
    assert (day.buckets[-2].completed, day.buckets[-2].failed) == (0, 4)
    assert (day.completed, day.failed) == (5, 5)
    assert day.failure_rate == 0.5
    last_hour = throughput(rows, AT, 12, 300.0)
    assert [b.finished for b in last_hour.buckets[-2:]] == [3, 3]
    assert last_hour.failed == 1  # b's hourly row starts before the hour's first bucket
    assert last_hour.buckets[0].failure_rate is None


def test_status_counts_in_contract_order() -> None:
    counts = StatusCounts(queued=1, failed=2)
    assert counts.items() == [
        ("queued", 1),
        ("running", 0),
        ("completed", 0),
        ("failed", 2),
        ("cancelled", 0),
    ]
    assert counts.get(JobState.FAILED) == counts.get("failed") == 2
    assert counts.plus(StatusCounts(failed=1, cancelled=3)).total == 7


def test_overview_from_rows() -> None:
    rows = OverviewRows(
        states=[
            StateCount("a", JobState.QUEUED, 4),
            StateCount("b", JobState.COMPLETED, 2),
        ],
        queues=[QueueStat("a", 3, "job_1", AT - 100, AT - 40)],
        finished=[FinishCount("b", (AT // 300) * 300, 2, 0)],
    )
    view = build_overview(rows, AT, "tenant-a", None)
    assert view.counts == StatusCounts(queued=4, completed=2)
    assert view.queue_depth == 3
    a, b = view.types
    assert a.oldest_waiting is not None and a.oldest_waiting.age == 40
    assert b.oldest_waiting is None and b.last_hour.completed == 2
    assert view.last_day.completed == 2 and view.workers is None
