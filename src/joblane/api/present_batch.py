"""A batch as the contract shows it on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joblane.api.present_artifact import result_body
from joblane.core.batch import Batch, BatchControl, ErrorGroup, estimated_completion
from joblane.core.clock import to_rfc3339
from joblane.core.estimates import MAX_POLL, MIN_POLL
from joblane.core.job import Job
from joblane.core.states import JobState
from joblane.service.artifacts import LinkSigner
from joblane.storage.params import ItemResult

API_VERSION = "1.0.0"
TERMINAL_CACHE_TTL = 60


@dataclass(frozen=True, slots=True)
class BatchView:
    """What to show besides the batch itself (read from the query string)."""

    request_id: str
    metrics_only: bool = False
    include_errors: bool = True
    fields: frozenset[str] | None = None


def batch_body(
    batch: Batch,
    now: float,
    view: BatchView,
    *,
    errors: list[ErrorGroup] | None = None,
    job_details: list[Job] | None = None,
    job_details_next_cursor: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": batch.id,
        "object": "batch",
        "name": batch.name,
        "status": batch.status.value,
        "status_reason": batch.control_reason,
        "cancel_requested": batch.control is BatchControl.CANCELLED,
        "version": batch.version,
        "progress": progress_body(batch),
        "timing": timing_body(batch, now),
    }
    if not view.metrics_only:
        if job_details is not None:
            body["job_details"] = [job_detail(job) for job in job_details]
            body["job_details_next_cursor"] = job_details_next_cursor
        if view.include_errors:
            body["error_summary"] = [error_group(group) for group in errors or []]
        body["batch_configuration"] = configuration(batch)
    ttl = cache_ttl(batch, now)
    body["metadata"] = {
        "request_id": view.request_id,
        "api_version": API_VERSION,
        "cache_ttl": ttl,
        "cache_remaining": max(0, ttl - int(now - last_change(batch))),
    }
    if view.fields:
        body = {k: v for k, v in body.items() if k in view.fields or k == "id"}
    return body


def progress_body(batch: Batch) -> dict[str, Any]:
    counts = batch.counts
    return {
        "percentage": counts.percentage,
        "completed": counts.completed,
        "failed": counts.failed,
        "pending": counts.queued,
        "processing": counts.running,
        "cancelled": counts.cancelled,
        "total": counts.total,
    }


def timing_body(batch: Batch, now: float) -> dict[str, Any]:
    ended = batch.completed_at
    return {
        "created_at": to_rfc3339(batch.created_at),
        "started_at": to_rfc3339(batch.started_at),
        "updated_at": to_rfc3339(last_change(batch)),
        "completed_at": to_rfc3339(ended),
        "estimated_completion": to_rfc3339(estimated_completion(batch, now)),
        "deadline": to_rfc3339(batch.deadline),
        "elapsed_time": round(max(0.0, (ended or now) - batch.created_at), 3),
        "average_item_time": batch.average_item_time,
    }


def last_change(batch: Batch) -> float:
    return max(t for t in (batch.updated_at, batch.started_at, batch.last_finished_at) if t)


def cache_ttl(batch: Batch, now: float) -> int:
    """Seconds a client should wait before polling again (also the `Retry-After` header)."""
    if batch.terminal:
        return TERMINAL_CACHE_TTL
    eta = estimated_completion(batch, now)
    if eta is None:
        return 2
    return int(min(MAX_POLL, max(MIN_POLL, (eta - now) / 4)))


def configuration(batch: Batch) -> dict[str, Any]:
    return {
        "max_concurrent": batch.max_concurrent,
        "priority": batch.priority,
        "timeout": batch.timeout,
        "callback_url": batch.callback_url,
        "notification_enabled": batch.notification_enabled,
    }


def error_group(group: ErrorGroup) -> dict[str, Any]:
    return {
        "error_type": group.code,
        "count": group.count,
        "affected_jobs": list(group.sample_job_ids),
        "affected_jobs_total": group.count,
        "resolution": group.resolution,
    }


def job_detail(job: Job) -> dict[str, Any]:
    progress = job.progress
    return {
        "job_id": job.id,
        "status": job.state.value,
        "progress": {
            "percentage": 100.0 if job.state is JobState.COMPLETED else progress.percentage,
            "processed": progress.processed,
            "total": progress.total,
            "message": progress.message,
        },
        "metadata": job.metadata,
        "attempt": job.attempt,
        "started_at": to_rfc3339(job.started_at),
        "completed_at": to_rfc3339(job.completed_at or job.failed_at or job.cancelled_at),
        "error": job.error.to_dict() if job.error else None,
    }


def result_line(
    item: ItemResult, links: LinkSigner | None = None, now: float = 0.0
) -> dict[str, Any]:
    line: dict[str, Any] = {"id": item.id, "status": item.state.value}
    if item.state is JobState.COMPLETED:
        line["result"] = result_body(item.id, item.result, links, now)
    elif item.state in (JobState.FAILED, JobState.CANCELLED):
        line["error"] = item.error
    return line
