"""Storage contract: claiming items of batches that limit how many of their items run at once,
and waiting for work while the only queued items belong to a paused batch."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from factories import new_job
from joblane.core.batch import BatchControl
from joblane.core.job import Job, JobErrorInfo
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import Outcome
from storage_contract.helpers import batch_now, lease_of, make_batch, recount

TENANT = "tenant-a"
LEASE = 30.0


async def claim(storage: Storage, limit: int, worker: str = "w1") -> list[Job]:
    return await storage.jobs_claim(worker, ["noop"], limit, LEASE)


async def running_items(storage: Storage, batch_id: str) -> int:
    counted = await recount(storage, batch_id)
    assert (await batch_now(storage, batch_id)).counts == counted
    return counted.running


async def complete(storage: Storage, jobs: list[Job]) -> None:
    stamps = await storage.jobs_finish([Outcome(lease_of(j), JobState.COMPLETED) for j in jobs])
    assert all(stamp is not None for stamp in stamps)


# -- max_concurrent --------------------------------------------------------------------------
async def test_at_most_max_concurrent_items_run_at_once(storage: Storage) -> None:
    batch, item_ids = await make_batch(storage, 6, max_concurrent=2)

    first = await claim(storage, 10)
    assert len(first) == 2
    assert {j.batch_id for j in first} == {batch.id}
    assert await claim(storage, 10, "w2") == []
    assert await running_items(storage, batch.id) == 2

    done: list[str] = []
    running = first
    while running:
        await complete(storage, running[:1])
        done.append(running[0].id)
        more = await claim(storage, 10, "w3")
        assert len(more) <= 1
        running = running[1:] + more
        assert await running_items(storage, batch.id) == len(running) <= 2
    assert sorted(done) == item_ids


async def test_the_limit_counts_items_claimed_by_other_workers(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 5, max_concurrent=3)

    assert len(await claim(storage, 1, "w1")) == 1
    assert len(await claim(storage, 1, "w2")) == 1
    assert len(await claim(storage, 10, "w3")) == 1
    assert await claim(storage, 10, "w4") == []
    assert await running_items(storage, batch.id) == 3


async def test_each_batch_has_its_own_limit_and_unbatched_jobs_are_claimed_alongside(
    storage: Storage,
) -> None:
    one, _ = await make_batch(storage, 4, max_concurrent=1)
    two, _ = await make_batch(storage, 4, max_concurrent=2)
    free, _ = await make_batch(storage, 3)
    loose = await storage.jobs_insert([new_job(TENANT) for _ in range(3)])

    claimed = await claim(storage, 20)

    by_batch: dict[str | None, int] = {}
    for job in claimed:
        by_batch[job.batch_id] = by_batch.get(job.batch_id, 0) + 1
    assert by_batch == {one.id: 1, two.id: 2, free.id: 3, None: 3}
    assert {j.id for j in claimed} >= {j.id for j in loose}
    assert await claim(storage, 20) == []


async def test_a_requeued_item_frees_its_slot(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 3, max_concurrent=1)
    (job,) = await claim(storage, 10)

    await storage.jobs_finish([Outcome(lease_of(job), JobState.QUEUED, retry_delay=0.0)])

    (again,) = await claim(storage, 10)
    assert await running_items(storage, batch.id) == 1
    assert await claim(storage, 10) == []
    assert again.batch_id == batch.id


async def test_a_paused_limited_batch_is_not_claimed_until_resumed(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 4, max_concurrent=2)
    await storage.batch_set_control(batch.id, TENANT, BatchControl.PAUSED, None)
    assert await claim(storage, 10) == []

    await storage.batch_set_control(batch.id, TENANT, BatchControl.ACTIVE, None)

    assert len(await claim(storage, 10)) == 2


async def test_concurrent_claims_never_exceed_max_concurrent(storage: Storage) -> None:
    batch, item_ids = await make_batch(storage, 10, max_concurrent=2)
    loose = await storage.jobs_insert([new_job(TENANT) for _ in range(6)])
    loose_ids = {j.id for j in loose}
    claimed_loose: set[str] = set()
    finished: set[str] = set()

    for _ in range(5):
        rounds = await asyncio.gather(*(claim(storage, 5, f"w{n}") for n in range(8)))
        claimed = [job for jobs in rounds for job in jobs]
        ids = [j.id for j in claimed]
        assert len(ids) == len(set(ids)), "a job was claimed twice"
        items = [j for j in claimed if j.batch_id == batch.id]
        claimed_loose |= {j.id for j in claimed if j.batch_id is None}
        assert await running_items(storage, batch.id) <= 2
        late = await claim(storage, 5, "late")
        items += [j for j in late if j.batch_id == batch.id]
        claimed_loose |= {j.id for j in late if j.batch_id is None}
        assert len(items) == await running_items(storage, batch.id) == 2
        await complete(storage, items)
        finished |= {j.id for j in items}

    assert claimed_loose == loose_ids
    assert finished == set(item_ids)
    assert await claim(storage, 10) == []


# -- waiting for work ------------------------------------------------------------------------
def count_probes(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the backend's "anything claimable?" probes, where it has one by that name."""
    calls = [0]
    probe: Any = getattr(storage, "_claimable", None)
    if probe is not None:

        def counted(*args: Any) -> Any:
            calls[0] += 1
            return probe(*args)

        monkeypatch.setattr(storage, "_claimable", counted)
    return calls


