"""Cancelling a running job: cooperative handlers stop, stubborn async handlers are interrupted
after the grace period, and a handler that finishes anyway still ends cancelled."""

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
from worker import fast, get, job_where, running, submit, wait_until

app = Joblane("worker-cancel")

# job id -> what the handler observed; filled in by the handlers below
ENDS: dict[str, str] = {}
# job id -> gate a handler waits for (set by the test)
GATES: dict[str, threading.Event] = {}


class Work(BaseModel):
    seconds: float = 10.0


@app.job_type("coop_async", input=Work)
async def coop_async(inp: Work, ctx: JobContext) -> dict[str, bool]:
    deadline = time.monotonic() + inp.seconds
    try:
        while time.monotonic() < deadline:
            ctx.check_cancelled()
            await asyncio.sleep(0.01)
    except BaseException as exc:
        ENDS[ctx.job_id] = type(exc).__name__
        raise
    ENDS[ctx.job_id] = "ran out"
    return {"done": True}


@app.job_type("coop_sync", input=Work)
def coop_sync(inp: Work, ctx: JobContext) -> dict[str, bool]:
    deadline = time.monotonic() + inp.seconds
    try:
        while time.monotonic() < deadline:
            ctx.check_cancelled()
            time.sleep(0.01)
    except BaseException as exc:
        ENDS[ctx.job_id] = type(exc).__name__
        raise
    ENDS[ctx.job_id] = "ran out"
    return {"done": True}


@app.job_type("stubborn_async", input=Work)
async def stubborn_async(inp: Work, ctx: JobContext) -> dict[str, bool]:
    try:
        await asyncio.sleep(inp.seconds)
    except asyncio.CancelledError:
        ENDS[ctx.job_id] = "interrupted"
        raise
    ENDS[ctx.job_id] = "ran out"
    return {"done": True}


@app.job_type("stubborn_sync", input=Work)
def stubborn_sync(inp: Work, ctx: JobContext) -> dict[str, bool]:
    time.sleep(inp.seconds)  # never looks at ctx
    ENDS[ctx.job_id] = "completed"
    return {"done": True}


@app.job_type("gated", input=Work)
async def gated(inp: Work, ctx: JobContext) -> dict[str, bool]:
    gate = GATES[ctx.job_id]
    ENDS[ctx.job_id] = "started"
    while not gate.is_set():
        await asyncio.sleep(0.01)
    ENDS[ctx.job_id] = "completed"
    return {"done": True}


async def _started(storage: Storage, job_id: str) -> None:
    await job_where(storage, job_id, lambda j: j.state is JobState.RUNNING, what="running")
    await asyncio.sleep(0.05)  # let the handler get going


@pytest.mark.parametrize("type_", ["coop_async", "coop_sync"])
async def test_cooperative_handler_stops_soon_after_cancel(storage: Storage, type_: str) -> None:
    job = await submit(storage, type_, {"seconds": 10})
    worker = Worker(storage, app, fast(cancel_grace=5.0))

    async with running(worker):
        await _started(storage, job.id)
        requested = time.monotonic()
        change = await storage.job_cancel(job.id, None, "no longer needed")
        assert change.changed
        done = await job_where(storage, job.id, lambda j: j.terminal, what="finished")
        elapsed = time.monotonic() - requested

    assert elapsed < 1.0
    assert done.state is JobState.CANCELLED
    assert done.cancel_reason == "no longer needed"
    assert done.cancelled_at is not None
    assert done.result is None
    assert done.lease_token is None
    assert done.attempt == 1
    assert ENDS[job.id] == "JobCancelled"


async def test_async_handler_ignoring_cancel_is_interrupted_after_grace(
    storage: Storage,
) -> None:
    grace = 0.3
    job = await submit(storage, "stubborn_async", {"seconds": 30})
    worker = Worker(storage, app, fast(cancel_grace=grace))

    async with running(worker):
        await _started(storage, job.id)
        requested = time.monotonic()
        await storage.job_cancel(job.id, None, None)
        await asyncio.sleep(grace / 2)
        assert (await get(storage, job.id)).state is JobState.RUNNING  # still in its grace
        done = await job_where(storage, job.id, lambda j: j.terminal, what="finished")
        elapsed = time.monotonic() - requested

    assert grace <= elapsed < grace + 1.5
    assert done.state is JobState.CANCELLED
    assert done.result is None
    assert ENDS[job.id] == "interrupted"


async def test_sync_handler_that_completes_despite_cancel_ends_cancelled(
    storage: Storage,
) -> None:
    job = await submit(storage, "stubborn_sync", {"seconds": 0.5})
    worker = Worker(storage, app, fast(cancel_grace=10.0))

    async with running(worker):
        await _started(storage, job.id)
        await storage.job_cancel(job.id, None, "too late")
        done = await job_where(storage, job.id, lambda j: j.terminal, what="finished")

    assert ENDS[job.id] == "completed"  # the handler ran to its end ...
    assert done.state is JobState.CANCELLED  # ... but cancellation wins
    assert done.result is None
    assert done.completed_at is None


async def test_cancel_the_worker_never_noticed_still_wins(storage: Storage) -> None:
    """run_until_empty does not poll for cancellation: storage keeps the request anyway."""
    job = await submit(storage, "gated")
    GATES[job.id] = threading.Event()
    worker = Worker(storage, app, fast())
    burst = asyncio.create_task(worker.run_until_empty())
    try:
        await wait_until(lambda: ENDS.get(job.id) == "started", what="handler started")
        await storage.job_cancel(job.id, None, "changed my mind")
        GATES[job.id].set()
        assert await asyncio.wait_for(burst, 5.0) == 1
    finally:
        GATES[job.id].set()
        await asyncio.gather(burst, return_exceptions=True)

    assert ENDS[job.id] == "completed"
    done = await get(storage, job.id)
    assert done.state is JobState.CANCELLED
    assert done.result is None


async def test_cancelled_queued_job_never_runs(storage: Storage) -> None:
    job = await submit(storage, "coop_async", {"seconds": 0})
    change = await storage.job_cancel(job.id, None, None)
    assert change.job is not None and change.job.state is JobState.CANCELLED

    assert await Worker(storage, app, fast()).run_until_empty() == 0
    assert job.id not in ENDS
