"""Per-key rate limits: GCRA (the generic cell rate algorithm), an in-process store, the
policies per tenant, and the `RateLimit-Policy` / `RateLimit` response fields
(draft-ietf-httpapi-ratelimit-headers).

GCRA keeps one number per key, the theoretical arrival time (TAT): when the key's budget is
fully spent again. A request is allowed while `TAT + interval - now <= burst * interval`.
Times are integer microseconds, so the arithmetic is exact here and in the Redis script
(`ratelimit_redis.py`), whose Lua numbers are doubles (exact up to 2**53 µs, year 2255).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from joblane.core.clock import Clock, SystemClock
from joblane.core.tenant import RateKind, TenantSettings

MICROS = 1_000_000


@dataclass(frozen=True, slots=True)
class RatePolicy:
    """`burst` requests at once, then `rate` per second."""

    name: RateKind
    rate: float
    burst: int
    interval_us: int = field(init=False, repr=False, compare=False)
    tolerance_us: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.rate > 0 or self.burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1 (got {self.rate}, {self.burst})")
        interval = max(1, round(MICROS / self.rate))
        object.__setattr__(self, "interval_us", interval)
        object.__setattr__(self, "tolerance_us", interval * self.burst)

    @property
    def window(self) -> int:
        """Whole seconds to earn a full burst back (the draft's `w` is a non-zero integer)."""
        return max(1, math.ceil(self.burst / self.rate))


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int  # the burst
    remaining: int  # requests that would be allowed right now
    reset_after: float  # seconds until the full burst is available again
    retry_after: float  # seconds until the next request is allowed (0 when allowed)


def decide(policy: RatePolicy, allowed: bool, backlog_us: int) -> RateDecision:
    """The decision, from the key's TAT minus now after the request (its "backlog")."""
    backlog_us = max(0, backlog_us)
    if allowed:
        remaining = (policy.tolerance_us - backlog_us) // policy.interval_us
        return RateDecision(True, policy.burst, max(0, remaining), backlog_us / MICROS, 0.0)
    retry_us = backlog_us + policy.interval_us - policy.tolerance_us
    return RateDecision(False, policy.burst, 0, backlog_us / MICROS, max(1, retry_us) / MICROS)


def gcra(policy: RatePolicy, tat_us: int | None, now_us: int) -> tuple[int, RateDecision]:
    """One request: the TAT to store and the decision."""
    start = now_us if tat_us is None or tat_us < now_us else tat_us
    new_tat = start + policy.interval_us
    if new_tat - now_us > policy.tolerance_us:
        return start, decide(policy, False, start - now_us)
    return new_tat, decide(policy, True, new_tat - now_us)


def refunded(policy: RatePolicy, decision: RateDecision) -> RateDecision:
    """What an allowed decision becomes once its unit is given back (a 304)."""
    backlog = max(0.0, decision.reset_after - policy.interval_us / MICROS)
    remaining = min(decision.limit, decision.remaining + 1)
    return RateDecision(True, decision.limit, remaining, backlog, 0.0)


class RateLimiter(Protocol):
    async def acquire(self, key: str, policy: RatePolicy) -> RateDecision: ...

    async def refund(self, key: str, policy: RatePolicy) -> None: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    """One process's budgets: a dict of TATs. A key whose TAT has passed is the same as no
    key, so idle keys are swept out every `sweep_seconds`, and the dict never holds more than
    `max_keys` (dropping the oldest entries only makes those keys' limits more lenient)."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        max_keys: int = 100_000,
        sweep_seconds: float = 60.0,
    ) -> None:
        self._clock = clock or SystemClock()
        self._tats: dict[tuple[str, str], int] = {}
        self._max_keys = max_keys
        self._sweep_us = round(sweep_seconds * MICROS)
        self._next_sweep = 0

    def __len__(self) -> int:
        return len(self._tats)

    async def acquire(self, key: str, policy: RatePolicy) -> RateDecision:
        now = self._now_us()
        slot = (policy.name, key)
        tat = self._tats.get(slot)
        if tat is None:
            self._make_room(now)
        stored, decision = gcra(policy, tat, now)
        if decision.allowed:
            self._tats[slot] = stored
        return decision

    async def refund(self, key: str, policy: RatePolicy) -> None:
        now = self._now_us()
        slot = (policy.name, key)
        tat = self._tats.get(slot)
        if tat is None:
            return
        tat -= policy.interval_us
        if tat > now:
            self._tats[slot] = tat
        else:
            del self._tats[slot]

    async def close(self) -> None:
        self._tats.clear()

    def _now_us(self) -> int:
        return round(self._clock.now() * MICROS)

    def _make_room(self, now: int) -> None:
        if now >= self._next_sweep:
            self._next_sweep = now + self._sweep_us
            self._tats = {slot: tat for slot, tat in self._tats.items() if tat > now}
        while len(self._tats) >= self._max_keys:
            del self._tats[next(iter(self._tats))]


def rate_headers(policy: RatePolicy, decision: RateDecision) -> list[tuple[str, str]]:
    """`RateLimit-Policy` and `RateLimit` (structured fields), and `Retry-After` on a refusal.
    `t` is the seconds until the full quota is back; on a refusal it is the wait for the next
    request, so `Retry-After` never points before the end of the effective window."""
    name = policy.name
    fields = [("RateLimit-Policy", _policy_field(name, policy.burst, policy.window))]
    if decision.allowed:
        reset = whole_seconds(decision.reset_after)
        fields.append(("RateLimit", f'"{name}";r={decision.remaining};t={reset}'))
        return fields
    wait = whole_seconds(decision.retry_after)
    fields.append(("RateLimit", f'"{name}";r=0;t={wait}'))
    fields.append(("Retry-After", str(wait)))
    return fields


@lru_cache(maxsize=1024)
def _policy_field(name: str, quota: int, window: int) -> str:
    return f'"{name}";q={quota};w={window}'


def whole_seconds(seconds: float) -> int:
    """Rounded up, as `Retry-After` and `t` need (float noise below a microsecond ignored)."""
    return math.ceil(round(seconds, 6))


TenantLookup = Callable[[str], Awaitable[TenantSettings]]
_NO_OVERRIDES = TenantSettings()


async def server_defaults_only(tenant_id: str) -> TenantSettings:
    """A tenant lookup for when there is no tenant store: every tenant has the defaults."""
    return _NO_OVERRIDES


class RatePolicies:
    """The policy of a tenant for reads or writes: its own settings, else the server's."""

    def __init__(
        self,
        read: RatePolicy,
        write: RatePolicy,
        tenant_settings: TenantLookup = server_defaults_only,
    ) -> None:
        self.read = read
        self.write = write
        self._tenant_settings = tenant_settings

    async def policy(self, tenant_id: str, kind: RateKind) -> RatePolicy:
        return self.resolve(kind, await self._tenant_settings(tenant_id))

    def resolve(self, kind: RateKind, settings: TenantSettings) -> RatePolicy:
        """The policy for settings already at hand (an authenticated caller carries its
        tenant's)."""
        if kind == "read":
            return _merged(self.read, settings.read_rate, settings.read_burst)
        return _merged(self.write, settings.write_rate, settings.write_burst)


def _merged(default: RatePolicy, rate: float | None, burst: int | None) -> RatePolicy:
    if rate is None and burst is None:
        return default
    return _cached_policy(
        default.name,
        default.rate if rate is None else rate,
        default.burst if burst is None else burst,
    )


@lru_cache(maxsize=4096)
def _cached_policy(name: RateKind, rate: float, burst: int) -> RatePolicy:
    return RatePolicy(name, rate, burst)
