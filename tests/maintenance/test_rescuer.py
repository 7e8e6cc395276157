"""`rescue_expired`: jobs whose worker stopped heartbeating go back to the queue (or fail, or
end cancelled); jobs whose lease is alive are left alone."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel

from joblane import JobContext, Joblane
from joblane.core.job import Job, JobStamp, Lease
from joblane.core.retry import RetryPolicy
from joblane.core.states import JobState
from joblane.maintenance.rescuer import rescue_expired, rescue_outcome
from joblane.storage.base import Storage
from joblane.worker.runtime import Worker
from worker import fast, get, submit, wait_lease_expired

app = Joblane("maintenance-rescuer")
RUNS: dict[str, list[int]] = {}  # job id -> attempts the handler ran


class Empty(BaseModel):
    pass


@app.job_type("count_runs", input=Empty)
async def count_runs(inp: Empty, ctx: JobContext) -> dict[str, int]:
    RUNS.setdefault(ctx.job_id, []).append(ctx.attempt)
    return {"attempt": ctx.attempt}


async def claim_and_abandon(storage: Storage, max_attempts: int = 3, lease: float = 0.1) -> Job:
    """A job claimed by a worker that then died: it never heartbeats."""
    job = await submit(storage, "count_runs", max_attempts=max_attempts)
    (claimed,) = await storage.jobs_claim("wrk_dead", ["count_runs"], 1, lease)
    assert claimed.id == job.id
    return claimed


async def test_expired_job_is_queued_again_with_worker_lost(storage: Storage) -> None:
    claimed = await claim_and_abandon(storage)
    await wait_lease_expired(storage, claimed.id)

    assert await rescue_expired(storage, RetryPolicy(base=60.0)) == 1

    job = await get(storage, claimed.id)
    assert job.state is JobState.QUEUED
    assert job.attempt == 2
    assert job.error is not None
    assert job.error.code == "WORKER_LOST"
    assert job.error.retryable is True
    assert job.scheduled_at <= storage.now()  # rescued jobs are due at once
    assert job.lease_token is None
    assert job.worker_id is None
    assert await rescue_expired(storage, RetryPolicy()) == 0


async def test_expired_job_on_its_last_attempt_fails_with_worker_lost(storage: Storage) -> None:
    claimed = await claim_and_abandon(storage, max_attempts=1)
    await wait_lease_expired(storage, claimed.id)

    assert await rescue_expired(storage, RetryPolicy()) == 1

    job = await get(storage, claimed.id)
    assert job.state is JobState.FAILED
    assert job.attempt == 1
    assert job.error is not None
    assert job.error.code == "WORKER_LOST"
    assert job.failed_at is not None
    assert job.lease_token is None


async def test_expired_job_with_cancel_requested_ends_cancelled(storage: Storage) -> None:
    claimed = await claim_and_abandon(storage)
    change = await storage.job_cancel(claimed.id, None, "stop it")
    assert change.job is not None and change.job.state is JobState.RUNNING
    await wait_lease_expired(storage, claimed.id)

    assert await rescue_expired(storage, RetryPolicy()) == 1

    job = await get(storage, claimed.id)
    assert job.state is JobState.CANCELLED
    assert job.cancelled_at is not None
    assert job.cancel_reason == "stop it"
    assert job.attempt == 1


async def test_live_lease_is_not_rescued(storage: Storage) -> None:
    claimed = await claim_and_abandon(storage, lease=30.0)

    assert await rescue_expired(storage, RetryPolicy()) == 0
    assert (await get(storage, claimed.id)).state is JobState.RUNNING


async def test_lease_renewed_by_a_heartbeat_is_not_rescued(storage: Storage) -> None:
    claimed = await claim_and_abandon(storage, lease=0.3)
    lease = Lease(claimed.id, claimed.lease_token or "")
    beat = await storage.jobs_heartbeat([lease], 5.0)
    assert beat.lost == frozenset()
    assert claimed.lease_expires_at is not None
    while storage.now() <= claimed.lease_expires_at + 0.05:  # past the original expiry
        await asyncio.sleep(0.02)

    assert await rescue_expired(storage, RetryPolicy()) == 0

    job = await get(storage, claimed.id)
    assert job.state is JobState.RUNNING
    assert job.lease_token == claimed.lease_token


async def test_heartbeat_between_scan_and_rescue_keeps_the_job(storage: Storage) -> None:
    """The rescue write re-checks the expiry: a worker that heartbeats in time keeps its job."""
    claimed = await claim_and_abandon(storage)
    await wait_lease_expired(storage, claimed.id)
    (expired,) = await storage.jobs_expired_leases(10)
    await storage.jobs_heartbeat([Lease(claimed.id, claimed.lease_token or "")], 5.0)

    assert await storage.jobs_finish([rescue_outcome(expired, RetryPolicy())]) == [None]
    job = await get(storage, claimed.id)
    assert job.state is JobState.RUNNING
    assert job.attempt == 1


async def test_rescue_respects_limit_and_reports_changes(storage: Storage) -> None:
    abandoned = [await claim_and_abandon(storage) for _ in range(3)]
    for job in abandoned:
        await wait_lease_expired(storage, job.id)
    seen: list[JobStamp] = []

    assert await rescue_expired(storage, RetryPolicy(), limit=2, on_change=seen.append) == 2
    assert await rescue_expired(storage, RetryPolicy(), limit=2, on_change=seen.append) == 1

    assert sorted(j.id for j in seen) == sorted(j.id for j in abandoned)
    assert all(j.state is JobState.QUEUED and j.attempt == 2 for j in seen)


async def test_rescued_job_runs_to_completion_exactly_once(storage: Storage) -> None:
    claimed = await claim_and_abandon(storage)
    await wait_lease_expired(storage, claimed.id)
    assert await rescue_expired(storage, RetryPolicy()) == 1

    worker = Worker(storage, app, fast())
    assert await worker.run_until_empty() == 1
    assert await worker.run_until_empty() == 0
    assert await rescue_expired(storage, RetryPolicy()) == 0

    job = await get(storage, claimed.id)
    assert job.state is JobState.COMPLETED
    assert job.attempt == 2
    assert job.result == {"attempt": 2}
    assert RUNS[claimed.id] == [2]
