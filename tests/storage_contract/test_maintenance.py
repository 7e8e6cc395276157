"""Storage contract: expired leases, purging finished jobs and leader election."""

from __future__ import annotations

import asyncio

import pytest

from factories import new_job
from joblane.core.job import Job
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import Outcome
from storage_contract.helpers import claim_one, lease_of


# -- expired leases --------------------------------------------------------------------------
async def test_expired_leases_finds_only_expired_running_jobs(storage: Storage) -> None:
    expired = await claim_one(storage, 0.05)
    fresh = await claim_one(storage, 30.0)
    finished = await claim_one(storage, 0.05)
    await storage.jobs_finish([Outcome(lease_of(finished), JobState.COMPLETED)])
    await storage.jobs_insert([new_job()])  # queued, never leased
    assert await storage.jobs_expired_leases(100) == []

    await asyncio.sleep(0.1)
    found = await storage.jobs_expired_leases(100)

    assert [job.id for job in found] == [expired.id]
    assert found[0].lease_token == expired.lease_token
    assert found[0].state is JobState.RUNNING
    assert fresh.id not in {job.id for job in found}


async def test_expired_leases_oldest_first_and_limited(storage: Storage) -> None:
    first = await claim_one(storage, 0.05)
    await asyncio.sleep(0.01)
    second = await claim_one(storage, 0.05)
    await asyncio.sleep(0.1)

    assert [job.id for job in await storage.jobs_expired_leases(10)] == [first.id, second.id]
    assert [job.id for job in await storage.jobs_expired_leases(1)] == [first.id]


# -- purge -----------------------------------------------------------------------------------
async def ended(storage: Storage, state: JobState) -> Job:
    job = await claim_one(storage, 30.0)
    (stamp,) = await storage.jobs_finish([Outcome(lease_of(job), state)])
    assert stamp is not None
    done = await storage.job_get(stamp.id, None)
    assert done is not None
    return done


async def test_purge_deletes_only_terminal_jobs_finished_before_the_cutoff(
    storage: Storage,
) -> None:
    old = [
        await ended(storage, JobState.COMPLETED),
        await ended(storage, JobState.FAILED),
        await ended(storage, JobState.CANCELLED),
    ]
    old_queued = (await storage.jobs_insert([new_job(type_="idle")]))[0]
    old_running = await claim_one(storage, 30.0)
    await asyncio.sleep(0.02)
    cutoff = storage.now()
    await asyncio.sleep(0.02)
    recent = await ended(storage, JobState.COMPLETED)

    assert await storage.jobs_purge(cutoff, 100) == 3

    for job in old:
        assert await storage.job_get(job.id, None) is None
    for job in (old_queued, old_running, recent):
        assert await storage.job_get(job.id, None) is not None
    assert await storage.jobs_purge(cutoff, 100) == 0


async def test_purge_goes_by_last_update_not_creation(storage: Storage) -> None:
    job = await claim_one(storage, 30.0)
    await asyncio.sleep(0.02)
    cutoff = storage.now()
    await asyncio.sleep(0.02)
    await storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED)])

    assert await storage.jobs_purge(cutoff, 100) == 0
    assert await storage.job_get(job.id, None) is not None


async def test_purge_respects_the_limit(storage: Storage) -> None:
    for _ in range(5):
        await ended(storage, JobState.COMPLETED)
    cutoff = storage.now() + 1
    assert await storage.jobs_purge(cutoff, 2) == 2
    assert await storage.jobs_purge(cutoff, 10) == 3
    assert await storage.jobs_purge(cutoff, 10) == 0


# -- leadership ------------------------------------------------------------------------------
async def test_first_holder_wins_and_others_are_refused(storage: Storage) -> None:
    assert await storage.leader_acquire("rescuer", "node-a", 30.0)
    assert not await storage.leader_acquire("rescuer", "node-b", 30.0)
    assert not await storage.leader_acquire("rescuer", "node-c", 30.0)


async def test_the_holder_can_renew(storage: Storage) -> None:
    assert await storage.leader_acquire("rescuer", "node-a", 0.2)
    await asyncio.sleep(0.12)
    assert await storage.leader_acquire("rescuer", "node-a", 0.2)  # renewed for 0.2 s more
    await asyncio.sleep(0.12)
    # 0.24 s after the first grant, but only 0.12 s after the renewal
    assert not await storage.leader_acquire("rescuer", "node-b", 0.2)


async def test_another_takes_over_after_the_ttl(storage: Storage) -> None:
    if type(storage).__name__ == "PostgresStorage":
        pytest.skip(
            "PostgreSQL leadership is a session advisory lock: it ends with the holder's "
            "connection (tests/storage/test_postgres_leadership.py), not after a TTL"
        )
    assert await storage.leader_acquire("rescuer", "node-a", 0.05)
    assert not await storage.leader_acquire("rescuer", "node-b", 30.0)
    await asyncio.sleep(0.1)
    assert await storage.leader_acquire("rescuer", "node-b", 30.0)
    assert not await storage.leader_acquire("rescuer", "node-a", 30.0)


async def test_release_lets_another_take_it_at_once(storage: Storage) -> None:
    assert await storage.leader_acquire("rescuer", "node-a", 30.0)
    await storage.leader_release("rescuer", "node-a")
    assert await storage.leader_acquire("rescuer", "node-b", 30.0)


async def test_only_the_holder_can_release(storage: Storage) -> None:
    assert await storage.leader_acquire("rescuer", "node-a", 30.0)
    await storage.leader_release("rescuer", "node-b")
    assert not await storage.leader_acquire("rescuer", "node-b", 30.0)
    await storage.leader_release("purger", "node-a")  # releasing what nobody holds is fine


async def test_names_are_independent(storage: Storage) -> None:
    assert await storage.leader_acquire("rescuer", "node-a", 30.0)
    assert await storage.leader_acquire("purger", "node-b", 30.0)
    assert not await storage.leader_acquire("purger", "node-a", 30.0)
