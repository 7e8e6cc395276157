"""Storage contract: fair share. A tenant's `max_running` caps its running jobs (outside and
inside batches) across all claimers; a capped tenant's backlog never keeps another tenant's jobs
waiting; a changed cap counts from the next claim; tenants without a cap are claimed as ever."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from factories import new_job
from joblane.core.job import Job, JobErrorInfo
from joblane.core.states import JobState
from joblane.core.tenant import Tenant, TenantSettings
from joblane.storage.base import Storage
from joblane.storage.params import JobFilter, Outcome
from storage_contract.helpers import lease_of, make_batch
from storage_contract.test_batches_claim import count_probes

LEASE = 30.0
A, B = "tenant-a", "tenant-b"


async def cap(storage: Storage, tenant_id: str, max_running: int | None) -> None:
    settings = TenantSettings(max_running=max_running, retention_days=7)
    await storage.tenant_put(Tenant(tenant_id, "", 0.0, 0.0, settings))


async def queue(storage: Storage, tenant_id: str, count: int, priority: int = 0) -> list[str]:
    jobs = await storage.jobs_insert([new_job(tenant_id, priority=priority) for _ in range(count)])
    return [job.id for job in jobs]


async def claim(storage: Storage, limit: int, worker: str = "w1") -> list[Job]:
    return await storage.jobs_claim(worker, ["noop"], limit, LEASE)


async def running(storage: Storage, tenant_id: str) -> int:
    """The tenant's running jobs, counted from the jobs themselves (and checked against the
    storage's own count)."""
    query = JobFilter(tenant_id=tenant_id, states=(JobState.RUNNING,), limit=10_000)
    counted = len(await storage.jobs_list(query))
    assert await storage.tenant_running(tenant_id) == counted
    return counted


async def complete(storage: Storage, jobs: list[Job]) -> None:
    stamps = await storage.jobs_finish([Outcome(lease_of(j), JobState.COMPLETED) for j in jobs])
    assert all(stamp is not None for stamp in stamps)


def by_tenant(jobs: list[Job]) -> Counter[str]:
    return Counter(job.tenant_id for job in jobs)


# -- the cap ---------------------------------------------------------------------------------
async def test_a_capped_tenant_runs_at_most_max_running_jobs(storage: Storage) -> None:
    await cap(storage, A, 3)
    queued = await queue(storage, A, 10)

    first = await claim(storage, 10)
    assert by_tenant(first) == {A: 3}
    assert await claim(storage, 10, "w2") == []
    assert await running(storage, A) == 3

    done: list[str] = []
    busy = first
    while busy:
        await complete(storage, busy[:1])
        done.append(busy[0].id)
        more = await claim(storage, 10, "w3")
        assert len(more) <= 1
        busy = busy[1:] + more
        assert await running(storage, A) == len(busy) <= 3
    assert sorted(done) == sorted(queued)


async def test_batch_items_count_against_the_cap(storage: Storage) -> None:
    await cap(storage, A, 3)
    plain, _ = await make_batch(storage, 5, tenant_id=A)
    limited, _ = await make_batch(storage, 5, tenant_id=A, max_concurrent=1)
    await queue(storage, A, 5)

    claimed = await claim(storage, 20)

    assert len(claimed) == 3
    assert sum(job.batch_id == limited.id for job in claimed) <= 1
    assert await claim(storage, 20) == []
    assert await running(storage, A) == 3
    await complete(storage, claimed[:2])
    assert len(await claim(storage, 20)) == 2
    assert await running(storage, A) == 3
    assert plain.id  # both batches are the tenant's: neither escapes its cap


