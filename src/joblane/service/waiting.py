"""Why a queued job is not running yet."""

from __future__ import annotations

from joblane.core.batch import BatchStatus
from joblane.core.job import Job
from joblane.storage.base import Storage

WORKER_SEEN_WITHIN = 30.0
CACHE_SECONDS = 2.0
TENANT_CACHE_SECONDS = 1.0  # a tenant's max_running and running count, per tenant
TENANTS_CACHED = 10_000


class WaitingReasons:
    """Knows which job types live workers serve, and which tenants are at their max_running
    (cached for a moment: this is a hint)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._served: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")
        self._at_cap: dict[str, tuple[float, bool]] = {}

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
        if await self._tenant_at_cap(job.tenant_id, now):
            return "tenant_limit"
        return "queue_backlog"

    async def _tenant_at_cap(self, tenant_id: str, now: float) -> bool:
        cached = self._at_cap.get(tenant_id)
        if cached is not None and now - cached[0] <= TENANT_CACHE_SECONDS:
            return cached[1]
        tenant = await self._storage.tenant_get(tenant_id)
        cap = None if tenant is None else tenant.settings.max_running
        at_cap = cap is not None and await self._storage.tenant_running(tenant_id) >= cap
        if len(self._at_cap) >= TENANTS_CACHED:
            self._at_cap.clear()
        self._at_cap[tenant_id] = (now, at_cap)
        return at_cap

    async def _served_types(self, now: float) -> frozenset[str]:
        if now - self._fetched_at > CACHE_SECONDS:
            workers = await self._storage.workers_alive(WORKER_SEEN_WITHIN)
            self._served = frozenset(t for w in workers for t in w.types)
            self._fetched_at = now
        return self._served
