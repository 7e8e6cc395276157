"""How one run of a handler ends: completed with its output, failed, retried, timed out."""

from __future__ import annotations

import asyncio
import datetime
import time
from typing import Any

import pytest
from pydantic import BaseModel

from joblane import JobContext, JobError, Joblane
from joblane.core.job import JobErrorInfo, Lease
from joblane.core.retry import RetryPolicy
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import Outcome
from joblane.worker.runtime import Worker
from worker import FAST, fast, get, running, submit, wait_until

app = Joblane("worker-outcomes")

# job id -> how a lingering sync handler ended ("cancelled" or "ran out")
LINGER_ENDS: dict[str, str] = {}


class Numbers(BaseModel):
    values: list[int] = []


class Total(BaseModel):
    total: int


class Failing(BaseModel):
    code: str = "BAD_ROW"
    retryable: bool = False


class Pause(BaseModel):
    seconds: float = 10.0


@app.job_type("sum_async", input=Numbers, output=Total)
async def sum_async(inp: Numbers, ctx: JobContext) -> Total:
    await asyncio.sleep(0)
    return Total(total=sum(inp.values))


@app.job_type("sum_sync", input=Numbers, output=Total)
def sum_sync(inp: Numbers, ctx: JobContext) -> dict[str, int]:
    return {"total": sum(inp.values)}  # a dict is validated against the output model


@app.job_type("plain", input=Numbers)
async def plain(inp: Numbers, ctx: JobContext) -> dict[str, Any]:
    return {"values": inp.values, "none": None, "nested": {"ok": True}}


@app.job_type("not_json", input=Numbers)
async def not_json(inp: Numbers, ctx: JobContext) -> dict[str, Any]:
    return {"when": datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC), "tags": {"a"}}


@app.job_type("fail", input=Failing)
def fail(inp: Failing, ctx: JobContext) -> None:
    raise JobError(
        inp.code,
        "row 7 is broken",
        details={"row": 7},
        retryable=inp.retryable,
        resolution="fix row 7",
    )


@app.job_type("crash", input=Numbers)
async def crash(inp: Numbers, ctx: JobContext) -> None:
    raise RuntimeError("secret connection string postgres://admin:hunter2@db")


@app.job_type("bad_output", input=Numbers, output=Total)
def bad_output(inp: Numbers, ctx: JobContext) -> dict[str, str]:
    return {"total": "lots"}


@app.job_type("slow_async", input=Pause)
async def slow_async(inp: Pause, ctx: JobContext) -> dict[str, bool]:
    await asyncio.sleep(inp.seconds)
    return {"slept": True}


@app.job_type("linger_sync", input=Pause)
def linger_sync(inp: Pause, ctx: JobContext) -> dict[str, bool]:
    deadline = time.monotonic() + inp.seconds
    while time.monotonic() < deadline:
        if ctx.cancelled:
            LINGER_ENDS[ctx.job_id] = "cancelled"
            return {"stopped": True}
        time.sleep(0.01)
    LINGER_ENDS[ctx.job_id] = "ran out"
    return {"stopped": False}


def worker(storage: Storage, policy: RetryPolicy | None = None) -> Worker:
    return Worker(storage, app, FAST, policy=policy or RetryPolicy(base=30.0, jitter=False))


@pytest.mark.parametrize("type_", ["sum_async", "sum_sync"])
async def test_handler_output_model_is_stored_as_json(storage: Storage, type_: str) -> None:
    job = await submit(storage, type_, {"values": [1, 2, 3]})

    assert await worker(storage).run_until_empty() == 1

    done = await get(storage, job.id)
    assert done.state is JobState.COMPLETED
    assert done.result == {"total": 6}
    assert done.error is None
    assert done.attempt == 1
    assert done.completed_at is not None
    assert done.lease_token is None
    assert done.lease_expires_at is None


async def test_output_without_model_is_stored_as_returned(storage: Storage) -> None:
    job = await submit(storage, "plain", {"values": [4, 5]})

    assert await worker(storage).run_until_empty() == 1

    done = await get(storage, job.id)
    assert done.state is JobState.COMPLETED
    assert done.result == {"values": [4, 5], "none": None, "nested": {"ok": True}}


