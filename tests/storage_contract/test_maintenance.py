"""Storage contract: expired leases and leader election (retention: test_retention.py)."""

from __future__ import annotations

import asyncio

import pytest

from factories import new_job
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
