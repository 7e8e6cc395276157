"""Clocks. Time is epoch seconds (float) inside Joblane; RFC 3339 only at the edges."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, epoch: float) -> None:
        self._now = epoch


def to_rfc3339(epoch: float | None) -> str | None:
    """`2026-01-31T12:00:00.123Z` (milliseconds, UTC)."""
    return None if epoch is None else _format(epoch)


@lru_cache(maxsize=16_384)  # a polled job shows the same timestamps on every read
def _format(epoch: float) -> str:
    seconds = int(epoch // 1)
    # round to microseconds first (as datetime does): 0.123 is stored as 0.12299999...
    micros = round((epoch - seconds) * 1_000_000)
    if micros == 1_000_000:
        seconds, micros = seconds + 1, 0
    millis = micros // 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def from_rfc3339(text: str) -> float:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
