"""Job types that make artifacts (importable as `artifact_apps:app` by spawned processes, with
tests/ on PYTHONPATH)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from pydantic import BaseModel

from joblane import JobContext, JobError, Joblane

app = Joblane("artifact-tests")


class Big(BaseModel):
    size: int = 300_000  # characters of the result's `blob`
    seed: str = "x"


class Files(BaseModel):
    chunks: int = 3
    chunk_size: int = 100_000
    fail_first_attempt: bool = False
    name: str = "report.txt"


def blob(size: int, seed: str) -> str:
    """`size` characters, different for every seed (so each attempt's bytes differ)."""
    unit = hashlib.sha256(seed.encode()).hexdigest()
    return (unit * (size // len(unit) + 1))[:size]


def chunk_bytes(index: int, size: int, attempt: int) -> bytes:
    return bytes([(index * 7 + attempt) % 251]) * size


@app.job_type("big", input=Big)
async def big(inp: Big, ctx: JobContext) -> dict[str, object]:
    """A result far over the inline limit (stored as a file by the worker)."""
    return {"blob": blob(inp.size, f"{inp.seed}-{ctx.attempt}"), "attempt": ctx.attempt}


@app.job_type("big_sync", input=Big)
def big_sync(inp: Big, ctx: JobContext) -> dict[str, object]:
    return {"blob": blob(inp.size, f"{inp.seed}-{ctx.attempt}"), "attempt": ctx.attempt}


@app.job_type("files_sync", input=Files, max_attempts=3)
def files_sync(inp: Files, ctx: JobContext) -> dict[str, object]:
    """Writes `name` from a generator of chunks (streamed) and `note.txt` from bytes."""

    def chunks() -> Iterator[bytes]:
        for index in range(inp.chunks):
            yield chunk_bytes(index, inp.chunk_size, ctx.attempt)

    stored = ctx.write_artifact(inp.name, chunks(), content_type="application/octet-stream")
    ctx.write_artifact("note.txt", f"attempt {ctx.attempt}".encode(), content_type="text/plain")
    if inp.fail_first_attempt and ctx.attempt == 1:
        raise JobError("FLAKY", "the first attempt fails on purpose", retryable=True)
    return {"sha256": stored.artifact.sha256, "size": stored.artifact.size}


@app.job_type("files_async", input=Files, max_attempts=3)
async def files_async(inp: Files, ctx: JobContext) -> dict[str, object]:
    """Writes `name` from an async iterator (awaited) and `note.txt` without awaiting it (the
    worker finishes the write before the job completes)."""

    async def chunks() -> AsyncIterator[bytes]:
        for index in range(inp.chunks):
            await asyncio.sleep(0)
            yield chunk_bytes(index, inp.chunk_size, ctx.attempt)

    stored = await ctx.write_artifact(inp.name, chunks(), content_type="application/x-test")
    ctx.write_artifact("note.txt", f"attempt {ctx.attempt}".encode(), content_type="text/plain")
    if inp.fail_first_attempt and ctx.attempt == 1:
        raise JobError("FLAKY", "the first attempt fails on purpose", retryable=True)
    return {"sha256": stored.sha256, "size": stored.size}


@app.job_type("bad_name", input=Files, max_attempts=1)
def bad_name(inp: Files, ctx: JobContext) -> None:
    ctx.write_artifact(inp.name, b"nope")


@app.job_type("forge", input=Big, max_attempts=1)
def forge(inp: Big, ctx: JobContext) -> dict[str, object]:
    """Tries to pass a result off as a stored file."""
    ref = {"name": "_result", "attempt": 1, "size": 1, "sha256": "0" * 64, "content_type": "x/y"}
    return {"$joblane_artifact": ref, "preview": ""}


class Slow(BaseModel):
    chunks: int = 40
    delay: float = 0.05
    marker_dir: str | None = None


@app.job_type("slow_file", input=Slow, max_attempts=3)
def slow_file(inp: Slow, ctx: JobContext) -> dict[str, object]:
    """Writes `slow.bin` a chunk every `delay` seconds; marks when its write is under way (so
    a test can kill the worker in the middle of it)."""

    def chunks() -> Iterator[bytes]:
        for index in range(inp.chunks):
            if index == 2 and inp.marker_dir:
                Path(inp.marker_dir, f"writing-{ctx.job_id}-{ctx.attempt}").touch()
            time.sleep(inp.delay)
            yield bytes([ctx.attempt]) * 10_000

    stored = ctx.write_artifact("slow.bin", chunks())
    return {"attempt": ctx.attempt, "sha256": stored.artifact.sha256}
