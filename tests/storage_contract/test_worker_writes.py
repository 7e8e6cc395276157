"""Storage contract: heartbeats and progress, both guarded by the lease."""

from __future__ import annotations

import asyncio

import pytest

from factories import new_job
from joblane.core.job import Lease, Progress
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import Outcome, ProgressUpdate
from storage_contract.helpers import claim_one, current, lease_of


# -- heartbeat -------------------------------------------------------------------------------
async def test_heartbeat_extends_the_lease(storage: Storage) -> None:
    job = await claim_one(storage, lease_seconds=1.0)
    assert job.lease_expires_at is not None

    result = await storage.jobs_heartbeat([lease_of(job)], 60.0)

    assert result.lost == frozenset()
    assert result.cancel_requested == frozenset()
    after = await current(storage, job.id)
    assert after.lease_expires_at is not None
    assert after.lease_expires_at > job.lease_expires_at + 50
    assert after.lease_expires_at == pytest.approx(storage.now() + 60.0, abs=1.0)
    assert after.state is JobState.RUNNING
    assert after.lease_token == job.lease_token


async def test_heartbeat_keeps_an_expired_but_unrescued_lease(storage: Storage) -> None:
    job = await claim_one(storage, lease_seconds=0.05)
    await asyncio.sleep(0.1)
    result = await storage.jobs_heartbeat([lease_of(job)], 30.0)
    assert result.lost == frozenset()
    assert await storage.jobs_expired_leases(10) == []


async def test_heartbeat_with_a_wrong_token_is_lost(storage: Storage) -> None:
    good = await claim_one(storage)
    other = await claim_one(storage)
    stale = await current(storage, other.id)

    result = await storage.jobs_heartbeat(
        [lease_of(good), Lease(other.id, "not-the-token"), Lease("job_nope", "x")], 60.0
    )

    assert result.lost == {other.id, "job_nope"}
    assert await current(storage, other.id) == stale  # not extended


async def test_heartbeat_of_a_finished_job_is_lost(storage: Storage) -> None:
    job = await claim_one(storage)
    await storage.jobs_finish([Outcome(lease_of(job), JobState.COMPLETED, result=1)])
    result = await storage.jobs_heartbeat([lease_of(job)], 60.0)
    assert result.lost == {job.id}


async def test_heartbeat_reports_a_cancel_request(storage: Storage) -> None:
    job = await claim_one(storage)
    calm = await claim_one(storage)
    change = await storage.job_cancel(job.id, None, "user asked")
    assert change.changed

    result = await storage.jobs_heartbeat([lease_of(job), lease_of(calm)], 60.0)

    assert result.cancel_requested == {job.id}
    assert result.lost == frozenset()
    assert await storage.jobs_cancel_requested([job.id, calm.id, "job_nope"]) == {job.id}


# -- progress --------------------------------------------------------------------------------
async def test_progress_is_applied_and_bumps_the_version(storage: Storage) -> None:
    job = await claim_one(storage)
    progress = Progress(processed=10, total=100, failed=1, message="ten of a hundred")

    lost = await storage.jobs_progress([ProgressUpdate(lease_of(job), progress)])

    assert lost == frozenset()
    after = await current(storage, job.id)
    assert after.progress == progress
    assert after.version == job.version + 1
    assert after.progress.percentage == 10.0


async def test_progress_never_goes_backwards(storage: Storage) -> None:
    job = await claim_one(storage)
    lease = lease_of(job)
    await storage.jobs_progress([ProgressUpdate(lease, Progress(40, 100, 3, "forty"))])

    await storage.jobs_progress([ProgressUpdate(lease, Progress(25, None, 1, None))])
    after = await current(storage, job.id)
    assert after.progress == Progress(40, 100, 3, "forty")

    await storage.jobs_progress([ProgressUpdate(lease, Progress(60, 120, 4, "sixty"))])
    after = await current(storage, job.id)
    assert after.progress == Progress(60, 120, 4, "sixty")


async def test_progress_updates_in_one_call_apply_in_order(storage: Storage) -> None:
    job = await claim_one(storage)
    lease = lease_of(job)
    updates = [ProgressUpdate(lease, Progress(n, 10)) for n in (1, 2, 3)]
    assert await storage.jobs_progress(updates) == frozenset()
    assert (await current(storage, job.id)).progress.processed == 3


async def test_progress_with_a_wrong_lease_is_lost_and_changes_nothing(storage: Storage) -> None:
    job = await claim_one(storage)
    good = await claim_one(storage)
    before = await current(storage, job.id)

    lost = await storage.jobs_progress(
        [
            ProgressUpdate(Lease(job.id, "stolen"), Progress(50, 100)),
            ProgressUpdate(lease_of(good), Progress(5, 10)),
        ]
    )

    assert lost == {job.id}
    assert await current(storage, job.id) == before
    assert (await current(storage, good.id)).progress.processed == 5


async def test_progress_for_a_job_that_is_not_running_is_lost(storage: Storage) -> None:
    (queued,) = await storage.jobs_insert([new_job(type_="unclaimed")])
    done = await claim_one(storage)
    await storage.jobs_finish([Outcome(lease_of(done), JobState.COMPLETED)])
    done_before = await current(storage, done.id)

    lost = await storage.jobs_progress(
        [
            ProgressUpdate(Lease(queued.id, "x"), Progress(1, 2)),
            ProgressUpdate(lease_of(done), Progress(1, 2)),
        ]
    )

    assert lost == {queued.id, done.id}
    assert await current(storage, queued.id) == queued
    assert await current(storage, done.id) == done_before
