"""Batches on PostgreSQL: the upload, and the batch operations of `PostgresStorage`.

An upload holds one pooled connection with one transaction open from `batch_open` to `commit`
or `abort`; all its items go through one binary COPY that each `add` feeds (`CopyStream`), so
nothing is visible (or claimable) before the commit that also writes the batch row and its
counts row. Writers that
change a batch and its items take the batch row first (`FOR UPDATE`), then the items: batch
control, retrying failed items, `job_retry` of an item, settling and the limited claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy
from asyncpg.transaction import Transaction

from joblane.core.batch import CONTROL_SOURCES, Batch, BatchControl, ErrorGroup, NewBatch
from joblane.core.errors import Unavailable
from joblane.core.job import Job, NewJob
from joblane.storage.base import BatchUpload
from joblane.storage.batchmap import batch_from_row
from joblane.storage.params import BatchChange, BatchFilter, ItemResult
from joblane.storage.postgres import usage
from joblane.storage.postgres.connection import (
    Conn,
    PostgresOptions,
    setup_connection,
    unavailable_on_failure,
)
from joblane.storage.postgres.copystream import CopyStream
from joblane.storage.postgres.mixin import PostgresMixin
from joblane.storage.postgres.rows import (
    COPY_COLUMNS,
    copy_records,
    error_group_from_record,
    item_result_from_record,
    job_from_record,
)
from joblane.storage.sqlfiles import load_positional

Q = load_positional("joblane.storage.postgres")
Pooled: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"


async def _fetch(conn: Conn, query: str, **params: Any) -> list[asyncpg.Record]:
    q = Q[query]
    return list(await conn.fetch(q.sql, *q.args(params)))


async def _count(conn: Conn, query: str, **params: Any) -> int:
    """Rows written by an UPDATE or DELETE."""
    q = Q[query]
    status = await conn.execute(q.sql, *q.args(params))
    return int(status.split()[-1])


async def get(conn: Conn, batch_id: str, tenant_id: str | None = None) -> Batch | None:
    rows = await _fetch(conn, "batch_get", id=batch_id)
    if not rows or (tenant_id is not None and rows[0]["tenant_id"] != tenant_id):
        return None
    return batch_from_row(rows[0])


# -- upload ----------------------------------------------------------------------------------
async def _binary_json(conn: Conn) -> None:
    """COPY is binary, and the pool's JSON codecs are text-only: for the upload, the same
    values in PostgreSQL's binary form (jsonb: a version byte, then the text)."""
    await conn.set_type_codec(
        "json", encoder=orjson.dumps, decoder=orjson.loads, schema="pg_catalog", format="binary"
    )
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda value: b"\x01" + orjson.dumps(value),
        decoder=lambda data: orjson.loads(data[1:]),
        schema="pg_catalog",
        format="binary",
    )


class PostgresBatchUpload:
    """`BatchUpload` over one connection and one transaction. After any failure, `commit` or
    `abort` (whichever comes first) rolls back and gives the connection back; later calls do
    nothing (`abort`) or refuse (`add`, `commit`). A failed `add` makes `commit` refuse."""

    def __init__(
        self, pool: asyncpg.Pool, conn: Pooled, tx: Transaction, batch: NewBatch, now: float
    ) -> None:
        self._pool = pool
        self._conn: Pooled | None = conn
        self._tx = tx
        self._batch = batch
        self._now = now  # one creation time for the batch and all its items
        self._count = 0
        self._broken = False
        self._copy: CopyStream | None = None

    @classmethod
    async def open(cls, pool: asyncpg.Pool, batch: NewBatch, timeout: float) -> PostgresBatchUpload:
        async with unavailable_on_failure():
            conn = await pool.acquire(timeout=timeout)
            tx = conn.transaction()
            try:
                await tx.start()
                now = await conn.fetchval(Q["now"].sql)
                await _binary_json(conn)
            except BaseException:
                await _give_back(pool, conn, tx)
                raise
        return cls(pool, conn, tx, batch, float(now))

    def _live(self) -> Pooled:
        if self._conn is None:
            raise RuntimeError(f"batch {self._batch.id}: the upload is over")
        return self._conn

    async def add(self, jobs: Sequence[NewJob]) -> None:
        conn = self._live()
        self._broken = True  # until this chunk is in
        records = copy_records(jobs, self._batch.id, self._now)
        async with unavailable_on_failure():
            if self._copy is None:
                self._copy = CopyStream(conn, "jobs", COPY_COLUMNS)
            await self._copy.send(records)
        self._count += len(records)
        self._broken = False

    async def commit(self) -> Batch:
        conn = self._live()
        try:
            if self._broken:
                raise RuntimeError(f"batch {self._batch.id}: an add failed, nothing is written")
            async with unavailable_on_failure():
                if self._copy is not None:
                    await self._copy.finish()
                batch = await _create(conn, self._batch, self._count, self._now)
                await self._tx.commit()
        except BaseException:
            await self.abort()
            raise
        self._conn = None
        await _give_back(self._pool, conn, None)
        return batch

    async def abort(self) -> None:
        conn, self._conn = self._conn, None
        if self._copy is not None:
            await self._copy.cancel()
        if conn is not None:
            await _give_back(self._pool, conn, self._tx)


