"""Counts kept in plain dictionaries on a worker's hot path and added to the Prometheus metrics
in one go per flush (every second): a metric update in multiprocess mode is a locked write to
a memory-mapped file, and a job makes nine of them. Numbers reach /metrics up to one flush
late; a process that stops flushes first."""

from __future__ import annotations

from bisect import bisect_left
from typing import Any


class _Histogram:
    __slots__ = ("bounds", "buckets", "sum")

    def __init__(self, child: Any) -> None:
        self.bounds: list[float] = list(child._upper_bounds)
        self.buckets = [0] * len(self.bounds)
        self.sum = 0.0


class Tally:
    def __init__(self) -> None:
        self._counts: dict[Any, float] = {}
        self._histograms: dict[Any, _Histogram] = {}

    def add(self, child: Any, amount: float = 1.0) -> None:
        """A counter's or a gauge's child (a gauge's amount may be negative)."""
        self._counts[child] = self._counts.get(child, 0.0) + amount

    def observe(self, child: Any, value: float) -> None:
        """A histogram's child: the bucket Prometheus would count it in (`value <= bound`)."""
        tally = self._histograms.get(child)
        if tally is None:
            tally = self._histograms[child] = _Histogram(child)
        tally.buckets[bisect_left(tally.bounds, value)] += 1
        tally.sum += value

    def flush(self) -> None:
        counts, self._counts = self._counts, {}
        for child, amount in counts.items():
            if amount:
                child.inc(amount)
        histograms, self._histograms = self._histograms, {}
        for child, tally in histograms.items():
            # the child's own values, as its `observe` would update them, once per bucket
            child._sum.inc(tally.sum)
            for value, count in zip(child._buckets, tally.buckets, strict=True):
                if count:
                    value.inc(count)
