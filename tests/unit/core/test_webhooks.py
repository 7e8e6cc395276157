"""Webhook rules: the retry schedule, what an answer means, event filters, secret rotation."""

from __future__ import annotations

import random

import pytest

from joblane.core.webhooks import (
    DEFAULT_SCHEDULE,
    EVENT_TYPES,
    RetrySchedule,
    SigningSecret,
    Verdict,
    check_events,
    subscribed,
    verdict,
)

DAY = 86400.0


def test_the_default_schedule_retries_for_more_than_a_day() -> None:
    schedule = RetrySchedule()

    assert schedule.delays == DEFAULT_SCHEDULE
    assert schedule.attempts == 8
    assert schedule.span >= DAY
    assert list(schedule.delays) == sorted(schedule.delays)  # backs off, never speeds up


def test_jitter_only_stretches_a_delay() -> None:
    schedule = RetrySchedule((10.0, 20.0), jitter=0.1)
    rng = random.Random(7)

    delays = [schedule.next_delay(1, rng) for _ in range(200)]

    assert all(d is not None and 10.0 <= d <= 11.0 for d in delays)
    assert len({round(d or 0, 6) for d in delays}) > 100  # really random
    assert schedule.next_delay(2, rng) == pytest.approx(21.0, abs=1.0)
    assert schedule.next_delay(3, rng) is None  # spent: the delivery fails
    assert schedule.next_delay(0, rng) is None


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(status: int) -> None:
    assert verdict(status, 1, RetrySchedule()) is Verdict.DELIVERED


@pytest.mark.parametrize("status", [None, 301, 400, 404, 429, 500, 503])
def test_anything_else_is_retried_until_the_schedule_is_spent(status: int | None) -> None:
    schedule = RetrySchedule((1.0, 2.0))

    assert verdict(status, 1, schedule) is Verdict.RETRY
    assert verdict(status, 2, schedule) is Verdict.RETRY
    assert verdict(status, 3, schedule) is Verdict.FAILED


def test_410_gone_is_final_at_once() -> None:
    assert verdict(410, 1, RetrySchedule()) is Verdict.GONE


def test_event_filters() -> None:
    assert check_events(["*"]) is None
    assert check_events(list(EVENT_TYPES)) is None
    assert check_events([]) is not None
    problem = check_events(["job.completed", "job.exploded"])
    assert problem is not None and "job.exploded" in problem
    assert subscribed(("*",), "batch.failed")
    assert subscribed(("job.failed",), "job.failed")
    assert not subscribed(("job.failed",), "job.completed")


def test_a_rotated_secret_signs_beside_the_new_one_only_during_its_grace() -> None:
    signing = SigningSecret("whsec_new", "whsec_old", previous_expires_at=100.0)

    assert signing.active(99.0) == ("whsec_new", "whsec_old")
    assert signing.active(100.0) == ("whsec_new",)
    assert SigningSecret("whsec_only").active(0.0) == ("whsec_only",)
