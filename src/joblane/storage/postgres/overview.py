"""The dashboard's overview on PostgreSQL (`PostgresOverview`, a mixin of `PostgresStorage`).
SQL in `overview.sql`; counters, triggers and indexes in migration 0010.

Counts come from `job_counts` (kept by triggers on `jobs`), so they cost the same with a
thousand jobs or millions; the queue and throughput read indexes over queued and recently
finished rows only. All three in one repeatable-read transaction: one snapshot.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from joblane.core.overview import (
    FinishBuckets,
    FinishCount,
    OverviewRows,
    QueueStat,
    StateCount,
)
from joblane.core.states import JobState
from joblane.storage.postgres.connection import Conn
from joblane.storage.postgres.mixin import PostgresMixin
from joblane.storage.sqlfiles import load_positional

Q = load_positional("joblane.storage.postgres", "overview.sql")


async def _fetch(conn: Conn, query: str, **params: Any) -> list[asyncpg.Record]:
    q = Q[query]
    return list(await conn.fetch(q.sql, *q.args(params)))


class PostgresOverview(PostgresMixin):
    async def overview_read(
        self, tenant_id: str | None, now: float, buckets: FinishBuckets
    ) -> OverviewRows:
        async with (
            self._conn() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            counts = await _fetch(conn, "overview_counts", tenant_id=tenant_id)
            if tenant_id is None:
                queues = await _fetch(conn, "overview_queues_all", now=now)
            else:
                queues = await _fetch(conn, "overview_queues_tenant", now=now, tenant_id=tenant_id)
            finished = await _fetch(
                conn,
                "overview_finished",
                tenant_id=tenant_id,
                since=buckets.since,
                coarse=buckets.coarse,
                fine_since=buckets.fine_since,
                fine=buckets.fine,
            )
        return OverviewRows(
            states=[StateCount(r["type"], JobState(r["state"]), r["count"]) for r in counts],
            queues=[
                QueueStat(r["type"], r["depth"], r["id"], r["created_at"], r["scheduled_at"])
                for r in queues
            ],
            finished=[
                FinishCount(r["type"], float(r["start"]), r["completed"], r["failed"])
                for r in finished
            ],
        )
