"""`sleep`: waits, reporting progress every tenth of a second. Handy for demos of
progress, cancellation, timeouts and (with `fail: true`) retries."""

from __future__ import annotations

import asyncio
import math

from pydantic import BaseModel, Field

from joblane.core.errors import JobError
from joblane.worker.context import JobContext

STEP_SECONDS = 0.1
SIMULATED_FAILURE = "SIMULATED_FAILURE"
RESOLUTIONS = {
    SIMULATED_FAILURE: "The failure was requested with `fail: true`; submit without it.",
}


class SleepInput(BaseModel):
    seconds: float = Field(ge=0, le=3600, description="How long to sleep.")
    fail: bool = Field(False, description="Fail with a retryable error after sleeping.")
    fail_code: str = Field(
        SIMULATED_FAILURE,
        pattern=r"^[A-Z][A-Z0-9_]{0,63}$",
        description="The error code to fail with when `fail` is true.",
    )


class SleepOutput(BaseModel):
    slept: float


async def sleep(inp: SleepInput, ctx: JobContext) -> SleepOutput:
    """Sleep for `seconds`, in steps of 0.1 s; stops promptly when cancelled."""
    # Rounding first keeps float noise (0.7 / 0.1 == 6.999...) from adding an empty step.
    steps = math.ceil(round(inp.seconds / STEP_SECONDS, 6))
    slept = 0.0
    ctx.progress(processed=0, total=steps, message=f"sleeping {inp.seconds:g} s")
    for step in range(1, steps + 1):
        ctx.check_cancelled()
        target = min(step * STEP_SECONDS, inp.seconds)
        await asyncio.sleep(target - slept)
        slept = target
        ctx.progress(processed=step, message=f"slept {slept:g} of {inp.seconds:g} s")
    ctx.check_cancelled()
    if inp.fail:
        raise JobError(
            inp.fail_code,
            f"simulated failure after sleeping {slept:g} s",
            details={"slept": round(slept, 3)},
            retryable=True,
            resolution=RESOLUTIONS[SIMULATED_FAILURE],
        )
    return SleepOutput(slept=round(slept, 3))
