"""`joblane.AsyncClient` against a real `joblane serve` process, on every backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from client.live import Live
from joblane.client import (
    AsyncClient,
    Batch,
    Job,
    JobCancelledError,
    JobFailed,
    NotFound,
    ValidationError,
    WaitTimeout,
)

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(90)]


@pytest.fixture
async def client(live: Live) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(live.url, live.api_key) as c:
        yield c


async def test_submit_wait_and_outcomes(client: AsyncClient) -> None:
    seen: list[Job] = []
    job = await client.submit("ticker", {"steps": 4, "step_seconds": 0.2})
    done = await client.wait(job, timeout=30, on_progress=seen.append)
    assert done.result == {"steps": 4} and await client.result(job.id) == {"steps": 4}
    assert seen[-1].status == "completed" and any(j.status == "running" for j in seen)

    failing = await client.submit("fail", {"code": "BROKEN"})
    with pytest.raises(JobFailed) as failed:
        await client.wait(failing.id, timeout=30)
    assert failed.value.error is not None and failed.value.error.code == "BROKEN"

    long = await client.submit("nap", {"seconds": 30})
    with pytest.raises(WaitTimeout):
        await client.wait(long.id, timeout=0.5)
    await client.cancel(long.id, "stop")
    with pytest.raises(JobCancelledError):
        await client.wait(long.id, timeout=30)


async def test_many_waits_at_once(client: AsyncClient) -> None:
    jobs = await asyncio.gather(*(client.submit("nap", {"seconds": 0.2}) for _ in range(10)))
    done = await asyncio.gather(*(client.wait(job, timeout=30) for job in jobs))
    assert {j.status for j in done} == {"completed"}


async def test_list_iterate_delete_and_errors(client: AsyncClient, live: Live) -> None:
    tag = live.tag()
    ids = [(await client.submit("noop", {}, metadata=tag)).id for _ in range(3)]
    assert [j.id async for j in client.iter_jobs(metadata=tag, page_size=2)] == ids[::-1]
    assert len((await client.list(metadata=tag, limit=1)).data) == 1
    finished = await client.wait(ids[0], timeout=30)
    await client.delete(finished.id)
    with pytest.raises(NotFound) as missing:
        await client.get(finished.id)
    assert missing.value.code == "JOB_NOT_FOUND" and missing.value.request_id
    with pytest.raises(ValidationError) as invalid:
        await client.submit("nap", {"seconds": -1}, metadata={"bad key!": "x"})
    assert invalid.value.status == 422 and invalid.value.errors


async def test_events_and_batches(client: AsyncClient) -> None:
    job = await client.submit("ticker", {"steps": 5, "step_seconds": 0.15})
    events = [e async for e in client.events(job.id)]
    assert events[-1].event == "completed" and events[-1].data.version == events[-1].id
    versions = [e.data.version for e in events]
    assert versions == sorted(set(versions)) and all(e.id == e.data.version for e in events)

    async def items() -> AsyncIterator[dict[str, object]]:
        for i in range(5):
            yield {"type": "batch_item", "input": {"index": i}}

    batch = await client.submit_batch(items(), name="async")
    seen: list[Batch] = []
    done = await client.wait_batch(batch.id, timeout=60, on_progress=seen.append)
    assert done.status == "completed" and done.progress.completed == 5 and seen
    lines = [line async for line in client.iter_results(batch.id)]
    assert sorted(line.result["index"] for line in lines) == list(range(5))
    from_list = await client.submit_batch([{"type": "batch_item", "input": {"index": 9}}])
    batch_events = [e async for e in client.batch_events(from_list.id)]
    assert batch_events[-1].data.status == "completed"