async def test_wait_for_work_ignores_a_paused_batch_until_resumed(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch, _ = await make_batch(storage, 3)
    await storage.batch_set_control(batch.id, TENANT, BatchControl.PAUSED, None)
    probes = count_probes(storage, monkeypatch)

    started = time.monotonic()
    available = await storage.jobs_wait_available(["noop"], 0.3)
    waited = time.monotonic() - started

    assert not available
    assert waited >= 0.25, "returned early: a paused batch's items were taken as claimable"
    assert probes[0] <= 5, f"probed {probes[0]} times in 0.3 s: spinning on a paused batch"

    waiter = asyncio.create_task(storage.jobs_wait_available(["noop"], 5.0))
    await asyncio.sleep(0.1)
    assert not waiter.done()
    started = time.monotonic()
    await storage.batch_set_control(batch.id, TENANT, BatchControl.ACTIVE, None)
    assert await asyncio.wait_for(waiter, 3.0)
    assert time.monotonic() - started < 2.0
    assert len(await claim(storage, 10)) == 3


async def test_wait_for_work_ignores_a_batch_at_its_limit(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch, _ = await make_batch(storage, 3, max_concurrent=1)
    (busy,) = await claim(storage, 10)
    assert await claim(storage, 10) == []  # what a worker sees before it waits
    probes = count_probes(storage, monkeypatch)

    started = time.monotonic()
    available = await storage.jobs_wait_available(["noop"], 0.3)
    waited = time.monotonic() - started

    assert not available
    assert waited >= 0.25, "returned early: items of a batch at its limit taken as claimable"
    assert probes[0] <= 5, f"probed {probes[0]} times in 0.3 s: spinning on a batch at its limit"
    await complete(storage, [busy])
    assert len(await claim(storage, 10)) == 1
    assert await running_items(storage, batch.id) == 1


async def test_items_retried_one_by_one_after_settling_still_respect_the_limit(
    storage: Storage,
) -> None:
    batch, item_ids = await make_batch(storage, 3, max_concurrent=1)
    for _ in item_ids:
        (job,) = await claim(storage, 10)
        error = JobErrorInfo(code="BOOM", message="it broke")
        await storage.jobs_finish([Outcome(lease_of(job), JobState.FAILED, error=error)])
    assert await storage.batches_settle(10) == [batch.id]

    for item in item_ids:  # a retry re-opens the batch: it is unsettled and gated again
        assert (await storage.job_retry(item, TENANT)).changed

    assert len(await claim(storage, 10)) == 1
    assert await running_items(storage, batch.id) == 1
    assert await storage.batches_settle(10) == []
