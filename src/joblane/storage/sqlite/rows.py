"""Converting SQLite rows to domain objects and domain objects to query parameters."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from joblane.core.job import Job, JobErrorInfo, NewJob, Progress
from joblane.core.states import JobState
from joblane.storage.params import ApiKeyRecord, WorkerRecord


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def job_from_row(row: sqlite3.Row) -> Job:
    error = _loads(row["error"])
    return Job(
        id=row["id"],
        tenant_id=row["tenant_id"],
        type=row["type"],
        state=JobState(row["state"]),
        version=row["version"],
        input=json.loads(row["input"]),
        metadata=json.loads(row["metadata"]),
        priority=row["priority"],
        attempt=row["attempt"],
        max_attempts=row["max_attempts"],
        timeout=row["timeout"],
        progress=Progress(
            row["progress_processed"],
            row["progress_total"],
            row["progress_failed"],
            row["progress_message"],
        ),
        result=_loads(row["result"]),
        error=JobErrorInfo.from_dict(error) if error else None,
        batch_id=row["batch_id"],
        idempotency_key=row["idempotency_key"],
        callback_url=row["callback_url"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        scheduled_at=row["scheduled_at"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
        failed_at=row["failed_at"],
        cancelled_at=row["cancelled_at"],
        cancel_requested=bool(row["cancel_requested"]),
        cancel_reason=row["cancel_reason"],
        lease_token=row["lease_token"],
        lease_expires_at=row["lease_expires_at"],
        worker_id=row["worker_id"],
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
