"""The `wickson` batch body (seed 001): `data` and `metadata` built from a Joblane batch."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from joblane.api.present_batch import API_VERSION, cache_ttl, last_change
from joblane.compat.profile import JSON
from joblane.compat.wire import IdFormat, Vocabulary, iso
from joblane.core import ids
from joblane.core.batch import Batch, BatchStatus, ErrorGroup, estimated_completion
from joblane.core.job import Job
from joblane.core.states import JobState

BATCH_ID = IdFormat(ids.BATCH, prefix="batch-", what="batch")
JOB_ID = IdFormat(ids.JOB, prefix="job-", what="job")
BATCH_STATUS = Vocabulary(
    BatchStatus,
    {
        BatchStatus.QUEUED: "created",
        BatchStatus.RUNNING: "running",
        BatchStatus.PAUSED: "paused",
        BatchStatus.COMPLETED: "completed",
        BatchStatus.FAILED: "failed",
        BatchStatus.CANCELLED: "cancelled",
    },
)
ITEM_STATUS = Vocabulary(
    JobState,
    {
        JobState.QUEUED: "pending",
        JobState.RUNNING: "processing",
        JobState.COMPLETED: "completed",
        JobState.FAILED: "failed",
        JobState.CANCELLED: "cancelled",
    },
)
MEDIA_TYPES = {
    "image": (".png", ".jpg", ".jpeg", ".gif", ".tiff", ".tif", ".bmp", ".webp"),
    "audio": (".mp3", ".wav", ".flac", ".ogg", ".m4a"),
    "video": (".mp4", ".mov", ".avi", ".mkv", ".webm"),
}


@dataclass(frozen=True, slots=True)
class View:
    """What the query string asked for."""

    include_job_details: bool = False
    metrics_only: bool = False
    include_errors: bool = True
    fields: frozenset[str] | None = None


def data_body(
    batch: Batch,
    now: float,
    view: View,
    items: list[Job] | None,
    errors: list[tuple[ErrorGroup, list[str]]],
) -> JSON:
    data: JSON = {
        "batch_id": BATCH_ID.show(batch.id),
        "batch_name": batch.name,
        "status": BATCH_STATUS(batch.status),
        "progress": progress(batch),
        "timing": timing(batch, now),
    }
    if not view.metrics_only:
        if view.include_job_details:
            details = [job_detail(job, view.include_errors) for job in items or []]
            data["job_details"] = details
        if view.include_errors:
            data["error_summary"] = [error_group(group, files) for group, files in errors]
        data["batch_configuration"] = configuration(batch)
    if view.fields:
        data = {
            key: value for key, value in data.items() if key in view.fields or key == "batch_id"
        }
    return data


def metadata(batch: Batch, now: float, request_id: str) -> JSON:
    ttl = cache_ttl(batch, now)
    return {
        "request_id": request_id,
        "api_version": API_VERSION,
        "cache_ttl": ttl,
        "cache_remaining": max(0, ttl - int(now - last_change(batch))),
    }


def progress(batch: Batch) -> JSON:
    counts = batch.counts
    return {
        "percentage": float(counts.percentage),
        "completed": counts.completed,
        "failed": counts.failed,
        "pending": counts.queued,
        "processing": counts.running,
        "total": counts.total,
    }


def timing(batch: Batch, now: float) -> JSON:
    """`estimated_completion` only while one can be computed (the document's client checks
    for the key before parsing it)."""
    ended = batch.completed_at
    body: JSON = {
        "created_at": iso(batch.created_at),
        "started_at": iso(batch.started_at),
        "updated_at": iso(last_change(batch)),
        "completed_at": iso(ended),
    }
    eta = estimated_completion(batch, now)
    if eta is not None:
        body["estimated_completion"] = iso(eta)
    body["elapsed_time"] = round(max(0.0, (ended or now) - batch.created_at), 1)
    body["average_item_time"] = batch.average_item_time
    return body


def configuration(batch: Batch) -> JSON:
    return {
        "max_concurrent": batch.max_concurrent,
        "priority": priority_word(batch.priority),
        "timeout": None if batch.timeout is None else int(batch.timeout),
        "notification_enabled": batch.notification_enabled,
    }


PRIORITIES = {"low": -10, "normal": 0, "high": 10}


def priority_word(priority: int) -> str:
    return "high" if priority > 0 else "low" if priority < 0 else "normal"


def file_path(job: Job) -> str:
    for source in (job.metadata, job.input):
        value = source.get("file_path")
        if isinstance(value, str) and value:
            return value
    return JOB_ID.show(job.id)


def media_type(job: Job) -> str:
    given = job.metadata.get("media_type")
    if given:
        return given
    extension = posixpath.splitext(file_path(job))[1].lower()
    return next((kind for kind, exts in MEDIA_TYPES.items() if extension in exts), "document")


def job_detail(job: Job, with_error: bool = True) -> JSON:
    percentage = 100.0 if job.state is JobState.COMPLETED else job.progress.percentage or 0.0
    detail: JSON = {
        "job_id": JOB_ID.show(job.id),
        "file_path": file_path(job),
        "media_type": media_type(job),
        "status": ITEM_STATUS(job.state),
        "progress": float(percentage),
        "started_at": iso(job.started_at),
        "completed_at": iso(job.completed_at or job.failed_at or job.cancelled_at),
    }
    if job.error is not None and with_error:
        detail["error"] = {
            "message": job.error.message,
            "code": job.error.code.lower(),
            "details": job.error.details,
        }
    return detail


def error_group(group: ErrorGroup, files: list[str]) -> JSON:
    return {
        "error_type": group.code.lower(),
        "count": group.count,
        "affected_files": files,
        "resolution": group.resolution or "",
    }


def success(message: str, data: Any, meta: JSON) -> JSON:
    return {"success": True, "message": message, "data": data, "metadata": meta}
