"""The concurrency limit, batched claims and graceful shutdown of `Worker.run(stop)`."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from pydantic import BaseModel

from joblane import JobContext, Joblane
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.worker.runtime import Worker
from worker import CountingStorage, fast, get, running, submit, wait_until

app = Joblane("worker-concurrency")


class Gauge:
    """How many handlers run right now, and the most that ever ran at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.done = 0

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1
            self.done += 1


GAUGE = Gauge()
# job id -> attempts that started / what the handler saw at its end
STARTS: dict[str, int] = {}
ENDS: dict[str, str] = {}


class Work(BaseModel):
    seconds: float = 0.15


@app.job_type("slow_async", input=Work)
async def slow_async(inp: Work, ctx: JobContext) -> dict[str, int]:
    GAUGE.enter()
    try:
        await asyncio.sleep(inp.seconds)
    finally:
        GAUGE.leave()
    return {"attempt": ctx.attempt}


@app.job_type("slow_sync", input=Work)
def slow_sync(inp: Work, ctx: JobContext) -> dict[str, int]:
    GAUGE.enter()
    try:
        time.sleep(inp.seconds)
    finally:
        GAUGE.leave()
    return {"attempt": ctx.attempt}


@app.job_type("long_first_run", input=Work)
async def long_first_run(inp: Work, ctx: JobContext) -> dict[str, int]:
    """Slow on its first start, quick on any later start."""
    STARTS[ctx.job_id] = STARTS.get(ctx.job_id, 0) + 1
    if STARTS[ctx.job_id] == 1:
        await asyncio.sleep(inp.seconds)
    return {"starts": STARTS[ctx.job_id]}


@app.job_type("sync_until_told", input=Work)
def sync_until_told(inp: Work, ctx: JobContext) -> dict[str, bool]:
    """A well-behaved sync handler: it stops as soon as it is asked to."""
    STARTS[ctx.job_id] = STARTS.get(ctx.job_id, 0) + 1
    deadline = time.monotonic() + inp.seconds
    while time.monotonic() < deadline:
        if ctx.cancelled:
            ENDS[ctx.job_id] = "told to stop"
            return {"finished": False}
        time.sleep(0.01)
    ENDS[ctx.job_id] = "ran to the end"
    return {"finished": True}


@pytest.fixture(autouse=True)
def fresh_gauge() -> None:
    global GAUGE
    GAUGE = Gauge()


@pytest.mark.parametrize("type_", ["slow_async", "slow_sync"])
async def test_never_more_handlers_than_concurrency(storage: Storage, type_: str) -> None:
    counting = CountingStorage(storage)
    jobs = [await submit(storage, type_, {"seconds": 0.15}) for _ in range(10)]
    worker = Worker(counting.storage, app, fast(concurrency=3))

    async with running(worker):
        await wait_until(lambda: GAUGE.done == 10, what="all ten handlers ran")

    assert GAUGE.peak == 3
    for job in jobs:
        done = await get(storage, job.id)
        assert done.state is JobState.COMPLETED
        assert done.result == {"attempt": 1}
    claimed = [n for n in counting.claims if n]
    assert sum(claimed) == 10
    assert max(counting.claims) <= 3
    assert claimed[0] == 3  # the first claim fills every slot in one call
    assert len(claimed) < 10


async def test_run_until_empty_claims_in_batches(storage: Storage) -> None:
    counting = CountingStorage(storage)
    for _ in range(10):
        await submit(storage, "slow_async", {"seconds": 0.01})
    worker = Worker(counting.storage, app, fast(concurrency=3))

    assert await worker.run_until_empty() == 10

    assert counting.claims == [3, 3, 3, 1, 0]
    assert GAUGE.peak <= 3


async def test_shutdown_waits_for_running_job_within_grace(storage: Storage) -> None:
    job = await submit(storage, "long_first_run", {"seconds": 0.5})
    worker = Worker(storage, app, fast(shutdown_grace=5.0))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await wait_until(lambda: STARTS.get(job.id) == 1, what="handler started")
        stop.set()
        await asyncio.wait_for(asyncio.shield(task), 5.0)
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)

    done = await get(storage, job.id)
    assert done.state is JobState.COMPLETED
    assert done.result == {"starts": 1}
    assert worker.id not in {w.id for w in await storage.workers_alive(60.0)}


async def test_shutdown_after_tiny_grace_releases_job_with_same_attempt(
    storage: Storage,
) -> None:
    job = await submit(storage, "long_first_run", {"seconds": 30})
    first = Worker(storage, app, fast(shutdown_grace=0.05))
    stop = asyncio.Event()
    task = asyncio.create_task(first.run(stop))
    try:
        await wait_until(lambda: STARTS.get(job.id) == 1, what="handler started")
        running_job = await get(storage, job.id)
        assert running_job.state is JobState.RUNNING
        stop.set()
        started = time.monotonic()
        await asyncio.wait_for(asyncio.shield(task), 5.0)
        assert time.monotonic() - started < 2.0
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)

    released = await get(storage, job.id)
    assert released.state is JobState.QUEUED
    assert released.attempt == 1
    assert released.lease_token is None
    assert released.lease_expires_at is None
    assert released.worker_id is None
    assert released.error is None
    assert released.scheduled_at <= storage.now()

    assert await Worker(storage, app, fast()).run_until_empty() == 1
    done = await get(storage, job.id)
    assert done.state is JobState.COMPLETED
    assert done.attempt == 1
    assert done.result == {"starts": 2}


async def test_shutdown_release_of_cancel_requested_job_cancels_it(storage: Storage) -> None:
    job = await submit(storage, "long_first_run", {"seconds": 30})
    # the worker never polls for the request: the release itself must not undo it
    quiet = fast(shutdown_grace=0.05, cancel_check_interval=30.0, lease_seconds=30.0)
    worker = Worker(storage, app, quiet)
    async with running(worker) as stop:
        await wait_until(lambda: STARTS.get(job.id) == 1, what="handler started")
        await storage.job_cancel(job.id, None, "bye")
        stop.set()

    done = await get(storage, job.id)
    assert done.state is JobState.CANCELLED


async def test_shutdown_tells_a_released_sync_handler_to_stop(storage: Storage) -> None:
    job = await submit(storage, "sync_until_told", {"seconds": 1.5})
    worker = Worker(storage, app, fast(shutdown_grace=0.05))
    async with running(worker) as stop:
        await wait_until(lambda: STARTS.get(job.id) == 1, what="handler started")
        stop.set()

    assert (await get(storage, job.id)).state is JobState.QUEUED
    await wait_until(lambda: job.id in ENDS, timeout=3.0, what="handler thread ended")
    assert ENDS[job.id] == "told to stop"
