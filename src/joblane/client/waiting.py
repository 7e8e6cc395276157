"""The wait loop's decisions, shared by the sync and async clients (pure: the shells send the
requests and sleep).

A wait reads the job (or batch) once, then long-polls: `Prefer: wait=N` with `If-None-Match`
set to the version it knows, which the server holds until the version moves (answering `200`
with the new state and `Preference-Applied: wait=N`) or N seconds pass (`304`). A server that
does not hold the request (no `Preference-Applied`, and an answer without a change well before
N seconds) is polled instead: after each read the client waits what the server said
(`Retry-After`, or the body's `retry_after`), else backs off exponentially with full jitter. A
`429` or `503` is waited out the same way (its `Retry-After` first); `max_attempts` of them in
a row give up with the error.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import httpx

from joblane.client import responses
from joblane.client.errors import ClientError, TransportError, WaitTimeout
from joblane.client.models import Batch, Job
from joblane.client.retry import RetryPolicy, full_jitter, retry_after_of

R = TypeVar("R", Job, Batch)
SLACK = 15.0  # seconds a long-poll may take beyond what it asked the server for


@dataclass(frozen=True, slots=True)
class Target(Generic[R]):
    """What is waited for: a job, or a batch (read with `metrics_only`)."""

    path: str
    model: type[R]
    params: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.model.__name__.lower()} {self.path.rsplit('/', 1)[-1]}"


def job_target(path: str) -> Target[Job]:
    return Target(path, Job)


def batch_target(path: str) -> Target[Batch]:
    return Target(path, Batch, {"metrics_only": "true"})


def hint(item: Job | Batch) -> float | None:
    if isinstance(item, Job):
        return item.retry_after
    ttl = item.metadata.get("cache_ttl")
    return float(ttl) if isinstance(ttl, int | float) else None


@dataclass(frozen=True, slots=True)
class Poll:
    headers: dict[str, str]
    read_timeout: float | None


class WaitPlan(Generic[R]):
    def __init__(
        self,
        target: Target[R],
        *,
        timeout: float | None,
        policy: RetryPolicy,
        clock: Callable[[], float],
        rng: random.Random,
        on_progress: Callable[[R], object] | None = None,
        known: R | None = None,
    ) -> None:
        self.target: Target[R] = target
        self.policy = policy
        self.clock = clock
        self.rng = rng
        self.on_progress: Callable[[R], object] | None = on_progress
        self.timeout = timeout
        self.deadline = None if timeout is None else clock() + timeout
        self.long_poll: bool | None = None if policy.long_poll > 0 else False
        self.last: R | None = known
        self.polls = 0  # reads without a long-poll: the backoff's exponent
        self.failures = 0  # 429 / 503 / broken connections in a row
        self.requests = 0
        self._asked = 0.0
        self._sent_at = 0.0

    @property
    def finished(self) -> bool:
        return self.last is not None and self.last.terminal

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def capped(self, delay: float) -> float:
        """`delay`, but never past the deadline."""
        left = self.remaining()
        return max(0.0, delay if left is None else min(delay, left))

    def next_poll(self) -> Poll | None:
        """The next request's headers; None once finished; WaitTimeout past the deadline."""
        if self.finished:
            return None
        left = self.remaining()
        if left is not None and left <= 0 and self.requests:  # (the first read always goes)
            status = f" (still {self.last.status})" if self.last is not None else ""
            message = f"{self.target.describe()} not finished after {self.timeout:g} s{status}"
            raise WaitTimeout(message, self.last)
        headers: dict[str, str] = {}
        self._asked = 0.0
        if self.last is not None and self.long_poll is not False:
            wait = self.policy.long_poll if left is None else min(self.policy.long_poll, left)
            if wait >= 0.1:
                headers["Prefer"] = f"wait={wait:.1f}"
                self._asked = round(wait, 1)
        if self.last is not None:
            headers["If-None-Match"] = f'"{self.last.version}"'
        self._sent_at = self.clock()
        self.requests += 1
        return Poll(headers, self._asked + SLACK if self._asked else None)

    def on_response(self, response: httpx.Response) -> float:
        """Seconds to wait before the next poll (raises the API's error, if it is not one to
        wait out)."""
        status = response.status_code
        if status in (429, 503):
            return self._failure(retry_after_of(response.headers), responses.api_error(response))
        responses.checked(response)
        self.failures = 0
        elapsed = self.clock() - self._sent_at
        item = self.last if status == 304 else responses.parse(response, self.target.model)
        if item is None:  # a 304 to a request that named no version: cannot happen
            raise ClientError(f"304 without a known version from {self.target.path}")
        changed = self.last is None or item.version != self.last.version
        if changed:
            self.last = item
            if self.on_progress is not None:
                self.on_progress(item)
        if item.terminal:
            return 0.0
        self._learn(response, changed, elapsed)
        if self.long_poll is not False:
            return 0.0
        delay = retry_after_of(response.headers)
        if delay is None:
            delay = hint(item)
        if delay is None:
            delay = full_jitter(self.polls, self.policy.backoff_base, self.policy.backoff_cap,
                                self.rng)  # fmt: skip
            self.polls += 1
        return delay

    def on_transport_error(self, exc: Exception) -> float:
        error = TransportError(f"{self.target.path}: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        return self._failure(None, error)

    def _learn(self, response: httpx.Response, changed: bool, elapsed: float) -> None:
        """Does the server hold long-polls? `Preference-Applied` says so; an answer without a
        change that came back well before the asked wait says no."""
        if not self._asked:
            return
        if "wait" in response.headers.get("preference-applied", "").lower():
            self.long_poll = True
        elif not changed:
            self.long_poll = elapsed >= self._asked / 2

    def _failure(self, retry_after: float | None, error: ClientError) -> float:
        self.failures += 1
        if self.failures >= self.policy.max_attempts:
            raise error
        if retry_after is not None:
            return retry_after
        policy = self.policy
        return full_jitter(self.failures - 1, policy.backoff_base, policy.backoff_cap, self.rng)