async def _give_back(pool: asyncpg.Pool, conn: Pooled, rollback: Transaction | None) -> None:
    """Roll back (if asked) and return the connection with the pool's codecs. A connection
    that could not roll back is closed (the server then rolls back), never pooled mid-way."""
    try:
        if rollback is not None and not conn.is_closed():
            await rollback.rollback()
    except BaseException as exc:
        conn.terminate()
        if not isinstance(exc, Exception):
            raise
    finally:
        if not conn.is_closed():
            await setup_connection(conn)  # pg_catalog codecs: no round trip
        await pool.release(conn)


async def _create(conn: Conn, batch: NewBatch, count: int, now: float) -> Batch:
    await _fetch(
        conn,
        "batch_insert",
        id=batch.id,
        tenant_id=batch.tenant_id,
        name=batch.name,
        max_concurrent=batch.max_concurrent,
        priority=batch.priority,
        timeout=batch.timeout,
        callback_url=batch.callback_url,
        notification_enabled=batch.notification_enabled,
        now=now,
    )
    await _fetch(conn, "batch_counts_insert", batch_id=batch.id, queued=count)
    await usage.count_submitted_batch(conn, batch.tenant_id, now, count)
    await _fetch(conn, "notify_jobs")  # sent at commit: idle workers wake for the items
    created = await get(conn, batch.id)
    assert created is not None
    return created


# -- user actions ----------------------------------------------------------------------------
async def _lock(conn: Conn, batch_id: str, tenant_id: str | None) -> BatchControl | None:
    """Lock the batch row; its control, or None when unknown or another tenant's."""
    rows = await _fetch(conn, "batch_lock", id=batch_id)
    if not rows or (tenant_id is not None and rows[0]["tenant_id"] != tenant_id):
        return None
    return BatchControl(rows[0]["control"])


async def set_control(
    conn: Conn, batch_id: str, tenant_id: str | None, target: BatchControl, reason: str | None
) -> BatchChange:
    control = await _lock(conn, batch_id, tenant_id)
    if control is None:
        return BatchChange(None, changed=False)
    if control not in CONTROL_SOURCES.get(target, frozenset()):
        return BatchChange(await get(conn, batch_id), changed=False)
    await _fetch(conn, "batch_set_control", id=batch_id, target=target.value, reason=reason)
    items = 0
    if target is BatchControl.CANCELLED:
        for query in ("batch_request_cancel", "batch_cancel_queued"):
            items += await _count(conn, query, batch_id=batch_id, reason=reason)
    elif target is BatchControl.ACTIVE:
        await _fetch(conn, "notify_jobs")
    return BatchChange(await get(conn, batch_id), changed=True, items=items)


