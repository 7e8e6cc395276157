"""Retry policy: exponential backoff, its cap, jitter bounds and the retry decision."""

from __future__ import annotations

import random

import pytest

from joblane.core.retry import GiveUp, Retry, RetryPolicy


def test_backoff_doubles_per_attempt_without_jitter() -> None:
    policy = RetryPolicy(base=1.0, cap=1000.0, jitter=False)
    assert [policy.backoff(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]


def test_backoff_scales_with_base() -> None:
    policy = RetryPolicy(base=0.5, cap=1000.0, jitter=False)
    assert [policy.backoff(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(base=1.0, cap=10.0, jitter=False)
    assert policy.backoff(4) == 8.0
    assert policy.backoff(5) == 10.0
    assert policy.backoff(60) == 10.0


def test_backoff_of_attempt_zero_or_less_is_base() -> None:
    policy = RetryPolicy(base=2.0, cap=100.0, jitter=False)
    assert policy.backoff(0) == 2.0
    assert policy.backoff(-3) == 2.0


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 9, 20])
def test_jitter_stays_between_a_tenth_of_the_ceiling_and_the_ceiling(attempt: int) -> None:
    policy = RetryPolicy(base=1.0, cap=60.0, jitter=True)
    ceiling = RetryPolicy(base=1.0, cap=60.0, jitter=False).backoff(attempt)
    rng = random.Random(1234 + attempt)
    draws = [policy.backoff(attempt, rng) for _ in range(500)]
    assert all(0.1 * ceiling <= d <= ceiling for d in draws)
    assert all(d <= policy.cap for d in draws)
    # jitter actually spreads the delays (not a constant)
    assert max(draws) - min(draws) > 0.5 * ceiling


def test_jitter_is_deterministic_for_a_seeded_rng() -> None:
    policy = RetryPolicy(base=1.0, cap=60.0)
    first = [policy.backoff(3, random.Random(7)) for _ in range(3)]
    again = [policy.backoff(3, random.Random(7)) for _ in range(3)]
    assert first == again
    assert len(set(first)) == 1


def test_jittered_backoff_still_grows_on_average() -> None:
    policy = RetryPolicy(base=1.0, cap=1000.0)
    rng = random.Random(42)
    means = [sum(policy.backoff(n, rng) for _ in range(400)) / 400 for n in (1, 2, 3, 4)]
    assert means == sorted(means)
    assert means[3] > 2.5 * means[1]


def test_non_retryable_error_gives_up_even_with_attempts_left() -> None:
    decision = RetryPolicy().decide(attempt=1, max_attempts=5, retryable=False)
    assert isinstance(decision, GiveUp)
    assert "not retryable" in decision.reason


@pytest.mark.parametrize(("attempt", "max_attempts"), [(3, 3), (4, 3), (1, 1)])
def test_exhausted_attempts_give_up(attempt: int, max_attempts: int) -> None:
    decision = RetryPolicy().decide(attempt, max_attempts, retryable=True)
    assert isinstance(decision, GiveUp)
    assert "exhausted" in decision.reason
    assert f"attempt {attempt} of {max_attempts}" in decision.reason


@pytest.mark.parametrize("attempt", [1, 2, 4])
def test_retry_when_attempts_remain_uses_backoff(attempt: int) -> None:
    policy = RetryPolicy(base=1.5, cap=100.0, jitter=False)
    decision = policy.decide(attempt, max_attempts=5, retryable=True)
    assert decision == Retry(delay=1.5 * 2 ** (attempt - 1))


def test_retry_delay_with_jitter_uses_the_given_rng() -> None:
    policy = RetryPolicy(base=1.0, cap=100.0)
    decision = policy.decide(3, 5, retryable=True, rng=random.Random(99))
    assert isinstance(decision, Retry)
    assert decision.delay == policy.backoff(3, random.Random(99))
    assert 0.4 <= decision.delay <= 4.0
