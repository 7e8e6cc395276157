"""Storage contract: retention. Expired jobs and batches are purged in chunks, each purged id
leaves a tombstone of its tenant, tombstones expire in turn. Cutoffs are explicit epoch seconds,
so "expired" is a cutoff after the finish (or before it, for what must stay)."""

from __future__ import annotations

import asyncio

from factories import new_job
from joblane.core.job import Job, JobErrorInfo
from joblane.core.retention import Cutoffs
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import JobFilter, Outcome
from joblane.storage.postgres.backend import PostgresStorage
from joblane.storage.sqlite.backend import SqliteStorage
from storage_contract.helpers import batch_jobs, claim_one, lease_of, make_batch

TENANT = "tenant-a"
OTHER = "tenant-b"
BOOM = JobErrorInfo(code="BOOM", message="it broke")
NEVER = "job_00000000000000000000000000"


async def ended(
    storage: Storage, state: JobState = JobState.COMPLETED, tenant: str = TENANT
) -> Job:
    job = await claim_one(storage, 30.0, tenant_id=tenant)
    error = BOOM if state is JobState.FAILED else None
    (stamp,) = await storage.jobs_finish([Outcome(lease_of(job), state, error=error)])
    assert stamp is not None
    return job


async def settled_batch(storage: Storage, count: int, tenant: str = TENANT) -> list[str]:
    """A batch whose `count` items all finished (the first one failed), settled; its id first,
    then its item ids."""
    batch, item_ids = await make_batch(storage, count, tenant_id=tenant)
    claimed = sorted(await storage.jobs_claim("w1", ["noop"], count, 30.0), key=lambda j: j.id)
    assert [job.id for job in claimed] == item_ids
    outcomes = [Outcome(lease_of(claimed[0]), JobState.FAILED, error=BOOM)] + [
        Outcome(lease_of(job), JobState.COMPLETED) for job in claimed[1:]
    ]
    await storage.jobs_finish(outcomes)
    assert await storage.batches_settle(100) == [batch.id]
    return [batch.id, *item_ids]


def later(storage: Storage) -> float:
    return storage.now() + 1.0


def earlier(storage: Storage) -> float:
    return storage.now() - 3600.0


async def rows_of(storage: Storage, table: str, batch_id: str) -> int:
    """Rows of a batch's side table (batch_counts, batch_errors, batch_purges), read directly."""
    sql = f"SELECT count(*) FROM {table} WHERE batch_id = "
    if isinstance(storage, SqliteStorage):
        row = storage._read(lambda c: c.execute(sql + "?", (batch_id,)).fetchone())
        return int(row[0])
    assert isinstance(storage, PostgresStorage)
    async with storage._conn() as conn:
        return int(await conn.fetchval(sql + "$1", batch_id))


# -- jobs ------------------------------------------------------------------------------------
async def test_expire_purges_only_jobs_finished_before_the_cutoff(storage: Storage) -> None:
    old = [
        await ended(storage, JobState.COMPLETED),
        await ended(storage, JobState.FAILED),
        await ended(storage, JobState.CANCELLED),
    ]
    (queued,) = await storage.jobs_insert([new_job(TENANT, "idle")])
    running = await claim_one(storage, 30.0)
    await asyncio.sleep(0.02)
    cutoff = storage.now()
    await asyncio.sleep(0.02)
    recent = await ended(storage)

    assert await storage.jobs_expire(Cutoffs(cutoff), 100) == 3

    for job in old:
        assert await storage.job_get(job.id, None) is None
    for job in (queued, running, recent):
        assert await storage.job_get(job.id, None) is not None
    assert await storage.jobs_expire(Cutoffs(cutoff), 100) == 0


async def test_expire_goes_by_finish_not_creation(storage: Storage) -> None:
    job = await claim_one(storage, 30.0)
    await asyncio.sleep(0.02)
    cutoff = storage.now()
    await asyncio.sleep(0.02)
    await storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED)])

    assert await storage.jobs_expire(Cutoffs(cutoff), 100) == 0
    assert await storage.job_get(job.id, None) is not None


async def test_expire_works_in_chunks_of_the_limit(storage: Storage) -> None:
    for tenant in (TENANT, TENANT, OTHER, OTHER, "tenant-c"):
        await ended(storage, tenant=tenant)
    cutoffs = Cutoffs(later(storage))

    assert await storage.jobs_expire(cutoffs, 2) == 2
    assert await storage.jobs_expire(cutoffs, 2) == 2
    assert await storage.jobs_expire(cutoffs, 2) == 1
    assert await storage.jobs_expire(cutoffs, 2) == 0


async def test_a_tenant_with_its_own_retention_keeps_its_own_cutoff(storage: Storage) -> None:
    mine = await ended(storage, tenant=TENANT)
    theirs = await ended(storage, tenant=OTHER)
    third = await ended(storage, tenant="tenant-c")

    # TENANT keeps jobs longer than the default; OTHER shorter
    cutoffs = Cutoffs(earlier(storage), {TENANT: earlier(storage) - 3600, OTHER: later(storage)})
    assert await storage.jobs_expire(cutoffs, 100) == 1
    assert await storage.job_get(theirs.id, None) is None
    assert await storage.job_get(mine.id, None) is not None
    assert await storage.job_get(third.id, None) is not None

    assert await storage.jobs_expire(Cutoffs(later(storage), {TENANT: earlier(storage)}), 100) == 1
    assert await storage.job_get(third.id, None) is None
    assert await storage.job_get(mine.id, None) is not None