async def retry_failed(conn: Conn, batch_id: str, tenant_id: str | None) -> BatchChange:
    control = await _lock(conn, batch_id, tenant_id)
    if control is None:
        return BatchChange(None, changed=False)
    items = 0
    if control is not BatchControl.CANCELLED:
        items = await _count(conn, "batch_retry_failed", batch_id=batch_id)
    if items == 0:
        return BatchChange(await get(conn, batch_id), changed=False)
    for query in ("batch_errors_drop_empty", "batch_errors_prune_samples"):
        await _fetch(conn, query, batch_id=batch_id)
    await _fetch(conn, "batch_unsettle", id=batch_id)
    await _fetch(conn, "notify_jobs")
    return BatchChange(await get(conn, batch_id), changed=True, items=items)


# -- worker and leader -----------------------------------------------------------------------
async def claim_limited(conn: Conn, params: dict[str, Any]) -> list[Job]:
    """Items of active batches with `max_concurrent`, at most `max_concurrent - running` per
    batch, inside the caller's transaction: the batch rows stay locked until it commits."""
    locked = await _fetch(conn, "batches_limited_lock")
    if not locked:
        return []
    batch_ids = [r["id"] for r in locked]
    limits = [r["max_concurrent"] for r in locked]
    rows = await _fetch(
        conn, "jobs_claim_limited", batch_ids=batch_ids, max_concurrents=limits, **params
    )
    return [job_from_record(r) for r in rows]


async def settle(conn: Conn, limit: int) -> list[str]:
    locked = await _fetch(conn, "batches_settle_lock", limit=limit)
    if not locked:
        return []
    settled = await _fetch(conn, "batches_settle", ids=[r["id"] for r in locked])
    return [r["id"] for r in settled]


class PostgresBatches(PostgresMixin):
    """The batch operations of `PostgresStorage`, over its connection plumbing."""

    options: PostgresOptions
    _pool: asyncpg.Pool | None

    async def _rows(self, query: str, **params: Any) -> list[asyncpg.Record]:
        async with self._conn() as conn:
            return await _fetch(conn, query, **params)

    async def batch_open(self, batch: NewBatch) -> BatchUpload:
        if self._pool is None:
            raise Unavailable("storage is not open")
        return await PostgresBatchUpload.open(self._pool, batch, self.options.acquire_timeout)

    async def batch_get(self, batch_id: str, tenant_id: str | None) -> Batch | None:
        async with self._conn() as conn:
            return await get(conn, batch_id, tenant_id)

    async def batches_list(self, query: BatchFilter) -> list[Batch]:
        page = {"before_id": query.before_id, "limit": query.limit}
        if query.tenant_id is None:
            rows = await self._rows("batches_list", **page)
        else:
            rows = await self._rows("batches_list_for_tenant", tenant_id=query.tenant_id, **page)
        return [batch_from_row(r) for r in rows]

    async def batches_versions(self, batch_ids: Sequence[str]) -> dict[str, int]:
        rows = await self._rows("batches_versions", ids=list(batch_ids))
        return {r["id"]: r["version"] for r in rows}

    async def batch_error_groups(self, batch_id: str, limit: int) -> list[ErrorGroup]:
        rows = await self._rows("batch_error_groups", batch_id=batch_id, limit=limit)
        return [error_group_from_record(r) for r in rows]

    async def batch_set_control(
        self, batch_id: str, tenant_id: str | None, target: BatchControl, reason: str | None
    ) -> BatchChange:
        async with self._tx() as conn:
            return await set_control(conn, batch_id, tenant_id, target, reason)

    async def batch_retry_failed(self, batch_id: str, tenant_id: str | None) -> BatchChange:
        async with self._tx() as conn:
            return await retry_failed(conn, batch_id, tenant_id)

    async def batch_results(
        self, batch_id: str, after_id: str | None, limit: int
    ) -> list[ItemResult]:
        rows = await self._rows("batch_results", batch_id=batch_id, after_id=after_id, limit=limit)
        return [item_result_from_record(r) for r in rows]

    async def batches_past_deadline(self, limit: int) -> list[Batch]:
        return [batch_from_row(r) for r in await self._rows("batches_past_deadline", limit=limit)]

    async def batches_settle(self, limit: int) -> list[str]:
        async with self._tx() as conn:
            return await settle(conn, limit)

    async def _claim_limited(self, params: dict[str, Any], limit: int) -> list[Job]:
        if limit <= 0:
            return []
        async with self._tx() as conn:
            return await claim_limited(conn, {**params, "limit": limit})