async def test_concurrent_claims_never_exceed_the_cap(storage: Storage) -> None:
    await cap(storage, A, 3)
    batch, items = await make_batch(storage, 10, tenant_id=A)
    loose_a = await queue(storage, A, 17)  # 27 in all: nine rounds of three
    loose_b = set(await queue(storage, B, 12))
    finished: set[str] = set()
    claimed_b: set[str] = set()

    for _ in range(9):
        rounds = await asyncio.gather(*(claim(storage, 5, f"w{n}") for n in range(8)))
        claimed = [job for jobs in rounds for job in jobs]
        ids = [job.id for job in claimed]
        assert len(ids) == len(set(ids)), "a job was claimed twice"
        assert await running(storage, A) <= 3
        claimed_b |= {job.id for job in claimed if job.tenant_id == B}
        late = await claim(storage, 5, "late")
        claimed_b |= {job.id for job in late if job.tenant_id == B}
        mine = [job for job in claimed + late if job.tenant_id == A]
        assert len(mine) == await running(storage, A) == 3
        await complete(storage, mine)
        finished |= {job.id for job in mine}

    assert claimed_b == loose_b
    assert finished == set(items) | set(loose_a)
    assert batch.id
    assert await claim(storage, 10) == []


# -- nobody waits for a capped tenant's backlog ----------------------------------------------
async def test_another_tenant_is_claimed_next_while_a_capped_tenant_floods(
    storage: Storage,
) -> None:
    await cap(storage, A, 2)
    await queue(storage, A, 300, priority=5)  # older and more urgent than anything of B
    (first,) = await claim(storage, 1)
    (second,) = await claim(storage, 1)
    assert {first.tenant_id, second.tenant_id} == {A}
    mine = await queue(storage, B, 1)
    item_batch, item_ids = await make_batch(storage, 1, tenant_id=B)

    assert [job.id for job in await claim(storage, 1)] in (mine, item_ids)
    assert len(await claim(storage, 10)) == 1
    assert await claim(storage, 10) == []
    assert item_batch.id


async def test_capped_tenants_take_turns_and_who_runs_least_goes_first(storage: Storage) -> None:
    other = "tenant-c"
    await cap(storage, A, 3)
    await cap(storage, other, 3)
    await queue(storage, A, 5, priority=5)  # older and more urgent: still only every other turn
    await queue(storage, other, 5)

    first = await claim(storage, 4)
    assert by_tenant(first) == {A: 2, other: 2}
    await complete(storage, [job for job in first if job.tenant_id == other][:1])

    (least,) = await claim(storage, 1)
    assert least.tenant_id == other
    assert by_tenant(await claim(storage, 10)) == {A: 1, other: 1}
    assert (await running(storage, A), await running(storage, other)) == (3, 3)


async def test_tenants_without_a_cap_are_claimed_as_before(storage: Storage) -> None:
    await cap(storage, A, 1)
    await cap(storage, B, None)  # a row, no cap
    await queue(storage, A, 3)
    others = set(await queue(storage, B, 20)) | set(await queue(storage, "no-row", 20))

    claimed = await claim(storage, 100)

    assert by_tenant(claimed) == {A: 1, B: 20, "no-row": 20}
    assert {job.id for job in claimed if job.tenant_id != A} == others


# -- changing a cap --------------------------------------------------------------------------
async def test_a_new_cap_holds_back_jobs_queued_before_it(storage: Storage) -> None:
    await queue(storage, A, 6)
    await cap(storage, A, 2)

    assert len(await claim(storage, 10)) == 2
    assert await claim(storage, 10) == []


async def test_a_cap_set_while_jobs_run_holds_from_the_next_claims(storage: Storage) -> None:
    await queue(storage, A, 2)
    assert len(await claim(storage, 10)) == 2  # no cap anywhere yet: the claim as ever
    await queue(storage, A, 6)

    await cap(storage, A, 3)

    assert len(await claim(storage, 10)) + len(await claim(storage, 10)) == 1
    assert await claim(storage, 10) == []
    assert await running(storage, A) == 3


async def test_a_worker_that_saw_no_cap_picks_up_a_capped_tenants_jobs(storage: Storage) -> None:
    for _ in range(2):  # claims while no tenant has a cap
        await queue(storage, B, 1)
        assert len(await claim(storage, 10)) == 1
    await queue(storage, A, 5)
    await cap(storage, A, 2)

    assert await storage.jobs_wait_available(["noop"], 1.0)
    assert len(await claim(storage, 10)) == 2
    assert await claim(storage, 10) == []
    assert await running(storage, A) == 2


