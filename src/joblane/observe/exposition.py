"""What `/metrics` answers: every process's counters and histograms (summed from the files in
JOBLANE_METRICS_DIR, or this process's own), plus the queue gauges, which are cluster-wide
facts read from storage at scrape time and kept `ttl` seconds (so a burst of scrapers, or a
scraper per API process, costs one query per interval)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

from joblane.core.errors import Unavailable
from joblane.core.joblog import QueueStats
from joblane.observe.metrics import metrics, multiprocess_dir
from joblane.storage.base import Storage

log = logging.getLogger("joblane.metrics")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class QueueGauges:
    def __init__(self, storage: Storage, ttl: float = 5.0) -> None:
        self.storage = storage
        self.ttl = ttl
        self._stats: QueueStats | None = None
        self._read_at = -float("inf")
        self._lock = asyncio.Lock()

    async def read(self) -> QueueStats | None:
        """The latest stats within `ttl`; None when storage cannot answer now."""
        async with self._lock:
            if time.monotonic() - self._read_at >= self.ttl:
                try:
                    self._stats = await self.storage.queue_stats()
                except Unavailable as exc:
                    log.warning("queue gauges unavailable: %s", exc)
                    return None
                self._read_at = time.monotonic()
            return self._stats


class _QueueCollector:
    def __init__(self, stats: QueueStats | None) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily(
            "joblane_queue_stats_up", "1 when the queue gauges were read from storage"
        )
        up.add_metric([], 0 if self.stats is None else 1)
        yield up
        if self.stats is None:
            return
        depth = GaugeMetricFamily(
            "joblane_queue_depth", "Jobs queued and ready to run, by type", labels=["type"]
        )
        age = GaugeMetricFamily(
            "joblane_queue_oldest_age_seconds",
            "How long the oldest ready job of the type has waited",
            labels=["type"],
        )
        for job_type, count, oldest in self.stats.types:
            depth.add_metric([job_type], count)
            age.add_metric([job_type], max(0.0, self.stats.now - oldest))
        yield depth
        yield age


def render(stats: QueueStats | None) -> bytes:
    """The exposition text (blocking: reads the multiprocess files; run it in a thread)."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    metrics()  # this process's metrics exist before they are read
    registry = REGISTRY
    if multiprocess_dir() is not None:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    queues = CollectorRegistry()
    queues.register(_QueueCollector(stats))
    return generate_latest(registry) + generate_latest(queues)
