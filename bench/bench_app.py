"""Job types for benchmarks: a no-op and one that stamps when its handler started."""

from __future__ import annotations

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
