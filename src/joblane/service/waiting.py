"""Why a queued job is not running yet."""

from __future__ import annotations

from joblane.core.batch import BatchStatus
from joblane.core.job import Job
from joblane.storage.base import Storage

WORKER_SEEN_WITHIN = 30.0
CACHE_SECONDS = 2.0


class WaitingReasons:
    """Knows which job types live workers serve (cached for a moment: this is a hint)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._served: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")

    async def reason(self, job: Job, now: float) -> str:
        if job.scheduled_at > now + 0.001:
            return "scheduled"
        if job.type not in await self._served_types(now):
            return "no_worker_for_type"
        if job.batch_id is not None:
            batch = await self._storage.batch_get(job.batch_id, None)
            if batch is not None and batch.status is BatchStatus.PAUSED:
                return "batch_paused"
            limit = None if batch is None else batch.max_concurrent
            if batch is not None and limit is not None and batch.counts.running >= limit:
                return "concurrency_limit"
        return "queue_backlog"

    async def _served_types(self, now: float) -> frozenset[str]:
        if now - self._fetched_at > CACHE_SECONDS:
            workers = await self._storage.workers_alive(WORKER_SEEN_WITHIN)
            self._served = frozenset(t for w in workers for t in w.types)
            self._fetched_at = now
        return self._served
