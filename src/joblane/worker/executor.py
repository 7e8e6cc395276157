"""Run one job: validate input, call the handler with a timeout, turn what happened into an
`Outcome` (completed, failed, cancelled or queued again for a retry)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from concurrent.futures import Executor
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from joblane.app import JobType
from joblane.core.artifact import REF_KEY, is_reserved_output
from joblane.core.errors import JobCancelled, JobError
from joblane.core.job import Job, JobErrorInfo, Lease
from joblane.core.retry import Retry, RetryPolicy
from joblane.core.states import JobState
from joblane.service.artifact_store import ArtifactTooLarge
from joblane.storage.params import Outcome
from joblane.worker.context import JobContext

log = logging.getLogger("joblane.worker")


class _Failure(Exception):
    def __init__(self, info: JobErrorInfo) -> None:
        super().__init__(info.message)
        self.info = info


async def execute(
    job_type: JobType, ctx: JobContext, threads: Executor, policy: RetryPolicy
) -> Outcome:
    job = ctx.job
    lease = Lease(job.id, job.lease_token or "")
    try:
        result = await _store(ctx, await _call(job_type, ctx, threads))
    except (JobCancelled, asyncio.CancelledError):
        _stop_writes(ctx)
        if ctx.cancel_requested:
            return Outcome(lease, JobState.CANCELLED)
        if ctx.timed_out:  # the worker's deadline sweep interrupted it
            message = f"handler ran longer than {job.timeout:g}s"
            return _failed(lease, job, _info("TIMEOUT", message, retryable=True), policy)
        raise  # stopped by the worker itself (shutdown, lost lease)
    except _Failure as failure:
        _stop_writes(ctx)
        if ctx.cancel_requested:  # cancellation wins over whatever the handler did after it
            return Outcome(lease, JobState.CANCELLED)
        return _failed(lease, job, failure.info, policy)
    if ctx.cancel_requested:
        return Outcome(lease, JobState.CANCELLED)
    return Outcome(lease, JobState.COMPLETED, result=result)


async def _call(job_type: JobType, ctx: JobContext, threads: Executor) -> Any:
    job = ctx.job
    try:
        data = job_type.input_model.model_validate(job.input)
    except ValidationError as exc:
        message = f"input no longer valid: {exc.error_count()} errors"
        raise _Failure(_info("INVALID_INPUT", message)) from None
    try:
        output = await _invoke(job_type, data, ctx, threads)
        if ctx.artifacts is not None:
            await ctx.artifacts.settle()  # files it started and did not wait for
    except JobError as exc:
        raise _Failure(_from_job_error(exc)) from exc
    except (JobCancelled, asyncio.CancelledError):
        raise
    except Exception as exc:
        ctx.logger.exception("handler raised %s", type(exc).__name__)
        raise _Failure(
            _info("HANDLER_ERROR", f"handler raised {type(exc).__name__}", True)
        ) from exc
    return _dump_output(job_type, output)


async def _store(ctx: JobContext, result: Any) -> Any:
    """The result, stored as a file when it is over the inline limit (a reference instead)."""
    if ctx.artifacts is None or ctx.cancel_requested:  # a cancelled job keeps no result
        return result
    try:
        return await ctx.artifacts.spill(result)
    except (JobCancelled, asyncio.CancelledError):
        raise
    except ArtifactTooLarge as exc:
        raise _Failure(_info("RESULT_TOO_LARGE", exc.message)) from None
    except Exception as exc:
        ctx.logger.exception("storing the result failed")
        message = f"storing the result failed: {type(exc).__name__}"
        raise _Failure(_info("ARTIFACT_WRITE_FAILED", message, retryable=True)) from exc


def _stop_writes(ctx: JobContext) -> None:
    if ctx.artifacts is not None:
        ctx.artifacts.cancel_pending()


async def _invoke(job_type: JobType, data: BaseModel, ctx: JobContext, threads: Executor) -> Any:
    if job_type.is_async:
        return await job_type.handler(data, ctx)
    # the job's context (its log scope, its trace) goes with it into the thread
    thread = threads.submit(contextvars.copy_context().run, job_type.handler, data, ctx)
    ctx.thread = thread  # the worker keeps the slot until the thread returns, whatever happens
    return await asyncio.wrap_future(thread)


def _dump_output(job_type: JobType, output: Any) -> Any:
    model = job_type.output_model
    try:
        if model is not None:
            output = model.model_validate(output, from_attributes=True)
        if isinstance(output, BaseModel):
            return output.model_dump(mode="json")
    except ValidationError as exc:
        message = f"handler output does not match {model.__name__ if model else 'its model'}"
        details = {"errors": exc.error_count()}
        raise _Failure(_info("INVALID_OUTPUT", message, details=details)) from None
    if is_reserved_output(output):  # only the worker makes artifact references
        message = f"handler output may not have the key {REF_KEY!r}"
        raise _Failure(_info("INVALID_OUTPUT", message))
    try:  # storage would fail on it after the run, leaving the job running until rescued
        orjson.dumps(output)
    except TypeError as exc:
        message = f"handler output is not JSON: {type(exc).__name__}"
        raise _Failure(_info("INVALID_OUTPUT", message)) from None
    return output


def _failed(lease: Lease, job: Job, info: JobErrorInfo, policy: RetryPolicy) -> Outcome:
    decision = policy.decide(job.attempt, job.max_attempts, info.retryable)
    if isinstance(decision, Retry):
        return Outcome(lease, JobState.QUEUED, error=info, retry_delay=decision.delay)
    return Outcome(lease, JobState.FAILED, error=info)


def _from_job_error(exc: JobError) -> JobErrorInfo:
    return JobErrorInfo(exc.code, exc.message, exc.details, exc.retryable, exc.resolution)


def _info(
    code: str, message: str, retryable: bool = False, details: dict[str, Any] | None = None
) -> JobErrorInfo:
    return JobErrorInfo(code, message, details or {}, retryable)
