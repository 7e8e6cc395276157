"""Write operations of the SQLite backend; each runs on the writer thread inside a SAVEPOINT."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from joblane.core.job import Job, JobStamp, Lease, NewJob
from joblane.core.states import JobState
from joblane.storage.migrate import Migration, pending
from joblane.storage.params import (
    Change,
    HeartbeatResult,
    IdempotentInsert,
    Outcome,
    ProgressUpdate,
    WorkerRecord,
)
from joblane.storage.sqlfiles import load
from joblane.storage.sqlite import batches, usage
from joblane.storage.sqlite.rows import dumps, job_from_row, new_job_params

Q = load("joblane.storage.sqlite")

MIGRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL) STRICT"""


def applied_migrations(conn: sqlite3.Connection) -> set[int]:
    conn.execute(MIGRATIONS_TABLE)
    return {row[0] for row in conn.execute(Q["migrations_applied"])}


def apply_migrations(conn: sqlite3.Connection, available: list[Migration], now: float) -> list[int]:
    applied = applied_migrations(conn)
    done: list[int] = []
    for migration in pending(available, applied):
        for statement in split_statements(migration.sql):
            conn.execute(statement)
        params = {"version": migration.version, "name": migration.name, "now": now}
        conn.execute(Q["migration_record"], params)
        done.append(migration.version)
    return done


