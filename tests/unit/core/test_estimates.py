"""Polling hints: estimated completion and Retry-After for queued, running and terminal jobs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from joblane.core.estimates import MAX_POLL, MIN_POLL, estimated_completion, retry_after
from joblane.core.job import Job, Progress
from joblane.core.states import JobState

NOW = 1_767_225_600.0


def make_job(**changes: Any) -> Job:
    job = Job(
        id="job_01KDT2Y8000000000000000000",
        tenant_id="tenant-a",
        type="noop",
        state=JobState.QUEUED,
        version=1,
        input={},
        metadata={},
        priority=0,
        attempt=1,
        max_attempts=3,
        timeout=60.0,
        progress=Progress(),
        result=None,
        error=None,
        batch_id=None,
        idempotency_key=None,
        callback_url=None,
        created_at=NOW - 100,
        updated_at=NOW - 100,
        scheduled_at=NOW - 100,
    )
    return replace(job, **changes)


def running(started_ago: float, processed: int = 0, total: int | None = None) -> Job:
    return make_job(
        state=JobState.RUNNING,
        started_at=NOW - started_ago,
        progress=Progress(processed=processed, total=total),
        lease_token="t",
        lease_expires_at=NOW + 30,
    )


# -- estimated_completion -------------------------------------------------------------------
def test_eta_extrapolates_the_rate_so_far() -> None:
    # 25 of 100 in 10 s -> 75 more take 30 s
    assert estimated_completion(running(10, 25, 100), NOW) == pytest.approx(NOW + 30)


def test_eta_when_done_is_now() -> None:
    assert estimated_completion(running(10, 100, 100), NOW) == pytest.approx(NOW)


def test_eta_never_in_the_past_when_processed_exceeds_total() -> None:
    assert estimated_completion(running(10, 150, 100), NOW) == pytest.approx(NOW)


@pytest.mark.parametrize(
    "job",
    [
        running(10, 0, 100),  # nothing processed yet
        running(10, 5, None),  # total unknown
        running(10, 5, 0),  # total zero
        make_job(),  # queued
        make_job(state=JobState.COMPLETED, started_at=NOW - 10, progress=Progress(5, 10)),
        make_job(state=JobState.RUNNING, started_at=None, progress=Progress(5, 10)),
    ],
    ids=["no-progress", "no-total", "zero-total", "queued", "completed", "no-start"],
)
def test_no_eta(job: Job) -> None:
    assert estimated_completion(job, NOW) is None


def test_eta_with_clock_before_start_is_not_negative() -> None:
    job = running(-5, 10, 100)  # started "in the future" (clock skew)
    eta = estimated_completion(job, NOW)
    assert eta is not None
    assert eta >= NOW


# -- retry_after -----------------------------------------------------------------------------
@pytest.mark.parametrize("state", [JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED])
def test_terminal_jobs_need_no_more_polling(state: JobState) -> None:
    assert retry_after(make_job(state=state), NOW) is None


@pytest.mark.parametrize(
    ("scheduled_in", "expected"),
    [(-50.0, MIN_POLL), (0.0, MIN_POLL), (5.0, 5), (12.7, 12), (3600.0, MAX_POLL)],
)
def test_queued_waits_until_scheduled_within_bounds(scheduled_in: float, expected: int) -> None:
    job = make_job(scheduled_at=NOW + scheduled_in)
    assert retry_after(job, NOW) == expected


def test_running_without_eta_polls_fast_at_first_then_slower() -> None:
    assert retry_after(running(3), NOW) == MIN_POLL
    assert retry_after(running(9.9), NOW) == MIN_POLL
    assert retry_after(running(10), NOW) == 2
    assert retry_after(running(500), NOW) == 2


@pytest.mark.parametrize(
    ("processed", "expected"),
    [
        (25, 7),  # eta in 30 s -> a quarter of it
        (99, MIN_POLL),  # almost done
        (1, MAX_POLL),  # eta in 990 s -> capped
    ],
)
def test_running_with_eta_polls_a_quarter_of_the_remaining_time(
    processed: int, expected: int
) -> None:
    assert retry_after(running(10, processed, 100), NOW) == expected


def test_retry_after_is_always_an_int_within_bounds() -> None:
    jobs = [make_job(scheduled_at=NOW + s) for s in (-1.0, 0.3, 7.9, 29.99, 1e6)]
    jobs += [running(t, p, 100) for t in (0.5, 10, 100) for p in (0, 1, 50, 100)]
    for job in jobs:
        hint = retry_after(job, NOW)
        assert isinstance(hint, int)
        assert MIN_POLL <= hint <= MAX_POLL
