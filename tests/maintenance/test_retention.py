"""`Retention`, the leader's purge: expired jobs and batches go in chunks within a budget (a
backlog carries over to the next tick), each tenant's retention is respected, the server
default applies to the others, and tombstones expire in turn. The task's clock is moved
forward instead of ageing the data."""

from __future__ import annotations

import logging

import pytest

from joblane.core.job import Job
from joblane.core.retention import DAY
from joblane.core.states import JobState
from joblane.core.tenant import Tenant, TenantSettings
from joblane.maintenance.leader import Maintenance
from joblane.maintenance.retention import Retention, RetentionSettings
from joblane.storage.base import Storage
from joblane.storage.params import Outcome
from storage_contract.helpers import claim_one, lease_of, make_batch

TENANT = "tenant-a"
OTHER = "tenant-b"
FAST = RetentionSettings(days=30, tombstone_days=90, chunk=500, pause=0.0, budget=5.0)


async def finished(storage: Storage, tenant: str = TENANT) -> Job:
    job = await claim_one(storage, 30.0, tenant_id=tenant)
    (stamp,) = await storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED)])
    assert stamp is not None
    return job


def in_days(storage: Storage, days: float) -> Retention:
    """What the task does `days` from now (the data stays as it is)."""
    return Retention(storage, FAST, clock=lambda: storage.now() + days * DAY)


async def gone(storage: Storage, jobs: list[Job]) -> list[bool]:
    return [await storage.job_get(job.id, None) is None for job in jobs]


async def test_the_server_default_applies_to_tenants_without_their_own(storage: Storage) -> None:
    jobs = [await finished(storage), await finished(storage, OTHER)]

    assert (await in_days(storage, 29).run()).jobs == 0
    assert await gone(storage, jobs) == [False, False]

    purged = await in_days(storage, 31).run()

    assert (purged.jobs, purged.done) == (2, True)
    assert await gone(storage, jobs) == [True, True]


async def test_a_tenants_own_retention_wins(storage: Storage) -> None:
    await storage.tenant_put(Tenant(TENANT, "", 0.0, 0.0, TenantSettings(retention_days=60)))
    await storage.tenant_put(Tenant(OTHER, "", 0.0, 0.0, TenantSettings(retention_days=7)))
    mine, theirs, third = (
        await finished(storage),
        await finished(storage, OTHER),
        await finished(storage, "tenant-c"),
    )

    await in_days(storage, 8).run()
    assert await gone(storage, [mine, theirs, third]) == [False, True, False]

    await in_days(storage, 31).run()
    assert await gone(storage, [mine, third]) == [False, True]

    await in_days(storage, 61).run()
    assert await gone(storage, [mine]) == [True]


async def test_a_backlog_drains_chunk_by_chunk_over_ticks(
    storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = [await finished(storage) for _ in range(5)]
    # no time for more than one round of chunks per run: 2 jobs per tick
    settings = RetentionSettings(chunk=2, pause=0.0, budget=0.0, every=100)
    task = Retention(storage, settings, clock=lambda: storage.now() + 31 * DAY)

    with caplog.at_level(logging.INFO, logger="joblane.maintenance"):
        first = await task.tick()
    assert first is not None and (first.jobs, first.done) == (2, False)
    assert sum(await gone(storage, jobs)) == 2
    assert "retention: purged 2 jobs" in caplog.text

    second = await task.tick()  # behind: runs again at once, though `every` is 100
    third = await task.tick()
    assert second is not None and third is not None
    assert (second.jobs, third.jobs, third.done) == (2, 1, True)
    assert await gone(storage, jobs) == [True] * 5
    assert await task.tick() is None  # caught up: back to every 100 ticks


async def test_an_expired_batch_goes_whole(storage: Storage) -> None:
    batch, item_ids = await make_batch(storage, 7)
    claimed = await storage.jobs_claim("w1", ["noop"], 7, 30.0)
    await storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED) for job in claimed])
    await storage.batches_settle(10)

    settings = RetentionSettings(chunk=3, pause=0.0, budget=5.0)
    purged = await Retention(storage, settings, clock=lambda: storage.now() + 31 * DAY).run()

    assert (purged.batches, purged.batch_items, purged.done) == (1, 7, True)
    assert await storage.batch_get(batch.id, None) is None
    assert await storage.tombstone_get(batch.id, TENANT) is not None
    for item_id in item_ids:
        assert await storage.job_get(item_id, None) is None
        assert await storage.tombstone_get(item_id, TENANT) is not None


async def test_tombstones_expire_after_tombstone_days(storage: Storage) -> None:
    job = await finished(storage)
    await in_days(storage, 31).run()
    assert await storage.tombstone_get(job.id, TENANT) is not None

    assert (await in_days(storage, 89).run()).tombstones == 0
    assert await storage.tombstone_get(job.id, TENANT) is not None

    assert (await in_days(storage, 91).run()).tombstones == 1
    assert await storage.tombstone_get(job.id, TENANT) is None


async def test_only_the_leader_purges(storage: Storage) -> None:
    job = await finished(storage)
    leader, standby = Maintenance(storage, interval=1.0), Maintenance(storage, interval=1.0)
    for instance in (leader, standby):
        instance.retention = in_days(storage, 31)

    await leader.tick()
    assert await gone(storage, [job]) == [True]
    job = await finished(storage)
    await standby.tick()
    assert await gone(storage, [job]) == [False]
