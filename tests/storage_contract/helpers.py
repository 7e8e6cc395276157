"""Small builders shared by the storage contract modules."""

from __future__ import annotations

from typing import Any

from factories import new_job
from joblane.core.job import Job, Lease
from joblane.storage.base import Storage


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
