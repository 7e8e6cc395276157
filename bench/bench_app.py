"""Job types for benchmarks: a no-op, one that stamps when its handler started, and one that
reports progress while it runs."""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel

from joblane import JobContext, Joblane

app = Joblane("bench")


class Empty(BaseModel):
    pass


@app.job_type("noop", input=Empty)
async def noop(inp: Empty, ctx: JobContext) -> dict[str, bool]:
    return {"ok": True}


@app.job_type("stamp", input=Empty)
async def stamp(inp: Empty, ctx: JobContext) -> dict[str, float]:
    return {"started": time.time()}


class TickInput(BaseModel):
    seconds: float
    step: float = 0.25


@app.job_type("tick", input=TickInput)
async def tick(inp: TickInput, ctx: JobContext) -> dict[str, int]:
    """Runs `seconds`, reporting progress every `step` (the worker flushes it every 0.5 s)."""
    steps = max(1, int(inp.seconds / inp.step))
    for i in range(1, steps + 1):
        await asyncio.sleep(inp.step)
        ctx.progress(processed=i, total=steps)
    return {"steps": steps}
