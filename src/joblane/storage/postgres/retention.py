"""Retention on PostgreSQL (`PostgresRetention`, a mixin of `PostgresStorage`): purge expired
jobs and batches chunk by chunk, leaving a tombstone per purged id. SQL in `retention.sql`.

Each chunk is one statement that finds, deletes and buries its rows, so row locks are held for
one short statement. A batch goes in two steps: its row first (the whole batch answers 410 at
once, and nothing can re-open it), then its items chunk by chunk, and last its counts and
errors.
"""

from __future__ import annotations

from typing import Any

from joblane.core.retention import Cutoffs
from joblane.storage.postgres.mixin import PostgresMixin
from joblane.storage.sqlfiles import load_positional

Q = load_positional("joblane.storage.postgres", "retention.sql")
PENDING_BATCHES = 16  # batch purges whose items one chunk may take


def _cutoff_params(cutoffs: Cutoffs) -> dict[str, Any]:
    tenants = list(cutoffs.by_tenant)
    befores = [cutoffs.by_tenant[tenant] for tenant in tenants]
    return {
        "tenant_ids": tenants,
        "befores": befores,
        "default_before": cutoffs.default,
        "latest_before": max([cutoffs.default, *befores]),
    }


class PostgresRetention(PostgresMixin):
    async def _retention_value(self, query: str, **params: Any) -> Any:
        q = Q[query]
        async with self._conn() as conn:
            return await conn.fetchval(q.sql, *q.args(params))

    async def jobs_expire(self, cutoffs: Cutoffs, limit: int) -> int:
        params = _cutoff_params(cutoffs)
        return int(await self._retention_value("jobs_expire", limit=limit, **params))

    async def batches_expire(self, cutoffs: Cutoffs, limit: int) -> list[str]:
        q = Q["batches_expire"]
        async with self._conn() as conn:
            rows = await conn.fetch(q.sql, *q.args({**_cutoff_params(cutoffs), "limit": limit}))
        return [row["id"] for row in rows]

    async def batch_items_purge(self, limit: int) -> int:
        expire, finish = Q["batch_items_expire"], Q["batch_purges_finish"]
        window = {"batches": PENDING_BATCHES}
        async with self._conn() as conn:
            purged = await conn.fetchval(expire.sql, *expire.args({**window, "limit": limit}))
            await conn.fetch(finish.sql, *finish.args(window))
        return int(purged)

    async def tombstone_get(self, resource_id: str, tenant_id: str | None) -> float | None:
        purged_at = await self._retention_value(
            "tombstone_get", id=resource_id, tenant_id=tenant_id
        )
        return None if purged_at is None else float(purged_at)

    async def tombstones_purge(self, purged_before: float, limit: int) -> int:
        q = Q["tombstones_purge"]
        async with self._conn() as conn:
            status = await conn.execute(q.sql, *q.args({"before": purged_before, "limit": limit}))
        return int(status.split()[-1])
