"""Retry decisions: full jitter, `Retry-After`, which requests may be sent again."""

from __future__ import annotations

import random
from email.utils import formatdate

import httpx
import pytest

from joblane.client.retry import Retrier, RetryPolicy, full_jitter, parse_retry_after


def test_full_jitter_draws_uniformly_below_the_capped_exponential() -> None:
    rng = random.Random(7)
    for attempt, bound in [(0, 0.5), (1, 1.0), (3, 4.0), (6, 30.0), (40, 30.0), (10_000, 30.0)]:
        draws = [full_jitter(attempt, 0.5, 30.0, rng) for _ in range(4000)]
        assert all(0.0 <= d <= bound for d in draws)
        mean = sum(draws) / len(draws)
        assert bound * 0.45 < mean < bound * 0.55, (attempt, mean)  # uniform: mean = bound / 2
        assert max(draws) > bound * 0.98 and min(draws) < bound * 0.02  # the whole range


def test_full_jitter_is_the_formula_for_a_given_random_source() -> None:
    a, b = random.Random(3), random.Random(3)
    for attempt in range(8):
        assert full_jitter(attempt, 0.25, 5.0, a) == b.uniform(0, min(5.0, 0.25 * 2**attempt))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("1", 1.0),
        ("0", 0.0),
        ("2.5", 2.5),
        (" 7 ", 7.0),
        ("soon", None),
        ("-3", None),
        (None, None),
    ],
)
def test_retry_after_in_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_retry_after_as_an_http_date() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now) == pytest.approx(30.0)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now) == 0.0  # past: at once


def retrier(idempotent: bool = False, replayable: bool = True, **policy: float) -> Retrier:
    return Retrier(
        RetryPolicy(**policy),  # type: ignore[arg-type]
        random.Random(1),
        idempotent=idempotent,
        replayable=replayable,
    )


def test_429_is_retried_for_any_request_with_its_retry_after() -> None:
    r = retrier(idempotent=False, max_attempts=3)
    assert r.after_status(429, 1.0) == 1.0
    assert r.after_status(429, 2.0) == 2.0
    assert r.after_status(429, 1.0) is None  # three tries made


def test_503_and_broken_connections_only_for_requests_safe_to_repeat() -> None:
    assert retrier(idempotent=False).after_status(503, 1.0) is None
    assert retrier(idempotent=True).after_status(503, 1.0) == 1.0
    broken = httpx.ReadError("connection reset")
    assert retrier(idempotent=False).after_transport_error(broken) is None
    assert retrier(idempotent=True).after_transport_error(broken) is not None
    refused = httpx.ConnectError("refused")  # nothing was sent: any request may go again
    assert retrier(idempotent=False).after_transport_error(refused) is not None


def test_a_body_that_cannot_be_sent_twice_is_never_retried() -> None:
    r = retrier(idempotent=True, replayable=False)
    assert r.after_status(429, 1.0) is None
    assert r.after_transport_error(httpx.ConnectError("refused")) is None


def test_other_statuses_are_answers_not_retries() -> None:
    for status in (200, 400, 404, 409, 422, 500, 502):
        assert retrier(idempotent=True).after_status(status, 1.0) is None


def test_without_retry_after_the_backoff_is_full_jitter() -> None:
    r = retrier(idempotent=True, max_attempts=6, backoff_base=0.5, backoff_cap=2.0)
    rng = random.Random(1)
    expected = [rng.uniform(0, min(2.0, 0.5 * 2**n)) for n in range(5)]
    assert [r.after_status(503, None) for _ in range(5)] == expected
    assert r.after_status(503, None) is None


def test_the_total_wait_is_bounded() -> None:
    r = retrier(idempotent=True, max_attempts=100, max_wait=10.0)
    assert r.after_status(429, 6.0) == 6.0
    assert r.after_status(429, 6.0) is None  # 12 s > 10 s: give up with the 429
