"""Retry decisions as pure functions: the worker and the rescuer ask the same policy."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Retry:
    delay: float


@dataclass(frozen=True, slots=True)
class GiveUp:
    reason: str


Decision = Retry | GiveUp


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter: delay ~ U(0, min(cap, base * 2**(attempt-1)))."""

    base: float = 1.0
    cap: float = 300.0
    jitter: bool = True

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling: float = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        if not self.jitter:
            return ceiling
        draw: float = (rng or random).random()
        # keep at least a tenth of the ceiling so retries never stampede at delay 0
        return ceiling * (0.1 + 0.9 * draw)

    def decide(
        self,
        attempt: int,
        max_attempts: int,
        retryable: bool,
        rng: random.Random | None = None,
    ) -> Decision:
        if not retryable:
            return GiveUp("error is not retryable")
        if attempt >= max_attempts:
            return GiveUp(f"attempt {attempt} of {max_attempts}: attempts exhausted")
        return Retry(self.backoff(attempt, rng))
