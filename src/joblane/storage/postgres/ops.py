"""Operations of the PostgreSQL backend that take more than one statement (each runs inside
the transaction its caller opened) or build array parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from joblane.core.job import Job, JobStamp, NewJob, Progress
from joblane.core.states import JobState
from joblane.storage.migrate import Migration, pending
from joblane.storage.params import (
    Change,
    IdempotentInsert,
    Outcome,
    ProgressUpdate,
    WorkerRecord,
)
from joblane.storage.postgres.connection import Conn
from joblane.storage.postgres.rows import dumps, insert_params, job_from_record
from joblane.storage.sqlfiles import load_positional

Q = load_positional("joblane.storage.postgres")


async def _fetch(conn: Conn, query: str, **params: Any) -> list[asyncpg.Record]:
    q = Q[query]
    return list(await conn.fetch(q.sql, *q.args(params)))


async def _one(conn: Conn, query: str, **params: Any) -> Job | None:
    rows = await _fetch(conn, query, **params)
    return job_from_record(rows[0]) if rows else None


# -- migrations ------------------------------------------------------------------------------
async def applied_migrations(conn: Conn) -> set[int]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return set()
    return {r["version"] for r in await _fetch(conn, "migrations_applied")}


async def apply_migrations(conn: Conn, available: list[Migration]) -> list[int]:
    """Inside one transaction under an advisory lock: processes starting together queue up."""
    await _fetch(conn, "migrations_lock")
    await conn.execute(Q["migrations_table"].sql)
    done: list[int] = []
    for migration in pending(available, await applied_migrations(conn)):
        await conn.execute(migration.sql)
        await _fetch(conn, "migration_record", version=migration.version, name=migration.name)
        done.append(migration.version)
    return done


# -- submit ----------------------------------------------------------------------------------
async def insert_jobs(conn: Conn, jobs: Sequence[NewJob]) -> list[Job]:
    if not jobs:
        return []
    rows = await _fetch(conn, "jobs_insert", **insert_params(jobs))
    by_id = {r["id"]: job_from_record(r) for r in rows}
    return [by_id[job.id] for job in jobs]


async def insert_idempotent(
    conn: Conn, job: NewJob, key: str, request_hash: str, ttl: float
) -> IdempotentInsert:
    await _fetch(conn, "idempotency_lock", tenant_id=job.tenant_id, key=key)
    existing = await _fetch(conn, "idempotency_get", tenant_id=job.tenant_id, key=key)
    if existing:
        if existing[0]["request_hash"] != request_hash:
            return IdempotentInsert(job=None, created=False, mismatch=True)
        previous = await _one(conn, "job_get", id=existing[0]["job_id"])
        if previous is not None:
            return IdempotentInsert(job=previous, created=False)
    (inserted,) = await insert_jobs(conn, [job])
    await _fetch(
        conn,
        "idempotency_put",
        tenant_id=job.tenant_id,
        key=key,
        request_hash=request_hash,
        job_id=job.id,
        ttl=ttl,
    )
    return IdempotentInsert(job=inserted, created=True)


# -- user actions ----------------------------------------------------------------------------
async def _owned(conn: Conn, job_id: str, tenant_id: str | None) -> Job | None:
    job = await _one(conn, "job_get_for_update", id=job_id)
    if job is None or (tenant_id is not None and job.tenant_id != tenant_id):
        return None
    return job


async def cancel(conn: Conn, job_id: str, tenant_id: str | None, reason: str | None) -> Change:
    job = await _owned(conn, job_id, tenant_id)
    if job is None:
        return Change(None, changed=False)
    for query in ("job_cancel_queued", "job_request_cancel"):
        changed = await _one(conn, query, id=job_id, reason=reason)
        if changed is not None:
            return Change(changed, changed=True)
    return Change(job, changed=False)


async def retry(conn: Conn, job_id: str, tenant_id: str | None) -> Change:
    """A retried item re-opens its batch if it had settled (so the gated claim sees it again)."""
    batch = await _fetch(conn, "job_batch_lock", id=job_id)
    job = await _owned(conn, job_id, tenant_id)
    if job is None:
        return Change(None, changed=False)
    changed = await _one(conn, "job_retry", id=job_id)
    if changed is not None:
        if batch:
            await _fetch(conn, "batch_unsettle", id=batch[0]["id"])
        await _fetch(conn, "notify_jobs")
    return Change(changed or job, changed=changed is not None)


async def delete(conn: Conn, job_id: str, tenant_id: str | None) -> Change:
    """Items of a batch stay as long as their batch: its totals never change."""
    job = await _owned(conn, job_id, tenant_id)
    if job is None or job.batch_id is not None:
        return Change(job, changed=False)
    q = Q["job_delete"]
    status = await conn.execute(q.sql, *q.args({"id": job_id}))
    return Change(job, changed=status.endswith(" 1"))


# -- worker writes ---------------------------------------------------------------------------
async def progress(conn: Conn, updates: Sequence[ProgressUpdate]) -> set[str]:
    latest: dict[str, ProgressUpdate] = {}
    for update in updates:  # one row per job: an UPDATE … FROM applies one match per row
        latest[update.lease.job_id] = _merge(latest.get(update.lease.job_id), update)
    updates = list(latest.values())
    rows = await _fetch(
        conn,
        "jobs_progress",
        ids=[u.lease.job_id for u in updates],
        tokens=[u.lease.token for u in updates],
        processed=[u.progress.processed for u in updates],
        totals=[u.progress.total for u in updates],
        failed=[u.progress.failed for u in updates],
        messages=[u.progress.message for u in updates],
    )
    return {r["id"] for r in rows}


def _merge(earlier: ProgressUpdate | None, later: ProgressUpdate) -> ProgressUpdate:
    if earlier is None or earlier.lease != later.lease:
        return later
    a, b = earlier.progress, later.progress
    merged = Progress(
        max(a.processed, b.processed),
        b.total if b.total is not None else a.total,
        max(a.failed, b.failed),
        b.message if b.message is not None else a.message,
    )
    return ProgressUpdate(later.lease, merged)


async def finish(conn: Conn, outcomes: Sequence[Outcome]) -> dict[str, JobStamp]:
    """Apply each kind of outcome in one statement; then, for completions and retries blocked
    by a cancel request made while the attempt ran, cancellation wins."""
    reported = [ProgressUpdate(o.lease, o.progress) for o in outcomes if o.progress is not None]
    if reported:
        await progress(conn, reported)
    done: dict[str, JobStamp] = {}
    groups: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault(_query_for(outcome), []).append(outcome)
    for query, group in groups.items():
        for row in await _fetch(conn, query, **_finish_params(group)):
            done[row[0]] = _stamp(row)
    blocked = [
        o for o in outcomes
        if o.lease.job_id not in done and o.state in CANCEL_WINS_OVER
    ]  # fmt: skip
    if blocked:
        for row in await _fetch(conn, "jobs_cancelled", **_finish_params(blocked)):
            done[row[0]] = _stamp(row)
    if any(job.state is JobState.QUEUED for job in done.values()):
        await _fetch(conn, "notify_jobs")
    return done


# outcomes that a cancel request made while the attempt ran turns into `cancelled`
CANCEL_WINS_OVER = (JobState.COMPLETED, JobState.FAILED, JobState.QUEUED)


def _stamp(row: asyncpg.Record) -> JobStamp:
    return JobStamp(row[0], JobState(row[1]), row[2], row[3])


def _query_for(outcome: Outcome) -> str:
    if outcome.release:
        return "jobs_release"
    return {
        JobState.COMPLETED: "jobs_complete",
        JobState.FAILED: "jobs_fail",
        JobState.CANCELLED: "jobs_cancelled",
        JobState.QUEUED: "jobs_requeue",
    }[outcome.state]


def _finish_params(group: Sequence[Outcome]) -> dict[str, list[Any]]:
    return {
        "ids": [o.lease.job_id for o in group],
        "tokens": [o.lease.token for o in group],
        "results": [dumps(o.result) for o in group],
        "errors": [dumps(o.error.to_dict()) if o.error else None for o in group],
        "delays": [o.retry_delay for o in group],
        "rescues": [o.rescue for o in group],
    }


# -- workers and keys ------------------------------------------------------------------------
async def upsert_worker(conn: Conn, worker: WorkerRecord, prune: bool = True) -> None:
    await _fetch(
        conn,
        "worker_upsert",
        id=worker.id,
        hostname=worker.hostname,
        pid=worker.pid,
        types=list(worker.types),
        concurrency=worker.concurrency,
        started_at=worker.started_at,
        running=list(worker.running),
    )
    if prune:  # rows of workers gone for an hour (e.g. kill -9)
        await _fetch(conn, "workers_prune")
