"""SQLite storage: the embedded default.

Reads that are point lookups run inline on the event loop over a read-only connection (WAL
readers never wait for the writer); scans run on a reader thread; every write goes through the
group-commit writer thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from joblane.core.batch import Batch, BatchControl, ErrorGroup, NewBatch
from joblane.core.clock import Clock, SystemClock
from joblane.core.errors import Unavailable
from joblane.core.job import Job, JobStamp, Lease, NewJob
from joblane.storage import migrate as migrations
from joblane.storage.base import BatchUpload
from joblane.storage.params import (
    BatchChange,
    BatchFilter,
    Change,
    HeartbeatResult,
    IdempotentInsert,
    ItemResult,
    JobFilter,
    Outcome,
    ProgressUpdate,
    WorkerRecord,
)
from joblane.storage.sqlfiles import load
from joblane.storage.sqlite import batches, fairshare, ops
from joblane.storage.sqlite.artifacts import SqliteArtifacts
from joblane.storage.sqlite.connection import SqliteOptions, connect
from joblane.storage.sqlite.fairshare import SqliteFairShare
from joblane.storage.sqlite.listing import list_query
from joblane.storage.sqlite.observe import SqliteJobLogs
from joblane.storage.sqlite.overview import SqliteOverview
from joblane.storage.sqlite.retention import SqliteRetention
from joblane.storage.sqlite.rows import dumps, job_from_row, worker_from_row
from joblane.storage.sqlite.tenants import SqliteTenants
from joblane.storage.sqlite.usage import SqliteUsage
from joblane.storage.sqlite.webhooks import SqliteWebhooks
from joblane.storage.sqlite.writer import GroupCommitWriter

log = logging.getLogger("joblane.storage")
T = TypeVar("T")
Q = load("joblane.storage.sqlite")
MIGRATIONS_PACKAGE = "joblane.storage.sqlite.migrations"


class SqliteStorage(
    SqliteTenants,
    SqliteUsage,
    SqliteRetention,
    SqliteFairShare,
    SqliteArtifacts,
    SqliteWebhooks,
    SqliteJobLogs,
    SqliteOverview,
):
    def __init__(
        self, options: SqliteOptions, clock: Clock | None = None, poll_interval: float = 0.005
    ) -> None:
        self.options = options
        self._clock = clock or SystemClock()
        self._poll_interval = poll_interval
        self._writer = GroupCommitWriter(lambda: connect(options), options.max_pending_writes)
        self._reader: sqlite3.Connection | None = None
        self._scanner: ThreadPoolExecutor | None = None
        self._scan_conn: sqlite3.Connection | None = None
        self._inserted = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        directory = os.path.dirname(os.path.abspath(self.options.path))
        if not os.path.isdir(directory):
            raise Unavailable(f"directory {directory} does not exist")
        await asyncio.to_thread(self._writer.start)
        self._reader = connect(self.options, readonly=True)
        self._scanner = ThreadPoolExecutor(1, thread_name_prefix="joblane-sqlite-scan")
        self._scan_conn = connect(self.options, readonly=True)

    async def close(self) -> None:
        await asyncio.to_thread(self._writer.stop)
        if self._scanner is not None:
            self._scanner.shutdown(wait=True)
        for conn in (self._reader, self._scan_conn):
            if conn is not None:
                conn.close()
        self._reader = self._scan_conn = None

    async def migrate(self) -> list[int]:
        available = migrations.discover(MIGRATIONS_PACKAGE)
        return await self._write(lambda c: ops.apply_migrations(c, available, self.now()))

    async def migrations_pending(self) -> list[int]:
        available = migrations.discover(MIGRATIONS_PACKAGE)
        applied = await self._write(ops.applied_migrations)
        return [m.version for m in migrations.pending(available, applied)]

    async def ping(self) -> None:
        try:
            self._read(lambda c: c.execute("SELECT 1").fetchone())
        except sqlite3.Error as exc:
            raise Unavailable(f"database unreachable: {exc}") from exc

    def now(self) -> float:
        return self._clock.now()

    # -- plumbing ----------------------------------------------------------------------------
    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._writer.run(fn)

    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._reader is None:
            raise Unavailable("storage is not open")
        try:
            return fn(self._reader)
        except sqlite3.OperationalError as exc:  # locked out, I/O error: the API's 503
            log.warning("read failed: %s", exc)
            raise Unavailable("database read failed") from exc

    def _one(self, query: str, params: dict[str, Any]) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._read(lambda c: c.execute(Q[query], params).fetchone())
        return row

    def _all(self, query: str, params: dict[str, Any]) -> list[sqlite3.Row]:
        return self._read(lambda c: c.execute(Q[query], params).fetchall())

    async def _scan(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._scanner is None or self._scan_conn is None:
            raise Unavailable("storage is not open")
        conn = self._scan_conn
        return await asyncio.get_running_loop().run_in_executor(self._scanner, fn, conn)

    # -- jobs: submit and read ---------------------------------------------------------------
    async def jobs_insert(self, jobs: Sequence[NewJob]) -> list[Job]:
        inserted = await self._write(lambda c: ops.insert_jobs(c, jobs, self.now()))
        self._inserted.set()
        return inserted

    async def job_insert_idempotent(
        self, job: NewJob, key: str, request_hash: str, ttl: float
    ) -> IdempotentInsert:
        result = await self._write(
            lambda c: ops.insert_idempotent(c, job, key, request_hash, ttl, self.now())
        )
        if result.created:
            self._inserted.set()
        return result

    async def job_get(self, job_id: str, tenant_id: str | None) -> Job | None:
        def get(conn: sqlite3.Connection) -> Job | None:
            if tenant_id is None:
                row = conn.execute(Q["job_get"], {"id": job_id}).fetchone()
            else:
                params = {"id": job_id, "tenant_id": tenant_id}
                row = conn.execute(Q["job_get_for_tenant"], params).fetchone()
            return job_from_row(row) if row else None

        return self._read(get)

    async def jobs_list(self, query: JobFilter) -> list[Job]:
        sql, params = list_query(query)
        return await self._scan(lambda c: [job_from_row(r) for r in c.execute(sql, params)])

    async def jobs_versions(self, job_ids: Sequence[str]) -> dict[str, int]:
        params = {"ids": dumps(list(job_ids))}
        return {row[0]: row[1] for row in self._all("jobs_versions", params)}

    # -- jobs: user actions ------------------------------------------------------------------
    async def job_cancel(self, job_id: str, tenant_id: str | None, reason: str | None) -> Change:
        return await self._write(lambda c: ops.cancel(c, job_id, tenant_id, reason, self.now()))

    async def job_retry(self, job_id: str, tenant_id: str | None) -> Change:
        return await self._write(lambda c: ops.retry(c, job_id, tenant_id, self.now()))

    async def job_delete(self, job_id: str, tenant_id: str | None) -> Change:
        return await self._write(lambda c: ops.delete(c, job_id, tenant_id))

    # -- jobs: worker side -------------------------------------------------------------------
    async def jobs_claim(
        self, worker_id: str, types: Sequence[str], limit: int, lease_seconds: float
    ) -> list[Job]:
        types_json = dumps(list(types))
        params = {
            "worker_id": worker_id,
            "types": types_json,
            "limit": limit,
            "lease_seconds": lease_seconds,
            "token": secrets.token_hex(12),
        }

        def claim(conn: sqlite3.Connection) -> list[Job]:
            now = self.now()
            picked = batches.claim_picks(conn, types_json, limit, now)
            capped = fairshare.capped_picks(conn, types_json, limit, now)
            claim = {**params, "now": now, "picked": picked, "capped": capped}
            rows = conn.execute(Q["jobs_claim"], claim)
            return sorted((job_from_row(r) for r in rows), key=_claim_order)

        return await self._write(claim)

    async def jobs_heartbeat(
        self, leases: Sequence[Lease], lease_seconds: float
    ) -> HeartbeatResult:
        return await self._write(lambda c: ops.heartbeat(c, leases, lease_seconds, self.now()))

    async def jobs_progress(self, updates: Sequence[ProgressUpdate]) -> frozenset[str]:
        return await self._write(lambda c: ops.progress(c, updates, self.now()))

    async def jobs_finish(self, outcomes: Sequence[Outcome]) -> list[JobStamp | None]:
        finished = await self._write(lambda c: ops.finish(c, outcomes, self.now()))
        if any(job is not None and job.state == "queued" for job in finished):
            self._inserted.set()
        return finished

    async def jobs_cancel_requested(self, job_ids: Sequence[str]) -> frozenset[str]:
        rows = self._all("jobs_cancel_requested", {"ids": dumps(list(job_ids))})
        return frozenset(row[0] for row in rows)

    async def jobs_wait_available(self, types: Sequence[str], timeout: float) -> bool:
        """Return once claimable jobs may exist (True) or `timeout` passes.

        Another process's commit is seen through `PRAGMA data_version` (a memory read in WAL
        mode), this process's own inserts through an event, so an idle worker costs nothing.
        """
        loop = asyncio.get_running_loop()
        seen = self._read(_data_version)
        if self._claimable(types):  # committed before `seen`: no version change would show it
            return True
        due = self._seconds_until_due(types)  # a retry or run_at job falls due: wake for it
        deadline = loop.time() + (timeout if due is None else max(0.0, min(timeout, due)))
        while (remaining := deadline - loop.time()) > 0:
            self._inserted.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._inserted.wait(), min(self._poll_interval, remaining))
            version = self._read(_data_version)
            if version != seen or self._inserted.is_set():
                seen = version
                if self._claimable(types):
                    return True
        return self._claimable(types)

    def _seconds_until_due(self, types: Sequence[str]) -> float | None:
        row = self._one("jobs_next_due", {"types": dumps(list(types))})
        return None if row is None or row[0] is None else float(row[0]) - self.now()

    def _claimable(self, types: Sequence[str]) -> bool:
        params = {"types": dumps(list(types)), "now": self.now()}
        return (
            self._read(lambda c: c.execute(Q["jobs_claimable_exists"], params).fetchone())
            is not None
        )

    # -- batches -----------------------------------------------------------------------------
    async def batch_open(self, batch: NewBatch) -> BatchUpload:
        return batches.SqliteBatchUpload(self._writer, batch, self.now, self._inserted.set)

    async def batch_get(self, batch_id: str, tenant_id: str | None) -> Batch | None:
        return self._read(lambda c: batches.get(c, batch_id, tenant_id))

    async def batches_list(self, query: BatchFilter) -> list[Batch]:
        return self._read(lambda c: batches.listed(c, query))

    async def batches_versions(self, batch_ids: Sequence[str]) -> dict[str, int]:
        params = {"ids": dumps(list(batch_ids))}
        return {row[0]: row[1] for row in self._all("batches_versions", params)}

    async def batch_error_groups(self, batch_id: str, limit: int) -> list[ErrorGroup]:
        return self._read(lambda c: batches.error_groups(c, batch_id, limit))

    async def batch_set_control(
        self, batch_id: str, tenant_id: str | None, target: BatchControl, reason: str | None
    ) -> BatchChange:
        change = await self._write(
            lambda c: batches.set_control(c, batch_id, tenant_id, target, reason, self.now())
        )
        if change.changed and target is BatchControl.ACTIVE:
            self._inserted.set()
        return change

    async def batch_retry_failed(self, batch_id: str, tenant_id: str | None) -> BatchChange:
        change = await self._write(
            lambda c: batches.retry_failed(c, batch_id, tenant_id, self.now())
        )
        if change.changed:
            self._inserted.set()
        return change

    async def batch_results(
        self, batch_id: str, after_id: str | None, limit: int
    ) -> list[ItemResult]:
        return await self._scan(lambda c: batches.results(c, batch_id, after_id, limit))

    async def batches_past_deadline(self, limit: int) -> list[Batch]:
        return self._read(lambda c: batches.past_deadline(c, limit, self.now()))

    async def batches_settle(self, limit: int) -> list[str]:
        return await self._write(lambda c: batches.settle(c, limit, self.now()))

    # -- maintenance -------------------------------------------------------------------------
    async def jobs_expired_leases(self, limit: int) -> list[Job]:
        params = {"now": self.now(), "limit": limit}
        return [job_from_row(r) for r in self._all("jobs_expired_leases", params)]

    async def idempotency_purge(self, limit: int) -> int:
        return await self._write(
            lambda c: (
                c.execute(Q["idempotency_purge"], {"now": self.now(), "limit": limit}).rowcount
            )
        )

    async def leader_acquire(self, name: str, holder: str, ttl: float) -> bool:
        def acquire(conn: sqlite3.Connection) -> bool:
            params = {"name": name, "holder": holder, "ttl": ttl, "now": self.now()}
            return conn.execute(Q["leader_acquire"], params).fetchone() is not None

        return await self._write(acquire)

    async def leader_release(self, name: str, holder: str) -> None:
        await self._write(
            lambda c: c.execute(Q["leader_release"], {"name": name, "holder": holder})
        )

    # -- workers -----------------------------------------------------------------------------
    async def worker_upsert(self, worker: WorkerRecord) -> None:
        await self._write(lambda c: ops.upsert_worker(c, worker, self.now()))

    async def worker_remove(self, worker_id: str) -> None:
        await self._write(lambda c: c.execute(Q["worker_remove"], {"id": worker_id}))

    async def workers_alive(self, seen_within: float) -> list[WorkerRecord]:
        params = {"since": self.now() - seen_within}
        return self._read(
            lambda c: [worker_from_row(r) for r in c.execute(Q["workers_alive"], params)]
        )


def _data_version(conn: sqlite3.Connection) -> Any:
    return conn.execute("PRAGMA data_version").fetchone()[0]


def _claim_order(job: Job) -> tuple[int, float, str]:
    return (-job.priority, job.scheduled_at, job.id)
