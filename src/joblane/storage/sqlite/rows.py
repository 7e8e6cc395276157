"""Converting SQLite rows to domain objects and domain objects to query parameters."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from joblane.core.job import Job, NewJob
from joblane.core.states import JobState
from joblane.storage.params import ApiKeyRecord, ItemResult, WorkerRecord
from joblane.storage.rowmap import JobReader


def dumps(value: Any) -> str:
    """orjson for every backend: the same bytes, and NaN/Infinity become null everywhere."""
    return orjson.dumps(value).decode()


_READER = JobReader(orjson.loads)


def job_from_row(row: sqlite3.Row) -> Job:
    return _READER.read(row)


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


def staging_params(batch_id: str, job: NewJob, now: float) -> dict[str, Any]:
    """A batch item staged for `batch_id`: it becomes a queued job when the batch commits."""
    return {
        "batch_id": batch_id,
        "id": job.id,
        "tenant_id": job.tenant_id,
        "type": job.type,
        "priority": job.priority,
        "input": dumps(job.input),
        "metadata": dumps(job.metadata),
        "max_attempts": job.max_attempts,
        "timeout": job.timeout,
        "callback_url": job.callback_url,
        "now": now,
    }


def item_result_from_row(row: sqlite3.Row) -> ItemResult:
    id_, state, result, error = row
    return ItemResult(
        id=id_,
        state=JobState(state),
        result=None if result is None else orjson.loads(result),
        error=None if error is None else orjson.loads(error),
    )


def key_from_row(row: sqlite3.Row) -> ApiKeyRecord:
    return _READER.key(row)


def worker_from_row(row: sqlite3.Row) -> WorkerRecord:
    return _READER.worker(row)
