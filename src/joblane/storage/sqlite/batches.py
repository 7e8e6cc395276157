"""Batch operations of the SQLite backend, and the upload that stages a batch's items.

An upload writes each chunk of items into `batch_staging` (one write per chunk, so the single
writer is never held for the whole upload); `commit` moves them into `jobs` and creates the batch
and its counts row in one write. Every function taking a connection runs on the writer thread
inside a SAVEPOINT, except the readers (`get`, `error_groups`, `results`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

import orjson

from joblane.core.batch import CONTROL_SOURCES, Batch, BatchControl, ErrorGroup, NewBatch
from joblane.core.errors import Conflict
from joblane.core.job import Job, NewJob
from joblane.storage.batchmap import batch_from_row
from joblane.storage.params import BatchChange, BatchFilter, ItemResult
from joblane.storage.sqlfiles import load
from joblane.storage.sqlite import usage
from joblane.storage.sqlite.rows import dumps, item_result_from_row, staging_params
from joblane.storage.sqlite.writer import GroupCommitWriter

Q = load("joblane.storage.sqlite")
STAGING_TTL = 3600.0  # staged items of an upload older than this belong to a dead upload
SAMPLE_SIZE = 10
AFTER_EVERY_ID = "\uffff"  # ids are ASCII: every id sorts before this


class SqliteBatchUpload:
    """`BatchUpload` over `batch_staging`. `commit` and `abort` are each safe to call once after
    any failure; a failed `add` makes `commit` refuse, so a batch is never missing a chunk."""

    def __init__(
        self,
        writer: GroupCommitWriter,
        batch: NewBatch,
        clock: Callable[[], float],
        on_commit: Callable[[], None],
    ) -> None:
        self._writer = writer
        self._batch = batch
        self._clock = clock
        self._on_commit = on_commit
        self._staged = 0  # items staged so far
        self._touched = False  # a write to staging was attempted: abort must clean up
        self._broken = False  # an add failed
        self._committed = False

    async def add(self, jobs: Sequence[NewJob]) -> None:
        if self._committed:
            raise RuntimeError(f"batch {self._batch.id} is already committed")
        now = self._clock()
        params = [staging_params(self._batch.id, job, now) for job in jobs]
        self._touched = True
        try:
            await self._writer.run(lambda c: c.executemany(Q["batch_stage"], params))
        except BaseException:
            self._broken = True
            raise
        self._staged += len(params)

    async def commit(self) -> Batch:
        if self._broken:
            raise RuntimeError(f"batch {self._batch.id}: an add failed, the upload is incomplete")
        if self._committed:
            raise RuntimeError(f"batch {self._batch.id} is already committed")
        batch, staged = self._batch, self._staged
        created = await self._writer.run(lambda c: commit(c, batch, staged, self._clock()))
        self._committed = True
        self._on_commit()
        return created

    async def abort(self) -> None:
        if self._committed or not self._touched:
            return
        params = {"batch_id": self._batch.id}
        await self._writer.run(lambda c: c.execute(Q["batch_staging_delete"], params))


def commit(conn: sqlite3.Connection, batch: NewBatch, staged: int, now: float) -> Batch:
    """Move the staged items into `jobs` (queued, in item order) and create the batch."""
    moved = conn.execute(Q["batch_unstage"], {"batch_id": batch.id, "now": now}).rowcount
    if moved != staged:  # the leader dropped the staged rows of an upload that took too long
        raise Conflict(f"batch {batch.id}: the upload expired before it was committed")
    params = {
        "id": batch.id,
        "tenant_id": batch.tenant_id,
        "name": batch.name,
        "max_concurrent": batch.max_concurrent,
        "priority": batch.priority,
        "timeout": batch.timeout,
        "callback_url": batch.callback_url,
        "notification_enabled": int(batch.notification_enabled),
        "now": now,
    }
    conn.execute(Q["batch_insert"], params)
    conn.execute(Q["batch_counts_insert"], {"batch_id": batch.id, "queued": moved})
    usage.count_submitted_batch(conn, batch.tenant_id, now, moved)
    conn.execute(Q["batch_staging_delete"], {"batch_id": batch.id})
    created = get(conn, batch.id, None)
    assert created is not None
    return created


def get(conn: sqlite3.Connection, batch_id: str, tenant_id: str | None) -> Batch | None:
    row = conn.execute(Q["batch_get"], {"id": batch_id, "tenant_id": tenant_id}).fetchone()
    return batch_from_row(row) if row else None


def listed(conn: sqlite3.Connection, query: BatchFilter) -> list[Batch]:
    """Newest first, the page before `query.before_id`."""
    params = {"before_id": query.before_id or AFTER_EVERY_ID, "limit": query.limit}
    if query.tenant_id is None:
        rows = conn.execute(Q["batches_list"], params)
    else:
        rows = conn.execute(Q["batches_list_for_tenant"], {**params, "tenant_id": query.tenant_id})
    return [batch_from_row(row) for row in rows]


def past_deadline(conn: sqlite3.Connection, limit: int, now: float) -> list[Batch]:
    rows = conn.execute(Q["batches_past_deadline"], {"now": now, "limit": limit})
    return [batch_from_row(row) for row in rows]


def set_control(
    conn: sqlite3.Connection,
    batch_id: str,
    tenant_id: str | None,
    target: BatchControl,
    reason: str | None,
    now: float,
) -> BatchChange:
    batch = get(conn, batch_id, tenant_id)
    if batch is None:
        return BatchChange(None, changed=False)
    sources = sorted(control.value for control in CONTROL_SOURCES.get(target, ()))
    params = {"id": batch_id, "target": target.value, "reason": reason, "now": now}
    if conn.execute(Q["batch_set_control"], {**params, "sources": dumps(sources)}).rowcount == 0:
        return BatchChange(batch, changed=False)
    items = 0
    if target is BatchControl.CANCELLED:
        for query in ("batch_cancel_queued", "batch_request_cancel"):
            items += conn.execute(Q[query], {"batch_id": batch_id, **params}).rowcount
    return BatchChange(get(conn, batch_id, None), changed=True, items=items)


def retry_failed(
    conn: sqlite3.Connection, batch_id: str, tenant_id: str | None, now: float
) -> BatchChange:
    batch = get(conn, batch_id, tenant_id)
    if batch is None or batch.control is BatchControl.CANCELLED:
        return BatchChange(batch, changed=False)
    params = {"batch_id": batch_id, "now": now}
    items = conn.execute(Q["batch_retry_failed"], params).rowcount
    if items == 0:
        return BatchChange(batch, changed=False)
    conn.execute(Q["batch_errors_reset"], {"batch_id": batch_id})
    conn.execute(Q["batch_unsettle"], {"id": batch_id})
    return BatchChange(get(conn, batch_id, None), changed=True, items=items)


def item_retried(conn: sqlite3.Connection, batch_id: str, job: Job) -> None:
    """One item of the batch was re-queued: the batch is unfinished again, and the item is no
    longer a sample of the error group it failed in."""
    conn.execute(Q["batch_unsettle"], {"id": batch_id})
    code = job.error.code if job.error is not None else "UNKNOWN"
    conn.execute(Q["batch_errors_resample"], {"batch_id": batch_id, "code": code, "job_id": job.id})


def settle(conn: sqlite3.Connection, limit: int, now: float) -> list[str]:
    """Mark batches with no unfinished items settled; drop the staged rows of dead uploads."""
    conn.execute(Q["batch_staging_expire"], {"before": now - STAGING_TTL})
    return [row[0] for row in conn.execute(Q["batches_settle"], {"now": now, "limit": limit})]


def claim_picks(conn: sqlite3.Connection, types: str, limit: int, now: float) -> str:
    """Ids (JSON) of the queued items that active batches may start now: up to `limit` per
    batch, at most `max_concurrent - running` for a limited one, in claim order. The claim takes
    the best `limit` of these and of the jobs outside batches, in one statement."""
    picked: list[str] = []
    for batch_id, room in conn.execute(Q["batches_with_room"], {"limit": limit}).fetchall():
        params = {"batch_id": batch_id, "types": types, "now": now, "limit": min(room, limit)}
        picked.extend(row[0] for row in conn.execute(Q["batch_claimable_items"], params))
    return dumps(picked)


def error_groups(conn: sqlite3.Connection, batch_id: str, limit: int) -> list[ErrorGroup]:
    """Codes with failed items, biggest first; samples only name items still failed with it."""
    merged: dict[str, tuple[int, list[str], str | None]] = {}
    for code, count, sample, resolution in conn.execute(
        Q["batch_error_rows"], {"batch_id": batch_id}
    ):
        total, ids, first = merged.get(code, (0, [], None))
        merged[code] = (total + count, ids + orjson.loads(sample), first or resolution)
    ranked = sorted((-n, code) for code, (n, _, _) in merged.items() if n > 0)[:limit]
    sampled = sorted({job_id for _, code in ranked for job_id in merged[code][1]})
    failed = dict(conn.execute(Q["jobs_failed_codes"], {"ids": dumps(sampled)}).fetchall())
    groups: list[ErrorGroup] = []
    for _, code in ranked:
        count, ids, resolution = merged[code]
        sample = sorted({job_id for job_id in ids if failed.get(job_id) == code})[:SAMPLE_SIZE]
        groups.append(ErrorGroup(code, count, tuple(sample), resolution))
    return groups


def results(
    conn: sqlite3.Connection, batch_id: str, after_id: str | None, limit: int
) -> list[ItemResult]:
    params = {"batch_id": batch_id, "after_id": after_id or "", "limit": limit}
    return [item_result_from_row(row) for row in conn.execute(Q["batch_results"], params)]
