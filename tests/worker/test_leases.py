"""Leases: heartbeats keep a long job's lease alive; a worker that lost its job (rescued and
claimed by another worker) cannot overwrite what the new owner wrote."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence

from pydantic import BaseModel

from joblane import JobCancelled, JobContext, Joblane
from joblane.core.job import Lease, Progress
from joblane.core.retry import RetryPolicy
from joblane.core.states import JobState
from joblane.maintenance.rescuer import rescue_expired
from joblane.storage.base import Storage
from joblane.storage.params import HeartbeatResult, Outcome, ProgressUpdate
from joblane.worker.runtime import Worker
from worker import (
    CountingStorage,
    fast,
    get,
    job_where,
    running,
    submit,
    wait_lease_expired,
    wait_until,
)

app = Joblane("worker-leases")

STARTS: dict[str, list[int]] = {}  # job id -> attempts that started
GATES: dict[str, threading.Event] = {}
ENDS: dict[str, str] = {}


class MutedHeartbeats(CountingStorage):
    """A worker cut off from storage for its heartbeats only, while `muted` is set."""

    muted = False

    async def jobs_heartbeat(
        self, leases: Sequence[Lease], lease_seconds: float
    ) -> HeartbeatResult:
        if self.muted:
            return HeartbeatResult(frozenset(), frozenset())
        return await super().jobs_heartbeat(leases, lease_seconds)


class Work(BaseModel):
    seconds: float = 1.0


@app.job_type("long", input=Work)
async def long(inp: Work, ctx: JobContext) -> dict[str, int]:
    STARTS.setdefault(ctx.job_id, []).append(ctx.attempt)
    await asyncio.sleep(inp.seconds)
    return {"attempt": ctx.attempt}


@app.job_type("first_attempt_hangs", input=Work)
async def first_attempt_hangs(inp: Work, ctx: JobContext) -> dict[str, int]:
    STARTS.setdefault(ctx.job_id, []).append(ctx.attempt)
    if ctx.attempt == 1:
        ctx.progress(1, 10, message="first worker")
        while not GATES[ctx.job_id].is_set():
            await asyncio.sleep(0.01)
    return {"attempt": ctx.attempt}


@app.job_type("cooperative", input=Work)
async def cooperative(inp: Work, ctx: JobContext) -> dict[str, int]:
    STARTS.setdefault(ctx.job_id, []).append(ctx.attempt)
    if ctx.attempt == 1:
        try:
            for _ in range(int(inp.seconds * 100)):
                ctx.check_cancelled()
                await asyncio.sleep(0.01)
        except JobCancelled:
            ENDS[ctx.job_id] = "stopped"
            raise
    return {"attempt": ctx.attempt}


async def test_heartbeats_keep_a_long_job_from_being_rescued(storage: Storage) -> None:
    counting = CountingStorage(storage)
    job = await submit(storage, "long", {"seconds": 1.0})
    worker = Worker(counting.storage, app, fast(lease_seconds=0.3))
    rescued = 0
    leases: list[float] = []

    async def rescuer() -> None:
        nonlocal rescued
        while True:
            rescued += await rescue_expired(storage, RetryPolicy())
            current = await get(storage, job.id)
            if current.lease_expires_at is not None:
                leases.append(current.lease_expires_at)
            await asyncio.sleep(0.03)

    background = asyncio.create_task(rescuer())
    try:
        async with running(worker):
            done = await job_where(storage, job.id, lambda j: j.terminal, what="finished")
    finally:
        background.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await background

    assert rescued == 0
    assert done.state is JobState.COMPLETED
    assert done.attempt == 1
    assert done.result == {"attempt": 1}
    assert STARTS[job.id] == [1]
    assert done.started_at is not None
    assert max(leases) > done.started_at + 0.3 + 0.5  # the lease moved forward
    assert counting.heartbeat_calls >= 3


async def test_worker_whose_job_was_rescued_cannot_overwrite_it(storage: Storage) -> None:
    job = await submit(storage, "first_attempt_hangs", max_attempts=3)
    GATES[job.id] = threading.Event()
    # burst mode sends no heartbeats: the first worker's lease simply runs out
    first = CountingStorage(storage)
    first_worker = Worker(first.storage, app, fast(lease_seconds=0.2))
    burst = asyncio.create_task(first_worker.run_until_empty())
    try:
        await wait_until(lambda: STARTS.get(job.id) == [1], what="first attempt started")
        await wait_lease_expired(storage, job.id)
        assert await rescue_expired(storage, RetryPolicy()) == 1
        rescued = await get(storage, job.id)
        assert rescued.state is JobState.QUEUED
        assert rescued.attempt == 2

        assert await Worker(storage, app, fast()).run_until_empty() == 1
        second = await get(storage, job.id)
        assert second.state is JobState.COMPLETED
        assert second.result == {"attempt": 2}

        GATES[job.id].set()  # now the first worker finishes, late
        assert await asyncio.wait_for(burst, 5.0) == 1
    finally:
        GATES[job.id].set()
        await asyncio.gather(burst, return_exceptions=True)

    assert STARTS[job.id] == [1, 2]
    ((outcome, result),) = first.finished
    assert outcome.state is JobState.COMPLETED
    assert result is None  # the late finish was refused
    assert await get(storage, job.id) == second  # not a field changed, not even the version


async def test_worker_that_learns_its_lease_was_lost_stops_its_handler(
    storage: Storage,
) -> None:
    job = await submit(storage, "cooperative", {"seconds": 10}, max_attempts=3)
    first = MutedHeartbeats(storage)
    # concurrency 1: busy with attempt 1, the first worker cannot claim the rescued job itself
    first_worker = Worker(first.storage, app, fast(lease_seconds=0.3, concurrency=1))
    async with running(first_worker):
        await wait_until(lambda: STARTS.get(job.id) == [1], what="first attempt started")
        first.muted = True
        await wait_lease_expired(storage, job.id)
        assert await rescue_expired(storage, RetryPolicy()) == 1
        assert await Worker(storage, app, fast()).run_until_empty() == 1
        second = await get(storage, job.id)
        assert second.state is JobState.COMPLETED
        first.muted = False  # the next heartbeat tells the first worker its lease is gone

        await wait_until(lambda: job.id in ENDS, timeout=3.0, what="first handler stopped")
        await wait_until(lambda: bool(first.finished), timeout=3.0, what="late finish")

    assert ENDS[job.id] == "stopped"
    ((_, result),) = first.finished
    assert result is None
    assert await get(storage, job.id) == second
    assert STARTS[job.id] == [1, 2]


async def test_writes_with_a_stale_lease_are_refused(storage: Storage) -> None:
    job = await submit(storage, "long", max_attempts=3)
    (old,) = await storage.jobs_claim("wrk_old", ["long"], 1, 0.1)
    stale = Lease(job.id, old.lease_token or "")
    await wait_lease_expired(storage, job.id)
    assert await rescue_expired(storage, RetryPolicy()) == 1
    (new,) = await storage.jobs_claim("wrk_new", ["long"], 1, 30.0)
    assert new.lease_token != old.lease_token
    before = await get(storage, job.id)

    beat = await storage.jobs_heartbeat([stale], 30.0)
    lost = await storage.jobs_progress([ProgressUpdate(stale, Progress(5, 10))])
    finished = await storage.jobs_finish([Outcome(stale, JobState.COMPLETED, result={"x": 1})])

    assert beat.lost == frozenset({job.id})
    assert lost == frozenset({job.id})
    assert finished == [None]
    after = await get(storage, job.id)
    assert after == before
    assert after.state is JobState.RUNNING
    assert after.worker_id == "wrk_new"
