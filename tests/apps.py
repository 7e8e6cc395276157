"""Job types used by tests (importable as `apps:app` by spawned processes, with tests/ on
PYTHONPATH)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from pydantic import BaseModel

from joblane import JobContext, JobError, Joblane

app = Joblane("tests")


class Empty(BaseModel):
    pass


class Echo(BaseModel):
    value: int = 0


class Sleep(BaseModel):
    seconds: float = 0.1
    marker_dir: str | None = None


class Fail(BaseModel):
    code: str = "BOOM"
    retryable: bool = False


@app.job_type("noop", input=Empty)
async def noop(inp: Empty, ctx: JobContext) -> dict[str, bool]:
    return {"ok": True}


@app.job_type("echo", input=Echo, output=Echo)
def echo(inp: Echo, ctx: JobContext) -> Echo:
    return Echo(value=inp.value)


@app.job_type("nap", input=Sleep, max_attempts=3)
async def nap(inp: Sleep, ctx: JobContext) -> dict[str, float]:
    """Sleeps; if marker_dir is set, records each start and completion as files (side effects
    that acceptance tests count)."""
    if inp.marker_dir:
        Path(inp.marker_dir, f"start-{ctx.job_id}-{ctx.attempt}-{os.getpid()}").touch()
    deadline = time.monotonic() + inp.seconds
    while (left := deadline - time.monotonic()) > 0:
        ctx.check_cancelled()
        await asyncio.sleep(min(0.02, left))
    if inp.marker_dir:
        Path(inp.marker_dir, f"done-{ctx.job_id}").touch()
    return {"slept": inp.seconds}


@app.job_type("fail", input=Fail, max_attempts=2)
def fail(inp: Fail, ctx: JobContext) -> None:
    raise JobError(inp.code, "failed on purpose", details={"n": 1}, retryable=inp.retryable)


@app.job_type("crash", input=Empty, max_attempts=1)
def crash(inp: Empty, ctx: JobContext) -> None:
    raise RuntimeError("secret internal detail /etc/passwd")


# -- batches -----------------------------------------------------------------------------------
FORMAT_ERROR = "FORMAT_ERROR"
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
LOOKUP_FAILED = "LOOKUP_FAILED"
# resolutions the handler puts in its errors; LOOKUP_FAILED gets its hint from the registration
ERROR_RESOLUTIONS = {
    FORMAT_ERROR: "Ensure file is in a supported format",
    QUOTA_EXCEEDED: "Wait for the quota to reset or raise it",
}
BATCH_ITEM_HINTS = {LOOKUP_FAILED: "Check that the record exists upstream"}


class BatchItemInput(BaseModel):
    index: int
    seconds: float = 0.0
    fail: str | None = None  # an error code to fail with (after sleeping)


@app.job_type("batch_item", input=BatchItemInput, max_attempts=1, resolutions=BATCH_ITEM_HINTS)
async def batch_item(inp: BatchItemInput, ctx: JobContext) -> dict[str, float | int]:
    """Sleeps `seconds` (cancellable), then fails with `fail` or returns its index, its process
    and when it started and ended (wall clock, comparable across worker processes)."""
    started = time.time()
    deadline = time.monotonic() + inp.seconds
    while (left := deadline - time.monotonic()) > 0:
        ctx.check_cancelled()
        await asyncio.sleep(min(0.02, left))
    if inp.fail:
        raise JobError(
            inp.fail,
            f"item {inp.index} failed on purpose",
            details={"index": inp.index},
            resolution=ERROR_RESOLUTIONS.get(inp.fail),
        )
    return {"index": inp.index, "pid": os.getpid(), "started": started, "ended": time.time()}


# -- client SDK / CLI (progress bars, event streams) ----------------------------------------------
class TickerInput(BaseModel):
    steps: int = 10
    step_seconds: float = 0.1


@app.job_type("ticker", input=TickerInput, max_attempts=1)
async def ticker(inp: TickerInput, ctx: JobContext) -> dict[str, int]:
    """Reports progress `steps` times, `step_seconds` apart (cancellable)."""
    ctx.progress(processed=0, total=inp.steps, message="starting")
    for step in range(1, inp.steps + 1):
        ctx.check_cancelled()
        await asyncio.sleep(inp.step_seconds)
        ctx.progress(processed=step, message=f"step {step} of {inp.steps}")
    return {"steps": inp.steps}


# -- dashboard browser tests -----------------------------------------------------------------------
class FlakyInput(BaseModel):
    fail_attempts: int = 1  # the attempts (from the first) that fail; later ones succeed
    seconds: float = 0.0  # how long a succeeding attempt runs (cancellable)


@app.job_type("flaky", input=FlakyInput, max_attempts=1)
async def flaky(inp: FlakyInput, ctx: JobContext) -> dict[str, int]:
    """Fails its first `fail_attempts` attempts at once (not retryable: one attempt each, so a
    manual retry is what brings it back), then runs `seconds` and completes with the attempt."""
    if ctx.attempt <= inp.fail_attempts:
        raise JobError("FLAKY", f"attempt {ctx.attempt} failed on purpose", retryable=False)
    deadline = time.monotonic() + inp.seconds
    while (left := deadline - time.monotonic()) > 0:
        ctx.check_cancelled()
        await asyncio.sleep(min(0.02, left))
    return {"attempt": ctx.attempt}
