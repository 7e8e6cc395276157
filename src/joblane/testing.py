"""Helpers for testing your own handlers without a database, an API or a worker.

`run_handler(app, "resize", {"url": ...})` validates the input, runs the handler and returns
its output model; pass your own `make_context(...)` to inspect progress afterwards or to
`request_cancel()` it before the run.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from typing import Any

from pydantic import BaseModel

from joblane.app import Joblane
from joblane.core.ids import new_id
from joblane.core.job import Job, Progress
from joblane.core.states import JobState
from joblane.worker.context import JobContext


def make_context(type_name: str, input: dict[str, Any], *, attempt: int = 1) -> JobContext:
    """A `JobContext` for a running job of `type_name`, as a worker would hand it over."""
    now = time.time()
    job = Job(
        id=new_id("job"),
        tenant_id="test",
        type=type_name,
        state=JobState.RUNNING,
        version=1,
        input=input,
        metadata={},
        priority=0,
        attempt=attempt,
        max_attempts=max(3, attempt),
        timeout=600.0,
        progress=Progress(),
        result=None,
        error=None,
        batch_id=None,
        idempotency_key=None,
        callback_url=None,
        created_at=now,
        updated_at=now,
        scheduled_at=now,
        started_at=now,
    )
    return JobContext(job, logging.getLogger("joblane.test"))


def run_handler(
    app: Joblane,
    type_name: str,
    input: dict[str, Any],
    ctx: JobContext | None = None,
) -> BaseModel:
    """Validate `input`, run the handler of `type_name` and return its output model.

    Async handlers run with `asyncio.run`, so call this from synchronous tests. Pydantic's
    `ValidationError` and the handler's `JobError`/`JobCancelled` propagate unchanged.
    """
    job_type = app.get(type_name)
    if job_type is None:
        raise KeyError(f"no job type {type_name!r}; registered: {app.names()}")
    validated = job_type.input_model.model_validate(input)
    context = ctx if ctx is not None else make_context(type_name, input)
    result = job_type.handler(validated, context)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    if job_type.output_model is not None:
        return job_type.output_model.model_validate(result)
    if not isinstance(result, BaseModel):
        raise TypeError(f"handler of {type_name!r} returned {type(result).__name__}, not a model")
    return result