def split_statements(script: str) -> list[str]:
    """Split a script into statements without `executescript` (which would COMMIT for us)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement: {buffer[:80]!r}")
    return statements


def _get(conn: sqlite3.Connection, job_id: str) -> Job | None:
    row = conn.execute(Q["job_get"], {"id": job_id}).fetchone()
    return job_from_row(row) if row else None


def _get_owned(conn: sqlite3.Connection, job_id: str, tenant_id: str | None) -> Job | None:
    job = _get(conn, job_id)
    if job is None or (tenant_id is not None and job.tenant_id != tenant_id):
        return None
    return job


def insert_jobs(conn: sqlite3.Connection, jobs: Sequence[NewJob], now: float) -> list[Job]:
    conn.executemany(Q["job_insert"], [new_job_params(job, now) for job in jobs])
    usage.count_submitted(conn, (job.tenant_id for job in jobs), now)
    found = [_get(conn, job.id) for job in jobs]
    return [job for job in found if job is not None]


def insert_idempotent(
    conn: sqlite3.Connection, job: NewJob, key: str, request_hash: str, ttl: float, now: float
) -> IdempotentInsert:
    params = {"tenant_id": job.tenant_id, "key": key, "now": now}
    existing = conn.execute(Q["idempotency_get"], params).fetchone()
    if existing is not None:
        if existing["request_hash"] != request_hash:
            return IdempotentInsert(job=None, created=False, mismatch=True)
        previous = _get(conn, existing["job_id"])
        if previous is not None:
            return IdempotentInsert(job=previous, created=False)
    inserted = insert_jobs(conn, [job], now)
    record = {**params, "request_hash": request_hash, "job_id": job.id, "expires_at": now + ttl}
    del record["now"]
    conn.execute(Q["idempotency_put"], record)
    return IdempotentInsert(job=inserted[0], created=True)


def _guarded(
    conn: sqlite3.Connection, query: str, job_id: str, tenant_id: str | None, **params: Any
) -> Job | None:
    """Run a state-guarded UPDATE ... RETURNING on a job the tenant owns."""
    if _get_owned(conn, job_id, tenant_id) is None:
        return None
    row = conn.execute(Q[query], {"id": job_id, **params}).fetchone()
    return job_from_row(row) if row else None


def cancel(
    conn: sqlite3.Connection, job_id: str, tenant_id: str | None, reason: str | None, now: float
) -> Change:
    for query in ("job_cancel_queued", "job_request_cancel"):
        job = _guarded(conn, query, job_id, tenant_id, reason=reason, now=now)
        if job is not None:
            return Change(job, changed=True)
    return Change(_get_owned(conn, job_id, tenant_id), changed=False)


def retry(conn: sqlite3.Connection, job_id: str, tenant_id: str | None, now: float) -> Change:
    job = _guarded(conn, "job_retry", job_id, tenant_id, now=now)
    if job is not None:
        if job.batch_id is not None:
            batches.item_retried(conn, job.batch_id, job)
        return Change(job, changed=True)
    return Change(_get_owned(conn, job_id, tenant_id), changed=False)


def delete(conn: sqlite3.Connection, job_id: str, tenant_id: str | None) -> Change:
    job = _get_owned(conn, job_id, tenant_id)
    if job is None:
        return Change(None, changed=False)
    if job.batch_id is not None:  # a batch's items stay: its total never changes
        return Change(job, changed=False)
    deleted = conn.execute(Q["job_delete"], {"id": job_id}).rowcount == 1
    return Change(job, changed=deleted)


def heartbeat(
    conn: sqlite3.Connection, leases: Sequence[Lease], lease_seconds: float, now: float
) -> HeartbeatResult:
    lost: set[str] = set()
    cancel_requested: set[str] = set()
    for lease in leases:
        params = {"id": lease.job_id, "token": lease.token, "lease_seconds": lease_seconds}
        row = conn.execute(Q["job_heartbeat"], {**params, "now": now}).fetchone()
        if row is None:
            lost.add(lease.job_id)
        elif row[0]:
            cancel_requested.add(lease.job_id)
    return HeartbeatResult(frozenset(lost), frozenset(cancel_requested))


def progress(
    conn: sqlite3.Connection, updates: Sequence[ProgressUpdate], now: float
) -> frozenset[str]:
    lost: set[str] = set()
    for update in updates:
        p = update.progress
        params = {
            "id": update.lease.job_id,
            "token": update.lease.token,
            "processed": p.processed,
            "total": p.total,
            "failed": p.failed,
            "message": p.message,
            "now": now,
        }
        if conn.execute(Q["job_progress"], params).rowcount == 0:
            lost.add(update.lease.job_id)
    return frozenset(lost)


# outcomes that a cancel request made while the attempt ran turns into `cancelled`
_CANCEL_WINS_OVER = (JobState.COMPLETED, JobState.FAILED, JobState.QUEUED)
_FINISH_QUERY = {
    JobState.COMPLETED: "job_complete",
    JobState.FAILED: "job_fail",
    JobState.CANCELLED: "job_cancelled",
    JobState.QUEUED: "job_requeue",
}


def finish(
    conn: sqlite3.Connection, outcomes: Sequence[Outcome], now: float
) -> list[JobStamp | None]:
    reported = [ProgressUpdate(o.lease, o.progress) for o in outcomes if o.progress is not None]
    if reported:
        progress(conn, reported, now)
    return [_finish_one(conn, outcome, now) for outcome in outcomes]


def _finish_one(conn: sqlite3.Connection, outcome: Outcome, now: float) -> JobStamp | None:
    params = {
        "id": outcome.lease.job_id,
        "token": outcome.lease.token,
        "result": dumps(outcome.result) if outcome.state is JobState.COMPLETED else None,
        "error": dumps(outcome.error.to_dict()) if outcome.error else None,
        "delay": outcome.retry_delay,
        "rescue": int(outcome.rescue),
        "now": now,
    }
    query = "job_release" if outcome.release else _FINISH_QUERY[outcome.state]
    row = conn.execute(Q[query], params).fetchone()
    if row is None and outcome.state in _CANCEL_WINS_OVER:
        # Blocked by a cancel request made while the attempt ran: cancellation wins.
        row = conn.execute(Q["job_cancelled"], params).fetchone()
    return JobStamp(row[0], JobState(row[1]), row[2], row[3]) if row else None


def upsert_worker(conn: sqlite3.Connection, worker: WorkerRecord, now: float) -> None:
    params = {
        "id": worker.id,
        "hostname": worker.hostname,
        "pid": worker.pid,
        "types": dumps(list(worker.types)),
        "concurrency": worker.concurrency,
        "started_at": worker.started_at,
        "running": dumps(list(worker.running)),
        "now": now,
    }
    conn.execute(Q["worker_upsert"], params)
    conn.execute(Q["workers_prune"], {"before": now - 3600})
