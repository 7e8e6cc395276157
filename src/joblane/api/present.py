"""A job as the contract shows it on the wire."""

from __future__ import annotations

from typing import Any

from joblane.api.present_artifact import result_body
from joblane.core.clock import to_rfc3339
from joblane.core.estimates import estimated_completion, retry_after
from joblane.core.job import Job
from joblane.core.states import JobState
from joblane.service.artifacts import LinkSigner


def job_body(
    job: Job,
    now: float,
    *,
    include_input: bool = False,
    waiting_reason: str | None = None,
    fields: frozenset[str] | None = None,
    links: LinkSigner | None = None,
) -> dict[str, Any]:
    progress = job.progress
    body: dict[str, Any] = {
        "id": job.id,
        "object": "job",
        "type": job.type,
        "status": job.state.value,
        "version": job.version,
        "progress": {
            "percentage": 100.0 if job.state is JobState.COMPLETED else progress.percentage,
            "total": progress.total,
            "processed": progress.processed,
            "failed": progress.failed,
            "message": progress.message,
        },
        "metadata": job.metadata,
        "result": result_body(job.id, job.result, links, now)
        if job.state is JobState.COMPLETED
        else None,
        "error": job.error.to_dict() if job.error else None,
        "attempt": job.attempt,
        "max_attempts": job.max_attempts,
        "priority": job.priority,
        "timeout": job.timeout,
        "batch_id": job.batch_id,
        "idempotency_key": job.idempotency_key,
        "callback_url": job.callback_url,
        "cancel_requested": job.cancel_requested,
        "cancel_reason": job.cancel_reason,
        "created_at": to_rfc3339(job.created_at),
        "updated_at": to_rfc3339(job.updated_at),
        "scheduled_at": to_rfc3339(job.scheduled_at),
        "started_at": to_rfc3339(job.started_at),
        "completed_at": to_rfc3339(job.completed_at),
        "failed_at": to_rfc3339(job.failed_at),
        "cancelled_at": to_rfc3339(job.cancelled_at),
        "estimated_completion": to_rfc3339(estimated_completion(job, now)),
        "retry_after": retry_after(job, now),
        "queue_position": None,
        "waiting_reason": waiting_reason,
    }
    if include_input:
        body["input"] = job.input
    if fields:
        body = {key: value for key, value in body.items() if key in fields or key == "id"}
    return body
