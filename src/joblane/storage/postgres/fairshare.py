"""Fair share on PostgreSQL (`PostgresFairShare`, a mixin of `PostgresStorage`): which plain
claim runs, and the claim step for tenants with `max_running`. SQL in `fairshare.sql`.

A capped tenant's queued jobs never reach the plain claim (they wait in the tenant's lane, its
batches are skipped), so one tenant's backlog costs other tenants' claims nothing. While no
tenant has a cap the plain claim is `jobs_claim` as before fair share; otherwise its twin
`jobs_claim_fair`. The capped step holds the rows of the tenants it serves (`FOR NO KEY UPDATE
SKIP LOCKED`) and then, in a new statement that sees every claim committed before, takes at most
`max_running - running` of each tenant's jobs: the cap holds across all workers and processes.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg

from joblane.core.job import Job
from joblane.storage.postgres.connection import Conn
from joblane.storage.postgres.mixin import PostgresMixin
from joblane.storage.postgres.rows import job_from_record
from joblane.storage.sqlfiles import load_positional

Q = load_positional("joblane.storage.postgres", "fairshare.sql")
PLAIN = load_positional("joblane.storage.postgres")
FAIR_SHARE_CHECK = 1.0  # seconds: how stale "no tenant has a cap" may be in a claiming process


async def _fetch(conn: Conn, query: str, **params: Any) -> list[asyncpg.Record]:
    q = Q[query]
    return list(await conn.fetch(q.sql, *q.args(params)))


async def claim_capped(conn: Conn, params: dict[str, Any]) -> list[Job]:
    """Inside the caller's transaction: the tenant rows stay locked until it commits."""
    locked = await _fetch(conn, "tenants_capped_lock", types=params["types"])
    if not locked:
        return []
    rows = await _fetch(
        conn,
        "jobs_claim_capped",
        tenant_ids=[r["id"] for r in locked],
        max_runnings=[r["max_running"] for r in locked],
        **params,
    )
    return [job_from_record(r) for r in rows]


class PostgresFairShare(PostgresMixin):
    # While no tenant has a cap (and no lane holds jobs) the claim is `jobs_claim` as ever,
    # asking at most every FAIR_SHARE_CHECK seconds whether that changed (a new cap holds within
    # that time: jobs outside batches join the lane at once and are never claimed past it).
    # Then the claims keep the caps until their flag row says no tenant has one. A process
    # starts keeping them: its first claim must not overrun a cap it has not heard of yet.
    _fair_share = True
    _fair_share_checked = float("-inf")
    _capped = False  # the last claim saw work of capped tenants: the next one claims it first

    async def _claim_plain(self, params: dict[str, Any]) -> list[asyncpg.Record]:
        """`jobs_claim`, or its twin `jobs_claim_fair` while some tenant has a cap; the rows
        (one, with NULL job columns, when nothing was claimed) with their flags."""
        async with self._conn() as conn:
            fair = self._fair_share or await self._fair_share_began(conn)
            q = Q["jobs_claim_fair"] if fair else PLAIN["jobs_claim"]
            rows = list(await conn.fetch(q.sql, *q.args(params)))
            flags = rows[0]
            self._fair_share = fair and bool(flags["fair_share"])
            self._capped = fair and bool(flags["capped_ready"])
            if fair and flags["strays"]:
                await _fetch(conn, "jobs_move_strays")
        return rows

    def _capped_work_seen(self) -> None:
        """An idle worker's probe found only capped tenants' jobs: claim them first, and if this
        process still claims as if no tenant had a cap, ask again at once."""
        self._capped = True
        self._fair_share_checked = float("-inf")

    async def _fair_share_began(self, conn: Conn) -> bool:
        now = time.monotonic()
        if now - self._fair_share_checked < FAIR_SHARE_CHECK:
            return False
        self._fair_share_checked = now
        self._fair_share = bool((await _fetch(conn, "fair_share_active"))[0][0])
        return self._fair_share

    async def _claim_capped(self, params: dict[str, Any], limit: int) -> list[Job]:
        if limit <= 0:
            return []
        async with self._tx() as conn:
            return await claim_capped(conn, {**params, "limit": limit})

    async def tenant_running(self, tenant_id: str) -> int:
        async with self._conn() as conn:
            rows = await _fetch(conn, "tenant_running", tenant_id=tenant_id)
        return int(rows[0][0])
