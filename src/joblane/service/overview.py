"""The dashboard's overview: counts, queues, throughput and workers in one read.

Tenant keys see their own tenant only; admin keys every tenant (or one, if they ask) and the
workers, which belong to no tenant.
"""

from __future__ import annotations

from joblane.core.overview import FinishBuckets, Overview, WorkerInfo, build_overview
from joblane.core.principal import READ, Principal
from joblane.storage.base import Storage

WORKERS_SEEN_WITHIN = 120.0  # seconds: a worker silent longer than this is not listed


class OverviewService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def get(self, who: Principal, tenant_id: str | None = None) -> Overview:
        """The overview as of now. `tenant_id` narrows an admin's view; a tenant key always
        sees its own tenant, whatever it asks for."""
        who.require(READ)
        scope = tenant_id if who.is_admin else who.tenant_id
        at = self.storage.now()
        rows = await self.storage.overview_read(scope, at, FinishBuckets.for_overview(at))
        workers = await self._workers() if who.is_admin else None
        return build_overview(rows, at, scope, workers)

    async def _workers(self) -> list[WorkerInfo]:
        records = await self.storage.workers_alive(WORKERS_SEEN_WITHIN)
        return [
            WorkerInfo(
                id=r.id,
                hostname=r.hostname,
                pid=r.pid,
                types=tuple(r.types),
                concurrency=r.concurrency,
                started_at=r.started_at,
                heartbeat_at=r.heartbeat_at,
                running=tuple(r.running),
            )
            for r in sorted(records, key=lambda w: w.id)
        ]
