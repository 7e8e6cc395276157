"""When to try a request again, and how long to wait first (pure: no I/O, no sleeping).

- `429 RATE_LIMITED` is refused before the server does anything, so any request may be sent
  again (if its body can be sent again).
- `503 UNAVAILABLE` and a connection that broke after the request went out are retried only
  for requests that are safe to repeat: reads, and submissions carrying an `Idempotency-Key`
  (the client makes one up when none is given: the server answers a repeat with the same job).
- A connection that could not be opened (nothing was sent) is retried for every request.

The wait is the server's `Retry-After` when it sent one, else exponential backoff with full
jitter: uniform(0, min(cap, base * 2**n)) for the n-th retry. Each request gets at most
`max_attempts` tries and `max_wait` seconds of waiting between them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

CONNECT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How patient the client is. `RetryPolicy(max_attempts=1)` never retries."""

    max_attempts: int = 5  # tries of one request, the first included
    max_wait: float = 120.0  # seconds slept between the tries of one request, in total
    backoff_base: float = 0.5  # seconds: the first backoff is uniform(0, base)
    backoff_cap: float = 30.0  # seconds: no backoff draws from a wider range
    long_poll: float = 25.0  # seconds a `wait` asks the server to hold each poll (0: never)


def full_jitter(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """The `attempt`-th backoff (0 first): uniform(0, min(cap, base * 2**attempt))."""
    return rng.uniform(0.0, min(cap, base * 2.0 ** min(attempt, 62)))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date (RFC 9110)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value)) if value.replace(".", "", 1).isdigit() else _date(value, now)
    except (TypeError, ValueError, OverflowError):
        return None


def _date(value: str, now: float | None) -> float:
    when = parsedate_to_datetime(value).timestamp()
    return max(0.0, when - (time.time() if now is None else now))


def retry_after_of(headers: Mapping[str, str]) -> float | None:
    return parse_retry_after(headers.get("retry-after"))


class Retrier:
    """The tries of one request: after each failed one, how long to wait (None: give up)."""

    def __init__(
        self, policy: RetryPolicy, rng: random.Random, *, idempotent: bool, replayable: bool
    ) -> None:
        self.policy = policy
        self.rng = rng
        self.idempotent = idempotent
        self.replayable = replayable
        self.tries = 1
        self.slept = 0.0

    def after_status(self, status: int, retry_after: float | None) -> float | None:
        if status == 429:
            allowed = self.replayable
        elif status == 503:
            allowed = self.replayable and self.idempotent
        else:
            return None
        return self._next(retry_after) if allowed else None

    def after_transport_error(self, exc: Exception) -> float | None:
        sent_nothing = isinstance(exc, CONNECT_ERRORS)
        allowed = self.replayable and (sent_nothing or self.idempotent)
        return self._next(None) if allowed else None

    def _next(self, retry_after: float | None) -> float | None:
        if self.tries >= self.policy.max_attempts:
            return None
        policy = self.policy
        delay = retry_after
        if delay is None:
            delay = full_jitter(self.tries - 1, policy.backoff_base, policy.backoff_cap, self.rng)
        if self.slept + delay > policy.max_wait:
            return None
        self.tries += 1
        self.slept += delay
        return delay
