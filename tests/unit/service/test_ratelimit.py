"""GCRA per key with a fake clock: a burst at once, then the steady rate; exact waits; 304
refunds; reads and writes on separate budgets; idle keys forgotten; the response fields."""

from __future__ import annotations

import pytest

from joblane.core.clock import FakeClock
from joblane.core.tenant import TenantSettings
from joblane.service.ratelimit import (
    MemoryRateLimiter,
    RateDecision,
    RatePolicies,
    RatePolicy,
    rate_headers,
    refunded,
)

READ = RatePolicy("read", rate=10.0, burst=5)  # 5 at once, then one every 100 ms
WRITE = RatePolicy("write", rate=2.0, burst=2)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> MemoryRateLimiter:
    return MemoryRateLimiter(clock)


async def allowed_now(limiter: MemoryRateLimiter, key: str, policy: RatePolicy) -> int:
    """How many requests pass right now (stops at the first refusal)."""
    count = 0
    while (await limiter.acquire(key, policy)).allowed:
        count += 1
        assert count <= 10_000
    return count


async def test_a_fresh_key_gets_its_burst_then_is_refused(limiter: MemoryRateLimiter) -> None:
    decisions = [await limiter.acquire("key_a", READ) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    assert {d.limit for d in decisions} == {5}


async def test_after_the_burst_the_steady_rate_applies(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    start = clock.now()
    assert await allowed_now(limiter, "key_a", READ) == 5
    for n in range(1, 21):  # one every 100 ms, never two
        clock.set(start + n * 0.1)  # (not advance(): float sums drift by microseconds)
        assert await allowed_now(limiter, "key_a", READ) == 1
    clock.set(start + 2.05)
    assert await allowed_now(limiter, "key_a", READ) == 0


async def test_retry_after_is_exactly_the_wait_for_the_next_unit(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    start = clock.now()
    await allowed_now(limiter, "key_a", READ)
    clock.set(start + 0.03)
    refused = await limiter.acquire("key_a", READ)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(0.07, abs=1e-6)
    assert refused.reset_after == pytest.approx(0.47, abs=1e-6)  # full burst back then
    clock.set(start + 0.1 - 1e-5)
    assert not (await limiter.acquire("key_a", READ)).allowed
    clock.set(start + 0.1)
    assert (await limiter.acquire("key_a", READ)).allowed


async def test_refused_requests_do_not_consume(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    await allowed_now(limiter, "key_a", READ)
    for _ in range(100):  # hammering while refused does not push the wait out
        assert not (await limiter.acquire("key_a", READ)).allowed
    clock.advance(0.1)
    assert (await limiter.acquire("key_a", READ)).allowed


async def test_the_full_burst_returns_after_the_reset_time(
    limiter: MemoryRateLimiter, clock: FakeClock
) -> None:
    decisions = [await limiter.acquire("key_a", READ) for _ in range(5)]
    clock.advance(decisions[-1].reset_after)
    assert await allowed_now(limiter, "key_a", READ) == 5


async def test_a_refund_gives_one_unit_back(limiter: MemoryRateLimiter) -> None:
    for _ in range(5):
        await limiter.acquire("key_a", READ)
    await limiter.refund("key_a", READ)
    assert (await limiter.acquire("key_a", READ)).allowed
    assert not (await limiter.acquire("key_a", READ)).allowed


async def test_a_refund_never_adds_more_than_the_burst(limiter: MemoryRateLimiter) -> None:
    await limiter.acquire("key_a", READ)
    for _ in range(3):
        await limiter.refund("key_a", READ)
    await limiter.refund("key_never_seen", READ)
    assert await allowed_now(limiter, "key_a", READ) == 5
    assert await allowed_now(limiter, "key_never_seen", READ) == 5


def test_refunded_decision_shows_the_unit_back() -> None:
    decision = RateDecision(True, limit=5, remaining=2, reset_after=0.3, retry_after=0.0)
    back = refunded(READ, decision)
    assert back.remaining == 3
    assert back.reset_after == pytest.approx(0.2)
    full = refunded(READ, RateDecision(True, 5, 5, 0.0, 0.0))
    assert (full.remaining, full.reset_after) == (5, 0.0)


async def test_reads_and_writes_have_separate_budgets(limiter: MemoryRateLimiter) -> None:
    assert await allowed_now(limiter, "key_a", WRITE) == 2
    assert await allowed_now(limiter, "key_a", READ) == 5
    assert await allowed_now(limiter, "key_b", WRITE) == 2  # and keys are separate


async def test_idle_keys_are_forgotten(clock: FakeClock) -> None:
    limiter = MemoryRateLimiter(clock, sweep_seconds=10)
    for n in range(100):
        await limiter.acquire(f"key_{n}", READ)
    assert len(limiter) == 100
    clock.advance(11)  # every key's budget is full again: the next new key sweeps them
    await limiter.acquire("key_new", READ)
    assert len(limiter) == 1


async def test_memory_is_bounded_even_when_every_key_is_busy(clock: FakeClock) -> None:
    limiter = MemoryRateLimiter(clock, max_keys=50)
    for n in range(500):
        assert await allowed_now(limiter, f"key_{n}", WRITE) == 2
    assert len(limiter) <= 50
    assert not (await limiter.acquire("key_499", WRITE)).allowed  # the newest keep their state


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RatePolicy("read", rate=0, burst=5)
    with pytest.raises(ValueError):
        RatePolicy("read", rate=1, burst=0)


def test_headers_of_an_allowed_request() -> None:
    policy = RatePolicy("read", rate=50, burst=100)
    decision = RateDecision(True, 100, 97, reset_after=0.06, retry_after=0.0)
    assert rate_headers(policy, decision) == [
        ("RateLimit-Policy", '"read";q=100;w=2'),
        ("RateLimit", '"read";r=97;t=1'),
    ]


def test_headers_of_a_refused_request_carry_retry_after_rounded_up() -> None:
    policy = RatePolicy("write", rate=0.5, burst=3)  # one every 2 s: w = 6
    decision = RateDecision(False, 3, 0, reset_after=5.2, retry_after=1.2)
    assert rate_headers(policy, decision) == [
        ("RateLimit-Policy", '"write";q=3;w=6'),
        ("RateLimit", '"write";r=0;t=2'),
        ("Retry-After", "2"),
    ]


def test_window_is_a_whole_number_of_seconds_at_least_one() -> None:
    assert RatePolicy("read", rate=1000, burst=10).window == 1
    assert RatePolicy("read", rate=3, burst=10).window == 4  # 3.33 s, rounded up
    assert RatePolicy("write", rate=10, burst=20).window == 2


async def test_tenant_settings_override_the_server_defaults() -> None:
    tenants = {
        "slow": TenantSettings(write_rate=1.0),
        "bursty": TenantSettings(read_burst=500, write_rate=100.0, write_burst=300),
    }

    async def lookup(tenant_id: str) -> TenantSettings:
        return tenants.get(tenant_id, TenantSettings())

    policies = RatePolicies(READ, WRITE, lookup)
    assert await policies.policy("other", "read") is READ
    assert await policies.policy("other", "write") is WRITE
    assert await policies.policy("slow", "write") == RatePolicy("write", 1.0, 2)
    assert await policies.policy("slow", "read") is READ
    assert await policies.policy("bursty", "read") == RatePolicy("read", 10.0, 500)
    assert await policies.policy("bursty", "write") == RatePolicy("write", 100.0, 300)
