"""Storage contract: migrations, health, the storage clock and waiting for claimable jobs."""

from __future__ import annotations

import asyncio
import time

from factories import new_job
from joblane.core.job import Lease
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import Outcome


async def test_migrate_again_applies_nothing(storage: Storage) -> None:
    assert await storage.migrate() == []
    assert await storage.migrations_pending() == []


async def test_nothing_pending_after_the_fixture_migrated(storage: Storage) -> None:
    assert await storage.migrations_pending() == []


async def test_ping(storage: Storage) -> None:
    await storage.ping()


async def test_now_is_wall_time(storage: Storage) -> None:
    assert abs(storage.now() - time.time()) < 5.0
    first = storage.now()
    await asyncio.sleep(0.01)
    assert storage.now() > first


# -- jobs_wait_available ---------------------------------------------------------------------
async def test_wait_returns_false_after_the_timeout_when_nothing_is_claimable(
    storage: Storage,
) -> None:
    await storage.jobs_insert([new_job(type_="other")])
    await storage.jobs_insert([new_job(run_at=storage.now() + 3600)])
    started = time.monotonic()

    assert not await storage.jobs_wait_available(["noop"], 0.1)

    elapsed = time.monotonic() - started
    assert 0.09 <= elapsed < 1.0


async def test_wait_wakes_up_soon_after_an_insert_from_another_task(storage: Storage) -> None:
    async def insert_later() -> None:
        await asyncio.sleep(0.05)
        await storage.jobs_insert([new_job()])

    inserter = asyncio.create_task(insert_later())
    started = time.monotonic()

    assert await storage.jobs_wait_available(["noop"], 5.0)

    assert time.monotonic() - started < 1.0
    await inserter


async def test_wait_ignores_inserts_of_other_types(storage: Storage) -> None:
    async def insert_later() -> None:
        await asyncio.sleep(0.02)
        await storage.jobs_insert([new_job(type_="other")])

    inserter = asyncio.create_task(insert_later())
    assert not await storage.jobs_wait_available(["noop"], 0.15)
    await inserter


async def test_wait_returns_at_once_when_a_job_is_already_claimable(storage: Storage) -> None:
    await storage.jobs_insert([new_job()])
    started = time.monotonic()

    assert await storage.jobs_wait_available(["noop"], 5.0)

    assert time.monotonic() - started < 1.0


async def test_wait_wakes_up_when_a_job_is_requeued(storage: Storage) -> None:
    await storage.jobs_insert([new_job()])
    (job,) = await storage.jobs_claim("w1", ["noop"], 1, 30.0)
    assert job.lease_token is not None
    lease = Lease(job.id, job.lease_token)

    async def release_later() -> None:
        await asyncio.sleep(0.05)
        await storage.jobs_finish([Outcome(lease, JobState.QUEUED, release=True)])

    releaser = asyncio.create_task(release_later())
    started = time.monotonic()

    assert await storage.jobs_wait_available(["noop"], 5.0)

    assert time.monotonic() - started < 1.0
    await releaser