async def test_output_that_is_not_json_fails_the_attempt(storage: Storage) -> None:
    job = await submit(storage, "not_json", max_attempts=1)

    assert await worker(storage).run_until_empty() == 1

    done = await get(storage, job.id)
    assert done.state is JobState.FAILED
    assert done.error is not None
    assert done.error.code == "INVALID_OUTPUT"
    assert done.result is None
    assert done.lease_token is None


async def test_job_error_fails_with_its_code_details_and_resolution(storage: Storage) -> None:
    job = await submit(storage, "fail", {"code": "BAD_ROW", "retryable": False}, max_attempts=3)

    assert await worker(storage).run_until_empty() == 1

    done = await get(storage, job.id)
    assert done.state is JobState.FAILED  # not retryable: attempts left do not matter
    assert done.attempt == 1
    assert done.failed_at is not None
    assert done.result is None
    assert done.error is not None
    assert done.error.code == "BAD_ROW"
    assert done.error.message == "row 7 is broken"
    assert done.error.details == {"row": 7}
    assert done.error.retryable is False
    assert done.error.resolution == "fix row 7"


async def test_retryable_error_requeues_with_backoff(storage: Storage) -> None:
    job = await submit(storage, "fail", {"code": "FLAKY", "retryable": True}, max_attempts=3)
    policy = RetryPolicy(base=20.0, jitter=False)  # attempt 1 -> 20 s

    before = storage.now()
    assert await worker(storage, policy).run_until_empty() == 1
    after = storage.now()

    queued = await get(storage, job.id)
    assert queued.state is JobState.QUEUED
    assert queued.attempt == 2
    assert before + 20.0 <= queued.scheduled_at <= after + 20.0
    assert queued.error is not None
    assert queued.error.code == "FLAKY"
    assert queued.error.retryable is True
    assert queued.lease_token is None
    assert queued.worker_id is None
    assert queued.started_at is None
    # not due yet: nothing to claim
    assert await worker(storage, policy).run_until_empty() == 0


async def test_backoff_grows_with_the_attempt(storage: Storage) -> None:
    job = await submit(storage, "fail", {"code": "FLAKY", "retryable": True}, max_attempts=5)
    jobs = await storage.jobs_claim("wrk_setup", ["fail"], 1, 30.0)
    assert [j.id for j in jobs] == [job.id]
    # make this attempt 2 without waiting: requeue with no delay, as the rescuer would
    (requeued,) = await storage.jobs_finish([_requeue_now(jobs[0].id, jobs[0].lease_token or "")])
    assert requeued is not None and requeued.attempt == 2

    before = storage.now()
    assert await worker(storage, RetryPolicy(base=20.0, jitter=False)).run_until_empty() == 1
    after = storage.now()

    queued = await get(storage, job.id)
    assert queued.attempt == 3
    assert before + 40.0 <= queued.scheduled_at <= after + 40.0


async def test_retryable_error_fails_once_attempts_are_exhausted(storage: Storage) -> None:
    job = await submit(storage, "fail", {"code": "FLAKY", "retryable": True}, max_attempts=2)

    ran = await worker(storage, RetryPolicy(base=0.0, jitter=False)).run_until_empty()

    assert ran == 2
    done = await get(storage, job.id)
    assert done.state is JobState.FAILED
    assert done.attempt == 2
    assert done.error is not None
    assert done.error.code == "FLAKY"


async def test_unexpected_exception_fails_with_handler_error_without_its_text(
    storage: Storage,
) -> None:
    job = await submit(storage, "crash", max_attempts=1)

    assert await worker(storage).run_until_empty() == 1

    done = await get(storage, job.id)
    assert done.state is JobState.FAILED
    assert done.error is not None
    assert done.error.code == "HANDLER_ERROR"
    assert done.error.retryable is True
    assert "hunter2" not in done.error.message
    assert "postgres" not in done.error.message
    assert "hunter2" not in str(done.error.details)


