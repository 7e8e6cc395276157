"""Converting SQLite rows to domain objects and domain objects to query parameters."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from operator import itemgetter
from typing import Any

import orjson

from joblane.core.job import Job, JobErrorInfo, NewJob, Progress
from joblane.core.states import JobState
from joblane.storage.params import ApiKeyRecord, WorkerRecord


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# The job columns in the order `job_from_row` unpacks them; positions are looked up once per
# column layout (every `SELECT *` / `RETURNING *` on jobs shares one), then read by index:
# name lookups on sqlite3.Row cost more than the query itself on the status-read hot path.
_JOB_COLUMNS = (
    "id", "tenant_id", "type", "state", "version", "input", "metadata", "priority", "attempt",
    "max_attempts", "timeout", "progress_processed", "progress_total", "progress_failed",
    "progress_message", "result", "error", "batch_id", "idempotency_key", "callback_url",
    "created_at", "updated_at", "scheduled_at", "started_at", "completed_at", "failed_at",
    "cancelled_at", "cancel_requested", "cancel_reason", "lease_token", "lease_expires_at",
    "worker_id",
)  # fmt: skip
_getters: dict[int, Callable[[sqlite3.Row], tuple[Any, ...]]] = {}


def _job_getter(row: sqlite3.Row) -> Callable[[sqlite3.Row], tuple[Any, ...]]:
    getter = _getters.get(len(row))
    if getter is None:
        names = row.keys()
        getter = itemgetter(*(names.index(column) for column in _JOB_COLUMNS))
        _getters[len(row)] = getter
    return getter


def job_from_row(row: sqlite3.Row) -> Job:
    (
        id_, tenant_id, type_, state, version, input_, metadata, priority, attempt,
        max_attempts, timeout, processed, total, failed, message, result, error, batch_id,
        idempotency_key, callback_url, created_at, updated_at, scheduled_at, started_at,
        completed_at, failed_at, cancelled_at, cancel_requested, cancel_reason, lease_token,
        lease_expires_at, worker_id,
    ) = _job_getter(row)(row)  # fmt: skip
    return Job(
        id=id_,
        tenant_id=tenant_id,
        type=type_,
        state=JobState(state),
        version=version,
        input=orjson.loads(input_),
        metadata=orjson.loads(metadata),
        priority=priority,
        attempt=attempt,
        max_attempts=max_attempts,
        timeout=timeout,
        progress=Progress(processed, total, failed, message),
        result=None if result is None else orjson.loads(result),
        error=JobErrorInfo.from_dict(orjson.loads(error)) if error else None,
        batch_id=batch_id,
        idempotency_key=idempotency_key,
        callback_url=callback_url,
        created_at=created_at,
        updated_at=updated_at,
        scheduled_at=scheduled_at,
        started_at=started_at,
        completed_at=completed_at,
        failed_at=failed_at,
        cancelled_at=cancelled_at,
        cancel_requested=bool(cancel_requested),
        cancel_reason=cancel_reason,
        lease_token=lease_token,
        lease_expires_at=lease_expires_at,
        worker_id=worker_id,
    )


def new_job_params(job: NewJob, now: float) -> dict[str, Any]:
    return {
        "id": job.id,
        "tenant_id": job.tenant_id,
        "type": job.type,
        "priority": job.priority,
        "input": dumps(job.input),
        "metadata": dumps(job.metadata),
        "max_attempts": job.max_attempts,
        "timeout": job.timeout,
        "batch_id": job.batch_id,
        "idempotency_key": job.idempotency_key,
        "callback_url": job.callback_url,
        "now": now,
        "scheduled_at": max(now, job.run_at) if job.run_at is not None else now,
    }


def key_from_row(row: sqlite3.Row) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        prefix=row["prefix"],
        key_hash=row["key_hash"],
        scopes=tuple(json.loads(row["scopes"])),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


def worker_from_row(row: sqlite3.Row) -> WorkerRecord:
    return WorkerRecord(
        id=row["id"],
        hostname=row["hostname"],
        pid=row["pid"],
        types=tuple(json.loads(row["types"])),
        concurrency=row["concurrency"],
        started_at=row["started_at"],
        heartbeat_at=row["heartbeat_at"],
        running=tuple(json.loads(row["running"])),
    )
