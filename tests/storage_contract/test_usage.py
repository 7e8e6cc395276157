"""Storage contract: usage metering. Jobs accepted and items processed per tenant and UTC day,
counted by the writes that accept and finish jobs (see `joblane.core.usage`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

import pg
from conftest import BACKENDS
from factories import new_job
from joblane.core.clock import FakeClock
from joblane.core.job import JobErrorInfo
from joblane.core.states import JobState
from joblane.core.usage import UsageDay, utc_day
from joblane.storage.base import Storage
from joblane.storage.params import Outcome
from joblane.storage.sqlite.backend import SqliteStorage
from joblane.storage.sqlite.connection import SqliteOptions
from storage_contract.helpers import batch_items, claim_one, lease_of, make_batch, new_batch

TTL = 3600.0
BOOM = JobErrorInfo(code="BOOM", message="it broke", retryable=True)


async def totals(storage: Storage, tenant_id: str = "tenant-a") -> tuple[int, int]:
    """(jobs submitted, items processed) around today: yesterday to tomorrow, so that a test
    running across midnight (or a database clock a little off the host's) still sees it all."""
    today = utc_day(storage.now())
    days = await storage.usage_days(tenant_id, today - timedelta(days=1), today + timedelta(1))
    return sum(d.jobs_submitted for d in days), sum(d.items_processed for d in days)


async def finish_as(storage: Storage, state: JobState, **fields: Any) -> None:
    job = await claim_one(storage, **fields)
    error = BOOM if state is not JobState.COMPLETED else None
    (stamp,) = await storage.jobs_finish([Outcome(lease_of(job), state, error=error)])
    assert stamp is not None


# -- jobs submitted --------------------------------------------------------------------------
async def test_nothing_counted_before_anything_happens(storage: Storage) -> None:
    assert await totals(storage) == (0, 0)
    today = utc_day(storage.now())
    assert await storage.usage_days("tenant-a", today, today) == []


async def test_each_inserted_job_counts_once_for_its_tenant(storage: Storage) -> None:
    await storage.jobs_insert([new_job()])
    await storage.jobs_insert([new_job(), new_job(), new_job("tenant-b")])

    assert await totals(storage) == (3, 0)
    assert await totals(storage, "tenant-b") == (1, 0)


async def test_concurrent_submissions_all_count(storage: Storage) -> None:
    await asyncio.gather(*(storage.jobs_insert([new_job()]) for _ in range(40)))

    assert await totals(storage) == (40, 0)


async def test_an_idempotent_replay_does_not_count_again(storage: Storage) -> None:
    first = await storage.job_insert_idempotent(new_job(), "k1", "hash-1", TTL)
    replay = await storage.job_insert_idempotent(new_job(), "k1", "hash-1", TTL)
    mismatch = await storage.job_insert_idempotent(new_job(), "k1", "hash-2", TTL)

    assert first.created and not replay.created and mismatch.mismatch
    assert await totals(storage) == (1, 0)


async def test_every_item_of_a_committed_batch_counts(storage: Storage) -> None:
    await make_batch(storage, 25, chunk=10)
    await make_batch(storage, 3, tenant_id="tenant-b")

    assert await totals(storage) == (25, 0)
    assert await totals(storage, "tenant-b") == (3, 0)


async def test_an_aborted_batch_counts_nothing(storage: Storage) -> None:
    spec = new_batch()
    upload = await storage.batch_open(spec)
    await upload.add(batch_items(spec, 10))
    await upload.abort()

    assert await totals(storage) == (0, 0)


# -- items processed -------------------------------------------------------------------------
async def test_completed_and_failed_attempts_count_as_processed(storage: Storage) -> None:
    await finish_as(storage, JobState.COMPLETED)
    await finish_as(storage, JobState.FAILED)

    assert await totals(storage) == (2, 2)


async def test_cancelled_jobs_are_not_processed(storage: Storage) -> None:
    queued = new_job()
    await storage.jobs_insert([queued])
    await storage.job_cancel(queued.id, None, "not needed")
    running = await claim_one(storage)
    await storage.job_cancel(running.id, None, "stop")
    # the handler finished anyway: cancellation wins, and a cancelled job is not processed
    (stamp,) = await storage.jobs_finish([Outcome(lease_of(running), JobState.COMPLETED)])
    assert stamp is not None and stamp.state is JobState.CANCELLED

    assert await totals(storage) == (2, 0)


async def test_an_attempt_that_is_retried_or_released_is_not_processed_yet(
    storage: Storage,
) -> None:
    retried = await claim_one(storage)
    released = await claim_one(storage)
    await storage.jobs_finish(
        [
            Outcome(lease_of(retried), JobState.QUEUED, error=BOOM, retry_delay=0.0),
            Outcome(lease_of(released), JobState.QUEUED, release=True),
        ]
    )
    assert await totals(storage) == (2, 0)

    again = await storage.jobs_claim("w1", ["noop"], 10, 30.0)
    await storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED) for job in again])

    assert len(again) == 2
    assert await totals(storage) == (2, 2)


