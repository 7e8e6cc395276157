"""Small builders shared by the storage contract modules."""

from __future__ import annotations

from collections import Counter
from typing import Any

from factories import new_job
from joblane.core import ids
from joblane.core.batch import Batch, BatchCounts, NewBatch
from joblane.core.job import Job, Lease, NewJob
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import JobFilter


async def claim_one(
    storage: Storage, lease_seconds: float = 30.0, type_: str = "noop", **fields: Any
) -> Job:
    """Insert one job of `type_` and claim it (as worker `w1`)."""
    await storage.jobs_insert([new_job(type_=type_, **fields)])
    claimed = await storage.jobs_claim("w1", [type_], 1, lease_seconds)
    assert len(claimed) == 1
    return claimed[0]


def lease_of(job: Job) -> Lease:
    assert job.lease_token is not None
    return Lease(job.id, job.lease_token)


async def current(storage: Storage, job_id: str) -> Job:
    job = await storage.job_get(job_id, None)
    assert job is not None
    return job


# -- batches ---------------------------------------------------------------------------------
def new_batch(tenant_id: str = "tenant-a", **options: Any) -> NewBatch:
    return NewBatch(id=ids.new_id(ids.BATCH), tenant_id=tenant_id, **options)


def batch_items(batch: NewBatch, count: int, type_: str = "noop", **fields: Any) -> list[NewJob]:
    """`count` items of `batch`; their ids are made one after another, so id order is item order."""
    return [new_job(batch.tenant_id, type_, batch_id=batch.id, **fields) for _ in range(count)]


async def make_batch(
    storage: Storage,
    count: int,
    tenant_id: str = "tenant-a",
    type_: str = "noop",
    chunk: int | None = None,
    **options: Any,
) -> tuple[Batch, list[str]]:
    """Upload and commit a batch of `count` items (in chunks of `chunk`); the batch and its item
    ids in item order."""
    spec = new_batch(tenant_id, **options)
    items = batch_items(spec, count, type_)
    upload = await storage.batch_open(spec)
    step = chunk or max(1, count)
    for start in range(0, count, step):
        await upload.add(items[start : start + step])
    batch = await upload.commit()
    return batch, [item.id for item in items]


async def batch_now(storage: Storage, batch_id: str) -> Batch:
    batch = await storage.batch_get(batch_id, None)
    assert batch is not None
    return batch


async def batch_jobs(storage: Storage, batch_id: str) -> list[Job]:
    """Every item of the batch, as stored (newest first)."""
    return await storage.jobs_list(JobFilter(tenant_id=None, batch_id=batch_id, limit=10_000))


async def recount(storage: Storage, batch_id: str) -> BatchCounts:
    """The batch's counts recomputed from its items' states."""
    states = Counter(job.state for job in await batch_jobs(storage, batch_id))
    return BatchCounts(
        queued=states[JobState.QUEUED],
        running=states[JobState.RUNNING],
        completed=states[JobState.COMPLETED],
        failed=states[JobState.FAILED],
        cancelled=states[JobState.CANCELLED],
    )