async def test_a_retried_job_is_not_expired(storage: Storage) -> None:
    job = await ended(storage, JobState.FAILED)
    assert (await storage.job_retry(job.id, TENANT)).changed

    assert await storage.jobs_expire(Cutoffs(later(storage)), 100) == 0
    assert await storage.job_get(job.id, None) is not None


async def test_expire_leaves_batch_items_to_their_batch(storage: Storage) -> None:
    batch_id, *item_ids = await settled_batch(storage, 3)

    assert await storage.jobs_expire(Cutoffs(later(storage)), 100) == 0
    assert len(await batch_jobs(storage, batch_id)) == 3
    assert await storage.tombstone_get(item_ids[0], None) is None


# -- tombstones ------------------------------------------------------------------------------
async def test_a_purged_id_leaves_a_tombstone_of_its_tenant(storage: Storage) -> None:
    job = await ended(storage)
    before = storage.now()
    await storage.jobs_expire(Cutoffs(later(storage)), 100)
    after = storage.now()

    purged_at = await storage.tombstone_get(job.id, TENANT)
    assert purged_at is not None
    assert before - 1.0 <= purged_at <= after + 1.0  # PostgreSQL: the database's clock
    assert await storage.tombstone_get(job.id, None) == purged_at  # admin: any tenant
    assert await storage.tombstone_get(job.id, OTHER) is None  # another tenant: nothing
    assert await storage.tombstone_get(NEVER, TENANT) is None


async def test_tombstones_are_purged_by_age_in_chunks(storage: Storage) -> None:
    jobs = [await ended(storage) for _ in range(3)]
    await storage.jobs_expire(Cutoffs(later(storage)), 100)

    assert await storage.tombstones_purge(earlier(storage), 100) == 0
    assert await storage.tombstones_purge(later(storage), 2) == 2
    assert await storage.tombstones_purge(later(storage), 2) == 1
    for job in jobs:
        assert await storage.tombstone_get(job.id, None) is None


# -- batches ---------------------------------------------------------------------------------
async def test_an_expired_batch_goes_first_then_its_items_in_chunks(storage: Storage) -> None:
    batch_id, *item_ids = await settled_batch(storage, 5)

    assert await storage.batches_expire(Cutoffs(later(storage)), 10) == [batch_id]

    # the batch is gone at once (and can no longer be changed); its items go chunk by chunk
    assert await storage.batch_get(batch_id, None) is None
    assert await storage.tombstone_get(batch_id, TENANT) is not None
    assert await storage.tombstone_get(batch_id, OTHER) is None
    assert not (await storage.batch_retry_failed(batch_id, None)).changed
    assert len(await batch_jobs(storage, batch_id)) == 5
    assert await storage.batches_expire(Cutoffs(later(storage)), 10) == []

    assert await storage.batch_items_purge(2) == 2
    assert len(await batch_jobs(storage, batch_id)) == 3
    assert await storage.batch_items_purge(2) == 2
    assert await storage.batch_items_purge(2) == 1
    assert await storage.batch_items_purge(2) == 0

    for item_id in item_ids:
        assert await storage.job_get(item_id, None) is None
        assert await storage.tombstone_get(item_id, TENANT) is not None
    for table in ("batch_counts", "batch_errors", "batch_purges"):
        assert await rows_of(storage, table, batch_id) == 0, table


async def test_only_settled_batches_past_their_tenants_cutoff_expire(storage: Storage) -> None:
    open_batch, _ = await make_batch(storage, 2, type_="idle")  # queued: never settled
    mine, *_ = await settled_batch(storage, 1, tenant=TENANT)
    theirs, *_ = await settled_batch(storage, 1, tenant=OTHER)

    cutoffs = Cutoffs(later(storage), {TENANT: earlier(storage)})
    assert await storage.batches_expire(cutoffs, 10) == [theirs]

    assert await storage.batch_get(open_batch.id, None) is not None
    assert await storage.batch_get(mine, None) is not None
    assert await storage.batches_expire(Cutoffs(earlier(storage)), 10) == []


async def test_batches_expire_up_to_the_limit(storage: Storage) -> None:
    first = (await settled_batch(storage, 1))[0]
    second = (await settled_batch(storage, 1))[0]

    expired = await storage.batches_expire(Cutoffs(later(storage)), 1)
    expired += await storage.batches_expire(Cutoffs(later(storage)), 1)

    assert sorted(expired) == sorted([first, second])
    assert await storage.batch_items_purge(10) == 2
    assert await rows_of(storage, "batch_purges", first) == 0
    assert await rows_of(storage, "batch_purges", second) == 0


async def test_an_item_retried_after_its_batch_went_goes_too(storage: Storage) -> None:
    batch_id, failed_item, *_ = await settled_batch(storage, 3)
    await storage.batches_expire(Cutoffs(later(storage)), 10)

    retried = await storage.job_retry(failed_item, TENANT)  # raced the purge: now queued
    assert retried.changed
    assert await storage.jobs_claim("w1", ["noop"], 10, 30.0) == []  # never runs

    assert await storage.batch_items_purge(100) == 3
    assert await storage.job_get(failed_item, None) is None
    query = JobFilter(tenant_id=None, batch_id=batch_id, limit=10)
    assert await storage.jobs_list(query) == []
    for table in ("batch_counts", "batch_errors", "batch_purges"):
        assert await rows_of(storage, table, batch_id) == 0, table