async def test_a_refused_outcome_counts_nothing(storage: Storage) -> None:
    job = await claim_one(storage)
    await storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED)])
    (late,) = await storage.jobs_finish([Outcome(lease_of(job), JobState.FAILED, error=BOOM)])

    assert late is None
    assert await totals(storage) == (1, 1)


async def test_the_rescuer_giving_up_counts_as_processed(storage: Storage) -> None:
    job = await claim_one(storage, lease_seconds=0.05)
    await asyncio.sleep(0.1)
    (stale,) = await storage.jobs_expired_leases(10)
    outcome = Outcome(lease_of(stale), JobState.FAILED, error=BOOM, rescue=True)

    (stamp,) = await storage.jobs_finish([outcome])

    assert stamp is not None and stamp.id == job.id and stamp.state is JobState.FAILED
    assert await totals(storage) == (1, 1)


async def test_a_job_retried_after_failing_is_processed_twice(storage: Storage) -> None:
    job = await claim_one(storage)
    await storage.jobs_finish([Outcome(lease_of(job), JobState.FAILED, error=BOOM)])
    assert (await storage.job_retry(job.id, None)).changed

    (again,) = await storage.jobs_claim("w1", ["noop"], 1, 30.0)
    await storage.jobs_finish([Outcome(lease_of(again), JobState.COMPLETED)])

    assert await totals(storage) == (1, 2)  # submitted once, processed twice


async def test_batch_items_count_as_processed_like_any_job(storage: Storage) -> None:
    await make_batch(storage, 5)
    claimed = await storage.jobs_claim("w1", ["noop"], 5, 30.0)
    outcomes = [Outcome(lease_of(job), JobState.COMPLETED) for job in claimed[:3]]
    outcomes += [Outcome(lease_of(job), JobState.FAILED, error=BOOM) for job in claimed[3:]]

    await storage.jobs_finish(outcomes)

    assert len(claimed) == 5
    assert await totals(storage) == (5, 5)


async def test_concurrent_finishes_all_count(storage: Storage) -> None:
    """On PostgreSQL each connection adds to its own shard; the read sums them."""
    jobs = [await claim_one(storage) for _ in range(20)]

    await asyncio.gather(
        *(storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED)]) for job in jobs)
    )

    assert await totals(storage) == (20, 20)


async def test_tenants_only_see_their_own_usage(storage: Storage) -> None:
    await finish_as(storage, JobState.COMPLETED, tenant_id="tenant-b")
    await storage.jobs_insert([new_job("tenant-b")])

    assert await totals(storage, "tenant-b") == (2, 1)
    assert await totals(storage, "tenant-a") == (0, 0)


# -- days ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Clocked:
    storage: Storage
    set_time: Callable[[float], Awaitable[None]]


@pytest.fixture(params=BACKENDS)
async def clocked(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Clocked]:
    """A storage whose clock the test sets: a `FakeClock` for SQLite; for PostgreSQL (whose
    times come from the database) `joblane_now()` redefined in the test's own database."""
    if request.param == "postgres":
        from joblane.storage.postgres.backend import PostgresStorage
        from joblane.storage.postgres.connection import PostgresOptions

        async with pg.fresh_database() as url:

            async def set_db_time(epoch: float) -> None:
                conn = await asyncpg.connect(url)
                try:
                    await conn.execute(
                        "CREATE OR REPLACE FUNCTION joblane_now() RETURNS double precision "
                        f"LANGUAGE sql STABLE AS $$ SELECT {epoch!r}::double precision $$"
                    )
                finally:
                    await conn.close()

            backend = PostgresStorage(PostgresOptions(url, max_connections=2))
            await backend.open()
            try:
                yield Clocked(backend, set_db_time)
            finally:
                await backend.close()
        return
    clock = FakeClock()

    async def set_clock(epoch: float) -> None:
        clock.set(epoch)

    sqlite = SqliteStorage(SqliteOptions(str(tmp_path / "joblane.db")), clock=clock)
    await sqlite.open()
    await sqlite.migrate()
    try:
        yield Clocked(sqlite, set_clock)
    finally:
        await sqlite.close()


MIDNIGHT = 1_772_409_600.0  # 2026-03-02T00:00:00Z
DAY_1, DAY_2 = date(2026, 3, 1), date(2026, 3, 2)


async def test_days_split_at_utc_midnight(clocked: Clocked) -> None:
    storage = clocked.storage
    await clocked.set_time(MIDNIGHT - 1)
    late = await claim_one(storage)  # submitted (and started) on day 1
    await storage.jobs_insert([new_job()])
    await clocked.set_time(MIDNIGHT + 1)
    await storage.jobs_finish([Outcome(lease_of(late), JobState.COMPLETED)])  # ends on day 2
    await make_batch(storage, 4)

    days = await storage.usage_days("tenant-a", DAY_1 - timedelta(days=1), DAY_2)

    assert days == [UsageDay(DAY_1, 2, 0), UsageDay(DAY_2, 4, 1)]
    assert await storage.usage_days("tenant-a", DAY_2, DAY_2) == [UsageDay(DAY_2, 4, 1)]
    assert await storage.usage_days("tenant-a", DAY_2 + timedelta(days=1), DAY_2) == []
