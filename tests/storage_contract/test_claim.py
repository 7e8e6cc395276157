"""Storage contract: claiming queued jobs for a worker."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from factories import new_job
from joblane.core import ids
from joblane.core.job import NewJob
from joblane.core.states import JobState
from joblane.storage.base import Storage

LEASE = 30.0


def with_id(job: NewJob, epoch_ms: int) -> NewJob:
    """`job` with an id made at `epoch_ms`, to control the id tie-break."""
    return replace(job, id=f"{ids.JOB}_{ids.ulid(epoch_ms)}")


async def claim_ids(storage: Storage, limit: int, types: tuple[str, ...] = ("noop",)) -> list[str]:
    return [job.id for job in await storage.jobs_claim("w1", types, limit, LEASE)]


async def test_claims_several_jobs_in_one_call_up_to_the_limit(storage: Storage) -> None:
    inserted = await storage.jobs_insert([new_job() for _ in range(5)])
    all_ids = {job.id for job in inserted}

    first = await claim_ids(storage, 3)
    assert len(first) == 3
    second = await claim_ids(storage, 10)
    assert len(second) == 2
    assert set(first) | set(second) == all_ids
    assert not set(first) & set(second)
    assert await claim_ids(storage, 10) == []


async def test_claim_nothing_when_empty(storage: Storage) -> None:
    assert await storage.jobs_claim("w1", ["noop"], 10, LEASE) == []


async def test_claim_sets_running_lease_worker_and_bumps_version(storage: Storage) -> None:
    (queued,) = await storage.jobs_insert([new_job()])
    before = storage.now()
    (job,) = await storage.jobs_claim("worker-7", ["noop"], 1, LEASE)
    after = storage.now()

    assert job.id == queued.id
    assert job.state is JobState.RUNNING
    assert job.version == queued.version + 1
    assert job.attempt == 1
    assert job.worker_id == "worker-7"
    assert job.lease_token
    assert job.started_at is not None
    assert before <= job.started_at <= after
    assert job.lease_expires_at is not None
    assert job.lease_expires_at == pytest.approx(job.started_at + LEASE, abs=1e-3)
    assert job.updated_at >= queued.updated_at
    assert await storage.job_get(job.id, None) == job


async def test_claim_order_is_priority_then_scheduled_at_then_id(storage: Storage) -> None:
    base = int(storage.now() * 1000)
    # inserted first (earliest scheduled_at) but with the highest id
    early = with_id(new_job(input={"name": "early"}), base + 900)
    await storage.jobs_insert([early])
    await asyncio.sleep(0.02)
    # inserted together: same scheduled_at, so the id decides
    same_b = with_id(new_job(input={"name": "same_b"}), base + 500)
    same_a = with_id(new_job(input={"name": "same_a"}), base + 100)
    await storage.jobs_insert([same_b, same_a])
    await asyncio.sleep(0.02)
    # inserted last but most urgent
    urgent = with_id(new_job(input={"name": "urgent"}, priority=10), base + 950)
    low = with_id(new_job(input={"name": "low"}, priority=-5), base + 1)
    await storage.jobs_insert([urgent, low])

    order = [(await claim_ids(storage, 1))[0] for _ in range(5)]
    assert order == [urgent.id, early.id, same_a.id, same_b.id, low.id]


async def test_one_claim_takes_the_best_jobs_and_returns_them_in_claim_order(
    storage: Storage,
) -> None:
    jobs = [new_job(priority=p) for p in (1, 5, 3, 5, 0, 9, 2)]
    await storage.jobs_insert(jobs)

    claimed = await storage.jobs_claim("w1", ["noop"], 4, LEASE)

    assert [j.priority for j in claimed] == [9, 5, 5, 3]
    fives = [j.id for j in claimed if j.priority == 5]
    assert fives == sorted(fives)
    left = await storage.jobs_claim("w1", ["noop"], 10, LEASE)
    assert sorted(j.priority for j in left) == [0, 1, 2]


async def test_claim_skips_jobs_scheduled_in_the_future(storage: Storage) -> None:
    (later,) = await storage.jobs_insert([new_job(run_at=storage.now() + 3600)])
    (now,) = await storage.jobs_insert([new_job()])

    assert await claim_ids(storage, 10) == [now.id]
    assert await claim_ids(storage, 10) == []
    job = await storage.job_get(later.id, None)
    assert job is not None
    assert job.state is JobState.QUEUED


async def test_claim_becomes_possible_once_run_at_passes(storage: Storage) -> None:
    (job,) = await storage.jobs_insert([new_job(run_at=storage.now() + 0.1)])
    assert await claim_ids(storage, 1) == []
    await asyncio.sleep(0.15)
    assert await claim_ids(storage, 1) == [job.id]


async def test_claim_only_takes_the_types_asked_for(storage: Storage) -> None:
    a, b, c = await storage.jobs_insert(
        [new_job(type_="alpha"), new_job(type_="beta"), new_job(type_="gamma")]
    )
    assert set(await claim_ids(storage, 10, ("alpha", "gamma"))) == {a.id, c.id}
    assert await claim_ids(storage, 10, ("alpha", "gamma")) == []
    assert await claim_ids(storage, 10, ()) == []
    assert await claim_ids(storage, 10, ("beta",)) == [b.id]


async def test_claim_ignores_jobs_that_are_not_queued(storage: Storage) -> None:
    queued, cancelled = await storage.jobs_insert([new_job(), new_job()])
    await storage.job_cancel(cancelled.id, None, "no")
    assert await claim_ids(storage, 10) == [queued.id]
    assert await claim_ids(storage, 10) == []  # the running one is not claimed twice


async def test_claim_spans_tenants(storage: Storage) -> None:
    a, b = await storage.jobs_insert([new_job("tenant-a"), new_job("tenant-b")])
    assert set(await claim_ids(storage, 10)) == {a.id, b.id}


async def test_concurrent_claims_never_hand_out_a_job_twice(storage: Storage) -> None:
    inserted = await storage.jobs_insert([new_job() for _ in range(40)])

    batches = await asyncio.gather(
        *(storage.jobs_claim(f"w{n}", ["noop"], 7, LEASE) for n in range(8))
    )

    claimed = [job.id for batch in batches for job in batch]
    assert len(claimed) == len(set(claimed)), "a job was claimed twice"
    assert set(claimed) == {job.id for job in inserted}
    for n, batch in enumerate(batches):
        assert all(job.worker_id == f"w{n}" for job in batch)
        assert len(batch) <= 7
    for job in inserted:
        stored = await storage.job_get(job.id, None)
        assert stored is not None
        owner = next(j for batch in batches for j in batch if j.id == job.id)
        assert stored.worker_id == owner.worker_id
        assert stored.lease_token == owner.lease_token


async def test_concurrent_claims_of_few_jobs_leave_the_rest_empty_handed(
    storage: Storage,
) -> None:
    inserted = await storage.jobs_insert([new_job() for _ in range(3)])

    batches = await asyncio.gather(
        *(storage.jobs_claim(f"w{n}", ["noop"], 2, LEASE) for n in range(10))
    )

    claimed = [job.id for batch in batches for job in batch]
    assert sorted(claimed) == sorted(job.id for job in inserted)
