"""`Maintenance` leader election: one leader at a time; another instance takes over when the
leader releases on stop, or when it stops renewing and its lease (ttl) runs out."""

from __future__ import annotations

import asyncio
import time

import pytest

from joblane.core.states import JobState
from joblane.maintenance.leader import Maintenance
from joblane.storage.base import Storage
from worker import get, submit, wait_lease_expired, wait_until


async def test_exactly_one_of_two_instances_leads(storage: Storage) -> None:
    first, second = Maintenance(storage, interval=1.0), Maintenance(storage, interval=1.0)

    await first.tick()
    await second.tick()
    assert (first.is_leader, second.is_leader) == (True, False)

    await asyncio.gather(second.tick(), first.tick())  # renewals keep the same leader
    assert (first.is_leader, second.is_leader) == (True, False)


async def test_concurrent_first_ticks_elect_exactly_one(storage: Storage) -> None:
    instances = [Maintenance(storage, interval=1.0) for _ in range(4)]

    await asyncio.gather(*(m.tick() for m in instances))

    assert sum(m.is_leader for m in instances) == 1


async def test_other_instance_takes_over_when_the_leader_stops(storage: Storage) -> None:
    # ttl = 5 * interval = 10 s: a takeover within the test can only come from the release
    leader, standby = Maintenance(storage, interval=2.0), Maintenance(storage, interval=2.0)
    stop = asyncio.Event()
    task = asyncio.create_task(leader.run(stop))
    try:
        await wait_until(lambda: leader.is_leader, what="first instance leads")
        await standby.tick()
        assert not standby.is_leader
        stop.set()
        await asyncio.wait_for(asyncio.shield(task), 5.0)
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)

    await standby.tick()
    assert standby.is_leader


async def test_other_instance_takes_over_after_the_ttl(storage: Storage) -> None:
    if type(storage).__name__ == "PostgresStorage":
        pytest.skip("PostgreSQL leadership ends with the holder's connection, not after a TTL")
    leader, standby = Maintenance(storage, interval=0.1), Maintenance(storage, interval=0.1)
    await leader.tick()  # ttl = 0.5 s; then this leader goes silent without releasing
    acquired = time.monotonic()
    await standby.tick()
    assert not standby.is_leader

    while not standby.is_leader:
        assert time.monotonic() - acquired < 3.0, "standby never took over"
        await asyncio.sleep(0.05)
        await standby.tick()

    assert time.monotonic() - acquired >= 0.4  # not before the ttl ran out
    await leader.tick()
    assert not leader.is_leader  # the old leader learns it lost on its next tick


async def test_only_the_leader_rescues(storage: Storage) -> None:
    job = await submit(storage, "noop")
    await storage.jobs_claim("wrk_dead", ["noop"], 1, 0.2)
    leader, standby = Maintenance(storage, interval=1.0), Maintenance(storage, interval=1.0)
    await leader.tick()  # elected while the lease is still alive: nothing to rescue yet
    assert (await get(storage, job.id)).state is JobState.RUNNING
    await wait_lease_expired(storage, job.id)
    seen: list[str] = []
    standby.on_change = lambda j: seen.append(j.id)

    await standby.tick()

    assert not standby.is_leader
    assert (await get(storage, job.id)).state is JobState.RUNNING
    assert seen == []

    leader.on_change = lambda j: seen.append(j.id)
    await leader.tick()

    rescued = await get(storage, job.id)
    assert rescued.state is JobState.QUEUED
    assert rescued.error is not None and rescued.error.code == "WORKER_LOST"
    assert seen == [job.id]


async def test_run_loop_rescues_while_it_leads(storage: Storage) -> None:
    job = await submit(storage, "noop")
    await storage.jobs_claim("wrk_dead", ["noop"], 1, 0.1)
    maintenance = Maintenance(storage, interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(maintenance.run(stop))
    try:
        await wait_lease_expired(storage, job.id)
        deadline = time.monotonic() + 3.0
        while (await get(storage, job.id)).state is JobState.RUNNING:
            assert time.monotonic() < deadline, "the running leader never rescued the job"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5.0)

    assert (await get(storage, job.id)).state is JobState.QUEUED
    # leadership was released when the loop ended: anyone can take it at once
    assert await storage.leader_acquire("maintenance", "mnt_probe", ttl=10.0)
