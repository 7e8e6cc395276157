"""Polling hints derived from a job: when to poll again and when it will likely finish."""

from __future__ import annotations

from joblane.core.job import Job
from joblane.core.states import JobState

MIN_POLL = 1
MAX_POLL = 30


def estimated_completion(job: Job, now: float) -> float | None:
    if job.state is not JobState.RUNNING or job.started_at is None:
        return None
    progress = job.progress
    if not progress.total or progress.processed <= 0:
        return None
    elapsed = max(0.0, now - job.started_at)
    remaining = elapsed * (progress.total - progress.processed) / progress.processed
    return now + max(0.0, remaining)


def retry_after(job: Job, now: float) -> int | None:
    """Seconds a client should wait before polling again; None once the job is terminal."""
    if job.terminal:
        return None
    if job.state is JobState.QUEUED:
        wait = job.scheduled_at - now
        return int(min(MAX_POLL, max(MIN_POLL, wait)))
    eta = estimated_completion(job, now)
    if eta is None:
        return MIN_POLL if now - (job.started_at or now) < 10 else 2
    return int(min(MAX_POLL, max(MIN_POLL, (eta - now) / 4)))
