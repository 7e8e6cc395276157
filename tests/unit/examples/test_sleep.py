"""The `sleep` example: sleeps in steps, reports progress, honours cancellation, fails on demand."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from pydantic import ValidationError

from joblane.core.errors import JobCancelled, JobError
from joblane.core.states import JobState
from joblane.examples import app
from joblane.examples.sleep import SleepOutput
from joblane.testing import make_context, run_handler
from joblane.worker.context import JobContext


def run_sleep(inp: dict[str, Any], ctx: JobContext | None = None) -> SleepOutput:
    output = run_handler(app, "sleep", inp, ctx)
    assert isinstance(output, SleepOutput)
    return output


def test_sleeps_and_reports_progress_in_tenths() -> None:
    ctx = make_context("sleep", {"seconds": 0.25})
    started = time.monotonic()

    output = run_sleep({"seconds": 0.25}, ctx)

    assert output.slept == 0.25
    assert 0.24 <= time.monotonic() - started < 1.0
    progress = ctx.take_progress()
    assert progress is not None
    assert (progress.processed, progress.total) == (3, 3)
    assert progress.message == "slept 0.25 of 0.25 s"


def test_zero_seconds_returns_at_once() -> None:
    ctx = make_context("sleep", {"seconds": 0})

    assert run_sleep({"seconds": 0}, ctx).slept == 0
    progress = ctx.take_progress()
    assert progress is not None
    assert (progress.processed, progress.total) == (0, 0)


def test_cancelled_before_starting() -> None:
    ctx = make_context("sleep", {"seconds": 5})
    ctx.request_cancel()

    with pytest.raises(JobCancelled):
        run_sleep({"seconds": 5}, ctx)
    progress = ctx.take_progress()
    assert progress is not None
    assert progress.processed == 0


def test_cancellation_stops_a_long_sleep_promptly() -> None:
    ctx = make_context("sleep", {"seconds": 60})
    timer = threading.Timer(0.15, ctx.request_cancel)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(JobCancelled):
            run_sleep({"seconds": 60}, ctx)
    finally:
        timer.cancel()

    assert time.monotonic() - started < 0.6
    progress = ctx.take_progress()
    assert progress is not None
    assert 1 <= progress.processed <= 4
    assert progress.total == 600


def test_fail_raises_a_retryable_simulated_failure() -> None:
    with pytest.raises(JobError) as caught:
        run_sleep({"seconds": 0.1, "fail": True})

    error = caught.value
    assert error.code == "SIMULATED_FAILURE"
    assert error.retryable is True
    assert error.details == {"slept": 0.1}
    assert error.resolution is not None


def test_fail_with_a_custom_code() -> None:
    with pytest.raises(JobError) as caught:
        run_sleep({"seconds": 0, "fail": True, "fail_code": "UPSTREAM_DOWN"})

    assert caught.value.code == "UPSTREAM_DOWN"


@pytest.mark.parametrize(
    "inp",
    [{"seconds": -1}, {"seconds": 3600.5}, {"seconds": "soon"}, {"seconds": 1, "fail_code": "x"}],
)
def test_invalid_input_is_rejected(inp: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        run_sleep(inp)


def test_make_context_builds_a_running_job() -> None:
    ctx = make_context("sleep", {"seconds": 1}, attempt=2)

    assert ctx.job.state is JobState.RUNNING
    assert ctx.job.type == "sleep"
    assert ctx.job.input == {"seconds": 1}
    assert ctx.attempt == 2
    assert ctx.job_id.startswith("job_")
    assert ctx.cancelled is False