async def test_unexpected_exception_with_attempts_left_is_retried(storage: Storage) -> None:
    job = await submit(storage, "crash", max_attempts=3)

    assert await worker(storage).run_until_empty() == 1

    queued = await get(storage, job.id)
    assert queued.state is JobState.QUEUED
    assert queued.attempt == 2
    assert queued.error is not None
    assert queued.error.code == "HANDLER_ERROR"


async def test_output_not_matching_the_model_is_invalid_output(storage: Storage) -> None:
    job = await submit(storage, "bad_output", max_attempts=3)

    assert await worker(storage).run_until_empty() == 1

    done = await get(storage, job.id)
    assert done.state is JobState.FAILED
    assert done.attempt == 1
    assert done.result is None
    assert done.error is not None
    assert done.error.code == "INVALID_OUTPUT"
    assert done.error.details == {"errors": 1}


async def test_input_that_no_longer_validates_is_invalid_input(storage: Storage) -> None:
    job = await submit(storage, "sum_async", {"values": "not a list"}, max_attempts=3)

    assert await worker(storage).run_until_empty() == 1

    done = await get(storage, job.id)
    assert done.state is JobState.FAILED
    assert done.error is not None
    assert done.error.code == "INVALID_INPUT"


async def test_async_handler_running_past_its_timeout_fails_with_timeout(
    storage: Storage,
) -> None:
    job = await submit(storage, "slow_async", {"seconds": 30}, timeout=0.2, max_attempts=1)

    started = time.monotonic()
    assert await worker(storage).run_until_empty() == 1
    elapsed = time.monotonic() - started

    assert 0.2 <= elapsed < 3.0
    done = await get(storage, job.id)
    assert done.state is JobState.FAILED
    assert done.error is not None
    assert done.error.code == "TIMEOUT"
    assert done.error.retryable is True


async def test_sync_handler_past_its_timeout_fails_and_is_told_to_stop(storage: Storage) -> None:
    job = await submit(storage, "linger_sync", {"seconds": 5}, timeout=0.2, max_attempts=1)

    started = time.monotonic()
    assert await worker(storage).run_until_empty() == 1
    assert time.monotonic() - started < 3.0

    done = await get(storage, job.id)
    assert done.state is JobState.FAILED
    assert done.error is not None
    assert done.error.code == "TIMEOUT"
    await wait_until(lambda: job.id in LINGER_ENDS, timeout=2.0, what="handler thread ended")
    assert LINGER_ENDS[job.id] == "cancelled"


async def test_run_until_empty_returns_how_many_jobs_ran(storage: Storage) -> None:
    for values in ([1], [2, 3], [4]):
        await submit(storage, "sum_async", {"values": values})
    await submit(storage, "crash", max_attempts=1)
    await submit(storage, "fail", {"retryable": False})
    w = worker(storage)

    assert await w.run_until_empty() == 5
    assert await w.run_until_empty() == 0
    assert w.processed == 5


def _requeue_now(job_id: str, token: str) -> Outcome:
    error = JobErrorInfo("FLAKY", "first attempt", {}, True)
    return Outcome(Lease(job_id, token), JobState.QUEUED, error=error, retry_delay=0.0)


async def test_idle_worker_wakes_when_a_retry_falls_due(storage: Storage) -> None:
    """The next scheduled job, not the (long) idle poll, decides when an idle worker looks."""
    job = await submit(storage, "fail", {"code": "FLAKY", "retryable": True}, max_attempts=3)
    idle = Worker(storage, app, fast(idle_poll=30.0), policy=RetryPolicy(base=0.4, jitter=False))
    began = time.monotonic()
    async with running(idle):
        states: list[JobState] = []

        async def ended() -> bool:
            states.append((await get(storage, job.id)).state)
            return states[-1] is JobState.FAILED

        while not await ended():
            assert time.monotonic() - began < 5.0, "the retries were not picked up"
            await asyncio.sleep(0.02)
    took = time.monotonic() - began
    final = await get(storage, job.id)

    assert final.attempt == 3
    assert JobState.QUEUED in states
    assert 1.2 <= took < 5.0  # backoffs of 0.4 s and 0.8 s, far below the 30 s idle poll
