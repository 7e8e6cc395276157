"""Progress: handlers report as often as they like; the worker writes the latest value a few
times a second, and the final value on finish."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import BaseModel

from joblane import JobContext, JobError, Joblane
from joblane.core.job import Progress
from joblane.core.retry import RetryPolicy
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.worker.runtime import Worker
from worker import CountingStorage, fast, get, job_where, running, submit

app = Joblane("worker-progress")


class Count(BaseModel):
    n: int = 10_000
    seconds: float = 0.8


class Partial(BaseModel):
    retryable: bool = False


@app.job_type("count_sync", input=Count)
def count_sync(inp: Count, ctx: JobContext) -> dict[str, int]:
    step = inp.n // 100
    for i in range(1, inp.n + 1):
        ctx.progress(processed=i, total=inp.n, failed=i // 10, message=f"item {i}")
        if i % step == 0:
            time.sleep(inp.seconds / 100)
    return {"done": inp.n}


@app.job_type("count_async", input=Count)
async def count_async(inp: Count, ctx: JobContext) -> dict[str, int]:
    step = inp.n // 100
    for i in range(1, inp.n + 1):
        ctx.progress(processed=i, total=inp.n, failed=i // 10, message=f"item {i}")
        if i % step == 0:
            await asyncio.sleep(inp.seconds / 100)
    return {"done": inp.n}


@app.job_type("partial", input=Partial)
def partial(inp: Partial, ctx: JobContext) -> None:
    ctx.progress(3, 10, failed=1, message="three of ten")
    raise JobError("HALFWAY", "stopped at 3", retryable=inp.retryable)


@pytest.mark.parametrize("type_", ["count_sync", "count_async"])
async def test_frequent_progress_is_coalesced_and_visible_while_running(
    storage: Storage, type_: str
) -> None:
    counting = CountingStorage(storage)
    n = 10_000
    job = await submit(storage, type_, {"n": n, "seconds": 0.8})
    worker = Worker(counting.storage, app, fast(progress_interval=0.2))

    async with running(worker):
        mid = await job_where(
            storage,
            job.id,
            lambda j: j.state is JobState.RUNNING and j.progress.processed > 0,
            what="running with progress",
        )
        done = await job_where(storage, job.id, lambda j: j.terminal, what="finished")

    assert 0 < mid.progress.processed < n
    assert mid.progress.total == n
    assert mid.progress.message == f"item {mid.progress.processed}"
    assert done.state is JobState.COMPLETED
    assert done.progress == Progress(n, n, n // 10, f"item {n}")
    writes = counting.progress_writes(job.id)
    assert 2 <= writes <= 10, f"{writes} progress writes for {n} reports"


async def test_progress_of_a_failed_attempt_is_kept(storage: Storage) -> None:
    job = await submit(storage, "partial", {"retryable": False})

    assert await Worker(storage, app, fast()).run_until_empty() == 1

    done = await get(storage, job.id)
    assert done.state is JobState.FAILED
    assert done.progress == Progress(3, 10, 1, "three of ten")


async def test_progress_is_reset_when_the_job_is_queued_for_another_attempt(
    storage: Storage,
) -> None:
    counting = CountingStorage(storage)
    job = await submit(storage, "partial", {"retryable": True}, max_attempts=3)
    worker = Worker(counting.storage, app, fast(), policy=RetryPolicy(base=30.0, jitter=False))

    assert await worker.run_until_empty() == 1

    queued = await get(storage, job.id)
    assert queued.state is JobState.QUEUED
    assert queued.attempt == 2
    assert queued.progress == Progress()
    assert counting.progress_writes(job.id) == 0
