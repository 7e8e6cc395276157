"""PostgreSQL storage: many API and worker processes on one database.

Claims take k jobs in one `FOR UPDATE SKIP LOCKED` statement; outcomes, heartbeats and progress
are written k at a time through `unnest` arrays; idle workers sleep on LISTEN/NOTIFY. Every
connection failure surfaces as `Unavailable` (the API's 503) and the pool reconnects by itself.
Batch operations live in `batches.py` (`PostgresBatches`).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg

from joblane.core.batching import Batcher
from joblane.core.errors import Unavailable
from joblane.core.job import Job, JobStamp, Lease, NewJob
from joblane.storage import migrate as migrations
from joblane.storage.params import (
    Change,
    HeartbeatResult,
    IdempotentInsert,
    JobFilter,
    Outcome,
    ProgressUpdate,
    WorkerRecord,
)
from joblane.storage.postgres import ops
from joblane.storage.postgres.artifacts import PostgresArtifacts
from joblane.storage.postgres.batches import PostgresBatches
from joblane.storage.postgres.connection import (
    Conn,
    PostgresOptions,
    create_pool,
    unavailable_on_failure,
)
from joblane.storage.postgres.fairshare import PostgresFairShare
from joblane.storage.postgres.leader import Leadership
from joblane.storage.postgres.listener import WEBHOOK_CHANNEL, Listener
from joblane.storage.postgres.listing import list_query
from joblane.storage.postgres.observe import PostgresJobLogs
from joblane.storage.postgres.overview import PostgresOverview
from joblane.storage.postgres.retention import PostgresRetention
from joblane.storage.postgres.rows import job_from_record, worker_from_record
from joblane.storage.postgres.tenants import PostgresTenants
from joblane.storage.postgres.usage import PostgresUsage
from joblane.storage.postgres.webhooks import PostgresWebhooks
from joblane.storage.sqlfiles import load_positional

Q = load_positional("joblane.storage.postgres")
MIGRATIONS_PACKAGE = "joblane.storage.postgres.migrations"
WEBHOOK_POLL_WITHOUT_LISTEN = 1.0
PRUNE_EVERY = 30  # worker heartbeats between prunes of long-gone workers' rows


class PostgresStorage(
    PostgresBatches,
    PostgresTenants,
    PostgresUsage,
    PostgresRetention,
    PostgresFairShare,
    PostgresArtifacts,
    PostgresWebhooks,
    PostgresJobLogs,
    PostgresOverview,
):
    def __init__(self, options: PostgresOptions) -> None:
        self.options = options
        self._pool: asyncpg.Pool | None = None
        self._listener = Listener(options.url)
        self._leadership = Leadership(options.url)
        self._inserts: Batcher[list[NewJob], list[Job]] = Batcher(
            self._insert_groups, shared_failures=(Unavailable,)
        )
        self._reads: Batcher[str, Job | None] = Batcher(
            self._get_many, shared_failures=(Unavailable,)
        )
        self._claim_generation = -1
        self._webhook_generation = -1
        self._upserts = 0
        self._next_due: float | None = None
        self._limited = False  # the last claim saw active batches with max_concurrent

    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        self._pool = await create_pool(self.options)

    async def close(self) -> None:
        try:
            await self._listener.stop()
            await self._leadership.close()
        finally:
            if self._pool is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._pool.close(), 10)
                self._pool = None

    async def migrate(self) -> list[int]:
        available = migrations.discover(MIGRATIONS_PACKAGE)
        async with self._tx() as conn:
            return await ops.apply_migrations(conn, available)

    async def migrations_pending(self) -> list[int]:
        available = migrations.discover(MIGRATIONS_PACKAGE)
        async with self._conn() as conn:
            applied = await ops.applied_migrations(conn)
        return [m.version for m in migrations.pending(available, applied)]

    async def ping(self) -> None:
        await self._fetchval("SELECT 1")

    def now(self) -> float:
        return time.time()

    # -- plumbing ----------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[Conn]:
        if self._pool is None:
            raise Unavailable("storage is not open")
        async with (
            unavailable_on_failure(),
            self._pool.acquire(timeout=self.options.acquire_timeout) as conn,
        ):
            yield conn

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[Conn]:
        async with self._conn() as conn, conn.transaction():
            yield conn

    async def _fetch(self, query: str, **params: Any) -> list[asyncpg.Record]:
        q = Q[query]
        async with self._conn() as conn:
            return list(await conn.fetch(q.sql, *q.args(params)))

    async def _fetchval(self, sql: str) -> Any:
        async with self._conn() as conn:
            return await conn.fetchval(sql)

    # -- jobs: submit and read ---------------------------------------------------------------
    async def jobs_insert(self, jobs: Sequence[NewJob]) -> list[Job]:
        """Concurrent calls share one INSERT statement (and so one commit): a 202 is still sent
        only after the commit that made its job durable."""
        return list(await self._inserts.submit(list(jobs)))

    async def _insert_groups(self, groups: Sequence[list[NewJob]]) -> list[list[Job]]:
        flat = [job for group in groups for job in group]
        async with self._conn() as conn:
            inserted = iter(await ops.insert_jobs(conn, flat))
        return [[next(inserted) for _ in group] for group in groups]

    async def job_insert_idempotent(
        self, job: NewJob, key: str, request_hash: str, ttl: float
    ) -> IdempotentInsert:
        async with self._tx() as conn:
            return await ops.insert_idempotent(conn, job, key, request_hash, ttl)

    async def job_get(self, job_id: str, tenant_id: str | None) -> Job | None:
        """Concurrent reads (a crowd of pollers) share one `id = ANY(…)` query."""
        job = await self._reads.submit(job_id)
        if job is None or (tenant_id is not None and job.tenant_id != tenant_id):
            return None
        return job

    async def _get_many(self, job_ids: Sequence[str]) -> list[Job | None]:
        rows = await self._fetch("jobs_by_ids", ids=list(set(job_ids)))
        found = {r["id"]: job_from_record(r) for r in rows}
        return [found.get(job_id) for job_id in job_ids]

    async def jobs_list(self, query: JobFilter) -> list[Job]:
        sql, args = list_query(query)
        async with self._conn() as conn:
            return [job_from_record(r) for r in await conn.fetch(sql, *args)]

    async def jobs_versions(self, job_ids: Sequence[str]) -> dict[str, int]:
        rows = await self._fetch("jobs_versions", ids=list(job_ids))
        return {r["id"]: r["version"] for r in rows}

    # -- jobs: user actions ------------------------------------------------------------------
    async def job_cancel(self, job_id: str, tenant_id: str | None, reason: str | None) -> Change:
        async with self._tx() as conn:
            return await ops.cancel(conn, job_id, tenant_id, reason)

    async def job_retry(self, job_id: str, tenant_id: str | None) -> Change:
        async with self._tx() as conn:
            return await ops.retry(conn, job_id, tenant_id)

    async def job_delete(self, job_id: str, tenant_id: str | None) -> Change:
        async with self._tx() as conn:
            return await ops.delete(conn, job_id, tenant_id)

    # -- jobs: worker side -------------------------------------------------------------------
    async def jobs_claim(
        self, worker_id: str, types: Sequence[str], limit: int, lease_seconds: float
    ) -> list[Job]:
        self._claim_generation = self._listener.generation
        params = {
            "types": list(types),
            "limit": limit,
            "token": secrets.token_hex(12),
            "lease_seconds": lease_seconds,
            "worker_id": worker_id,
        }
        # Items of batches with max_concurrent, and jobs of tenants with max_running, come from
        # slower steps, run only while there is such work. Once seen, they go first: were they
        # served from what the plain claim leaves, a backlog of other jobs would starve them
        # (their limits cap them).
        limited_first, capped_first = self._limited, self._capped
        jobs = await self._claim_capped(params, limit) if capped_first else []
        if limited_first:
            jobs += await self._claim_limited(params, limit - len(jobs))
        if len(jobs) < limit:
            rows = await self._claim_plain({**params, "limit": limit - len(jobs)})
            self._limited = bool(rows[0]["limited"])  # one row even when nothing was claimed
            jobs += [job_from_record(r) for r in rows if r["id"] is not None]
            if self._capped and not capped_first:
                jobs += await self._claim_capped(params, limit - len(jobs))
            if self._limited and not limited_first:
                jobs += await self._claim_limited(params, limit - len(jobs))
        jobs.sort(key=_claim_order)
        if not jobs:
            self._next_due = await self._seconds_until_due(types)
        return jobs

    async def jobs_heartbeat(
        self, leases: Sequence[Lease], lease_seconds: float
    ) -> HeartbeatResult:
        rows = await self._fetch(
            "jobs_heartbeat",
            ids=[lease.job_id for lease in leases],
            tokens=[lease.token for lease in leases],
            lease_seconds=lease_seconds,
        )
        alive = {r["id"] for r in rows}
        lost = frozenset(lease.job_id for lease in leases if lease.job_id not in alive)
        return HeartbeatResult(lost, frozenset(r["id"] for r in rows if r["cancel_requested"]))

    async def jobs_progress(self, updates: Sequence[ProgressUpdate]) -> frozenset[str]:
        async with self._conn() as conn:
            written = await ops.progress(conn, updates)
        return frozenset(u.lease.job_id for u in updates) - written

    async def jobs_finish(self, outcomes: Sequence[Outcome]) -> list[JobStamp | None]:
        # no transaction: each statement is atomic and lease-guarded on its own, and skipping
        # BEGIN/COMMIT saves two round trips per batch
        async with self._conn() as conn:
            finished = await ops.finish(conn, outcomes)
        return [finished.get(outcome.lease.job_id) for outcome in outcomes]

    async def jobs_cancel_requested(self, job_ids: Sequence[str]) -> frozenset[str]:
        rows = await self._fetch("jobs_cancel_requested", ids=list(job_ids))
        return frozenset(r["id"] for r in rows)

    async def jobs_wait_available(self, types: Sequence[str], timeout: float) -> bool:
        """Sleep on LISTEN/NOTIFY until a job may be claimable, or the next scheduled job falls
        due, or `timeout` passes; then check once. Idle, this costs no query at all."""
        self._listener.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (remaining := deadline - loop.time()) > 0:
            if not self._listener.connected:  # LISTEN is down: poll until it is back
                await asyncio.sleep(min(remaining, 0.5))
            else:
                due = self._next_due
                wait = remaining if due is None else max(0.01, min(remaining, due))
                woke = await self._listener.wait_past(self._claim_generation, wait)
                self._claim_generation = self._listener.generation
                if woke and not self._listener.resynced:
                    return True  # a NOTIFY: claim at once, no probe first
                self._listener.resynced = False
                if not woke and (due is None or due > remaining):
                    break
            if await self._claimable(types):
                return True
            self._next_due = await self._seconds_until_due(types)
        return False

    async def webhook_wait(self, timeout: float) -> None:
        self._listener.start()
        if not self._listener.connected:  # LISTEN is down: poll until it is back
            await asyncio.sleep(min(timeout, WEBHOOK_POLL_WITHOUT_LISTEN))
            return
        await self._listener.wait_past(self._webhook_generation, timeout, WEBHOOK_CHANNEL)
        self._webhook_generation = self._listener.generations[WEBHOOK_CHANNEL]

    async def _claimable(self, types: Sequence[str]) -> bool:
        rows = await self._fetch("jobs_claimable_exists", types=list(types))
        if rows and rows[0]["capped"]:
            self._capped_work_seen()
        return bool(rows)

    async def _seconds_until_due(self, types: Sequence[str]) -> float | None:
        rows = await self._fetch("jobs_next_due", types=list(types))
        due: float | None = rows[0][0] if rows else None
        return due

    # -- maintenance -------------------------------------------------------------------------
    async def jobs_expired_leases(self, limit: int) -> list[Job]:
        rows = await self._fetch("jobs_expired_leases", limit=limit)
        return [job_from_record(r) for r in rows]

    async def idempotency_purge(self, limit: int) -> int:
        async with self._conn() as conn:
            q = Q["idempotency_purge"]
            status = await conn.execute(q.sql, *q.args({"limit": limit}))
        return int(status.split()[-1])

    async def leader_acquire(self, name: str, holder: str, ttl: float) -> bool:
        async with unavailable_on_failure():
            return await self._leadership.acquire(name, holder)

    async def leader_release(self, name: str, holder: str) -> None:
        await self._leadership.release(name, holder)

    # -- workers -----------------------------------------------------------------------------
    async def worker_upsert(self, worker: WorkerRecord) -> None:
        async with self._conn() as conn:
            # pruning an hour-old row can wait: once in PRUNE_EVERY heartbeats (idle cost)
            await ops.upsert_worker(conn, worker, prune=self._upserts % PRUNE_EVERY == 0)
        self._upserts += 1

    async def worker_remove(self, worker_id: str) -> None:
        await self._fetch("worker_remove", id=worker_id)

    async def workers_alive(self, seen_within: float) -> list[WorkerRecord]:
        rows = await self._fetch("workers_alive", within=seen_within)
        return [worker_from_record(r) for r in rows]


def _claim_order(job: Job) -> tuple[int, float, str]:
    return (-job.priority, job.scheduled_at, job.id)
