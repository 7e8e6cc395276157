"""Job types of the observability tests (importable as `observe_apps:app` by spawned
processes): handlers that log, succeed, fail for good, or fail once and then succeed."""

from __future__ import annotations

import asyncio
import logging

from pydantic import BaseModel

from joblane import JobContext, JobError, Joblane

app = Joblane("observe-tests")
plain = logging.getLogger("observe_apps")


class Chat(BaseModel):
    lines: int = 3
    fail: bool = False
    seconds: float = 0.0


class Flaky(BaseModel):
    fail_attempts: int = 1  # attempts that fail (retryable) before one succeeds


@app.job_type("chatty", input=Chat, max_attempts=1)
async def chatty(inp: Chat, ctx: JobContext) -> dict[str, int]:
    for i in range(inp.lines):
        ctx.logger.info("async line %d", i)
    plain.warning("plain logger line")
    if inp.fail:
        raise JobError("CHAT_FAILED", "asked to fail")
    return {"lines": inp.lines}


@app.job_type("chatty_sync", input=Chat, max_attempts=1)
def chatty_sync(inp: Chat, ctx: JobContext) -> dict[str, int]:
    for i in range(inp.lines):
        plain.info("sync line %d", i)
    return {"lines": inp.lines}


@app.job_type("ok", input=Chat, max_attempts=1)
async def ok(inp: Chat, ctx: JobContext) -> dict[str, bool]:
    await asyncio.sleep(inp.seconds)
    return {"ok": True}


@app.job_type("broken", input=Chat, max_attempts=1)
async def broken(inp: Chat, ctx: JobContext) -> None:
    raise JobError("BROKEN", "always fails", retryable=False)


@app.job_type("flaky", input=Flaky, max_attempts=3)
async def flaky(inp: Flaky, ctx: JobContext) -> dict[str, int]:
    if ctx.attempt <= inp.fail_attempts:
        raise JobError("FLAKY", f"attempt {ctx.attempt} fails", retryable=True)
    return {"attempt": ctx.attempt}
