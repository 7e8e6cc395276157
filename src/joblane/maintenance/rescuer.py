"""Rescue running jobs whose lease ran out: their worker stopped heartbeating.

Heartbeats extend a lease; a worker that dies stops extending it. The rescuer asks the same
retry policy as the worker: another attempt if any are left, otherwise the job fails with
`WORKER_LOST`. Each write is guarded by the stale lease *and* its expiry, so a worker that
heartbeats again in the meantime keeps its job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from joblane.core.job import Job, JobErrorInfo, JobStamp, Lease
from joblane.core.retry import Retry, RetryPolicy
from joblane.core.states import JobState
from joblane.observe.metrics import metrics
from joblane.storage.base import Storage
from joblane.storage.params import Outcome

log = logging.getLogger("joblane.rescuer")

WORKER_LOST = JobErrorInfo(
    code="WORKER_LOST",
    message="the worker running this job stopped heartbeating",
    details={},
    retryable=True,
)


def rescue_outcome(job: Job, policy: RetryPolicy) -> Outcome:
    lease = Lease(job.id, job.lease_token or "")
    if job.cancel_requested:
        return Outcome(lease, JobState.CANCELLED, rescue=True)
    decision = policy.decide(job.attempt, job.max_attempts, retryable=True)
    if isinstance(decision, Retry):
        return Outcome(lease, JobState.QUEUED, error=WORKER_LOST, retry_delay=0.0, rescue=True)
    return Outcome(lease, JobState.FAILED, error=WORKER_LOST, rescue=True)


async def rescue_expired(
    storage: Storage,
    policy: RetryPolicy,
    limit: int = 500,
    on_change: Callable[[JobStamp], None] | None = None,
) -> int:
    expired = await storage.jobs_expired_leases(limit)
    if not expired:
        return 0
    results = await storage.jobs_finish([rescue_outcome(job, policy) for job in expired])
    rescued = [job for job in results if job is not None]
    types = {job.id: job.type for job in expired}
    counter = metrics().rescued
    for job in rescued:
        outcome = "retried" if job.state is JobState.QUEUED else job.state.value
        counter[(types.get(job.id, ""), outcome)].inc()
        log.warning("rescued job %s: now %s (attempt %d)", job.id, job.state, job.attempt)
        if on_change is not None:
            on_change(job)
    return len(rescued)
