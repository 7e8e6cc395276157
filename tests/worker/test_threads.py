"""A sync handler that outlives its job keeps its worker slot until its thread returns."""

from __future__ import annotations

import time

from pydantic import BaseModel

from joblane import JobContext, Joblane
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.worker.runtime import Worker
from worker import fast, get, running, submit, wait_until

app = Joblane("threads")
EVENTS: dict[str, float] = {}


class Nap(BaseModel):
    seconds: float
    name: str


@app.job_type("stubborn", input=Nap, max_attempts=1)
def stubborn(inp: Nap, ctx: JobContext) -> dict[str, bool]:
    """Ignores cancellation and timeouts: sleeps its full time."""
    EVENTS[f"{inp.name}-start"] = time.monotonic()
    time.sleep(inp.seconds)
    EVENTS[f"{inp.name}-end"] = time.monotonic()
    return {"done": True}


async def test_a_timed_out_threads_slot_stays_taken_until_it_returns(storage: Storage) -> None:
    EVENTS.clear()
    first = await submit(
        storage, "stubborn", {"seconds": 0.8, "name": "first"}, timeout=0.1, max_attempts=1
    )
    second = await submit(storage, "stubborn", {"seconds": 0.0, "name": "second"})
    worker = Worker(storage, app, fast(concurrency=1, cancel_check_interval=0.02))

    async with running(worker):
        await wait_until(lambda: "second-end" in EVENTS, timeout=5.0, what="second job ran")

    assert (await get(storage, first.id)).state is JobState.FAILED
    assert (await get(storage, first.id)).error.code == "TIMEOUT"  # type: ignore[union-attr]
    assert (await get(storage, second.id)).state is JobState.COMPLETED
    # the first job timed out at ~0.1 s, but its thread ran on: the second waited for it
    assert EVENTS["second-start"] >= EVENTS["first-end"]