async def test_raising_then_lifting_a_cap_counts_from_the_next_claim(storage: Storage) -> None:
    await cap(storage, A, 1)
    await queue(storage, A, 6)
    assert len(await claim(storage, 10)) == 1

    await cap(storage, A, 3)
    assert len(await claim(storage, 10)) == 2
    assert await claim(storage, 10) == []

    await cap(storage, A, None)
    assert len(await claim(storage, 10)) == 3
    assert await running(storage, A) == 6


async def test_a_job_queued_again_keeps_to_its_tenants_cap(storage: Storage) -> None:
    await cap(storage, A, 1)
    await queue(storage, A, 2)
    (job,) = await claim(storage, 10)

    await storage.jobs_finish([Outcome(lease_of(job), JobState.QUEUED, retry_delay=0.0)])
    (again,) = await claim(storage, 10)
    assert await claim(storage, 10) == []

    error = JobErrorInfo(code="BOOM", message="it broke")
    await storage.jobs_finish([Outcome(lease_of(again), JobState.FAILED, error=error)])
    assert (await storage.job_retry(again.id, A)).changed
    assert len(await claim(storage, 10)) == 1
    assert await claim(storage, 10) == []
    assert await running(storage, A) == 1


# -- idle workers ----------------------------------------------------------------------------
async def test_wait_for_work_ignores_a_tenant_at_its_cap_until_a_job_ends(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await cap(storage, A, 1)
    await queue(storage, A, 3)
    (busy,) = await claim(storage, 10)
    assert await claim(storage, 10) == []  # what a worker sees before it waits
    probes = count_probes(storage, monkeypatch)

    started = time.monotonic()
    assert not await storage.jobs_wait_available(["noop"], 0.3)
    assert time.monotonic() - started >= 0.25, "returned early: a capped tenant's backlog"
    assert probes[0] <= 5, f"probed {probes[0]} times in 0.3 s: spinning on a tenant at its cap"

    waiter = asyncio.create_task(storage.jobs_wait_available(["noop"], 5.0))
    await asyncio.sleep(0.1)
    assert not waiter.done()
    started = time.monotonic()
    await complete(storage, [busy])
    assert await asyncio.wait_for(waiter, 3.0)
    assert time.monotonic() - started < 2.0
    assert len(await claim(storage, 10)) == 1


async def test_wait_for_work_wakes_when_a_capped_tenants_batch_item_ends(
    storage: Storage,
) -> None:
    await cap(storage, A, 1)
    await make_batch(storage, 3, tenant_id=A)
    (busy,) = await claim(storage, 10)
    assert await claim(storage, 10) == []
    assert not await storage.jobs_wait_available(["noop"], 0.3)  # at its cap: nothing to do

    waiter = asyncio.create_task(storage.jobs_wait_available(["noop"], 5.0))
    await asyncio.sleep(0.1)
    assert not waiter.done()
    started = time.monotonic()
    await complete(storage, [busy])

    assert await asyncio.wait_for(waiter, 3.0)
    assert time.monotonic() - started < 2.0
    assert len(await claim(storage, 10)) == 1


async def test_wait_for_work_wakes_when_a_cap_is_raised(storage: Storage) -> None:
    await cap(storage, A, 1)
    await queue(storage, A, 3)
    assert len(await claim(storage, 10)) == 1
    assert not await storage.jobs_wait_available(["noop"], 0.3)  # at its cap: nothing to do
    waiter = asyncio.create_task(storage.jobs_wait_available(["noop"], 5.0))
    await asyncio.sleep(0.1)
    assert not waiter.done()

    started = time.monotonic()
    await cap(storage, A, 2)

    assert await asyncio.wait_for(waiter, 3.0)
    assert time.monotonic() - started < 2.0
    assert len(await claim(storage, 10)) == 1
