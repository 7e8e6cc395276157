"""Storage contract: cancel, retry and delete as a user asks for them, scoped by tenant."""

from __future__ import annotations

import pytest

from factories import new_job
from joblane.core.job import Job, JobErrorInfo, Progress
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import Outcome, ProgressUpdate
from storage_contract.helpers import current, lease_of

TENANT = "tenant-a"
OTHER = "tenant-b"
ERROR = JobErrorInfo(code="BOOM", message="it broke")


BOTH = ["waiting", "noop"]


async def queued(storage: Storage, max_attempts: int = 3, type_: str = "waiting") -> Job:
    """A queued job; its type is not claimed by `running()` below."""
    (job,) = await storage.jobs_insert([new_job(TENANT, type_, max_attempts=max_attempts)])
    return job


async def running(storage: Storage, max_attempts: int = 3) -> Job:
    job = await queued(storage, max_attempts, type_="noop")
    claimed = await storage.jobs_claim("w1", ["noop"], 10, 30.0)
    assert [j.id for j in claimed] == [job.id]
    return claimed[0]


async def ended(storage: Storage, state: JobState) -> Job:
    """A job in terminal `state`, reached the way workers and users reach it."""
    if state is JobState.CANCELLED:
        job = await queued(storage)
        change = await storage.job_cancel(job.id, TENANT, "not needed")
        assert change.job is not None
        return change.job
    job = await running(storage)
    (stamp,) = await storage.jobs_finish([Outcome(lease_of(job), state, result=1, error=ERROR)])
    assert stamp is not None
    assert stamp.state is state
    done = await storage.job_get(stamp.id, None)
    assert done is not None
    return done


TERMINAL = [JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED]


# -- cancel ----------------------------------------------------------------------------------
async def test_cancel_queued_job_cancels_it(storage: Storage) -> None:
    job = await queued(storage)

    change = await storage.job_cancel(job.id, TENANT, "no longer needed")

    assert change.changed
    assert change.job is not None
    assert change.job.state is JobState.CANCELLED
    assert change.job.cancel_reason == "no longer needed"
    assert change.job.cancelled_at is not None
    assert change.job.version == job.version + 1
    assert await current(storage, job.id) == change.job
    assert await storage.jobs_claim("w1", BOTH, 10, 30.0) == []


async def test_cancel_running_job_only_requests_it(storage: Storage) -> None:
    job = await running(storage)

    change = await storage.job_cancel(job.id, TENANT, "stop please")

    assert change.changed
    assert change.job is not None
    assert change.job.state is JobState.RUNNING
    assert change.job.cancel_requested
    assert change.job.cancel_reason == "stop please"
    assert change.job.lease_token == job.lease_token  # the worker still holds it
    assert change.job.version == job.version + 1
    assert await current(storage, job.id) == change.job


async def test_cancel_running_job_twice_changes_it_once(storage: Storage) -> None:
    job = await running(storage)
    first = await storage.job_cancel(job.id, TENANT, "first")
    second = await storage.job_cancel(job.id, TENANT, "second")

    assert first.changed
    assert not second.changed
    assert second.job == first.job
    assert (await current(storage, job.id)).cancel_reason == "first"


@pytest.mark.parametrize("state", TERMINAL)
async def test_cancel_terminal_job_changes_nothing(storage: Storage, state: JobState) -> None:
    job = await ended(storage, state)

    change = await storage.job_cancel(job.id, TENANT, "too late")

    assert not change.changed
    assert change.job == job
    assert await current(storage, job.id) == job


async def test_cancel_unknown_job(storage: Storage) -> None:
    change = await storage.job_cancel("job_00000000000000000000000000", TENANT, None)
    assert change.job is None
    assert not change.changed


# -- retry -----------------------------------------------------------------------------------
@pytest.mark.parametrize("state", [JobState.FAILED, JobState.CANCELLED])
async def test_retry_failed_or_cancelled_queues_a_new_attempt(
    storage: Storage, state: JobState
) -> None:
    job = await ended(storage, state)

    change = await storage.job_retry(job.id, TENANT)

    assert change.changed
    again = change.job
    assert again is not None
    assert again.state is JobState.QUEUED
    assert again.attempt == job.attempt + 1
    assert again.max_attempts >= again.attempt
    assert again.version > job.version
    assert again.result is None
    assert not again.cancel_requested
    assert again.cancel_reason is None
    assert (again.completed_at, again.failed_at, again.cancelled_at) == (None, None, None)
    assert again.scheduled_at <= storage.now()
    assert await current(storage, job.id) == again
    (claimed,) = await storage.jobs_claim("w2", BOTH, 1, 30.0)
    assert claimed.id == job.id


async def test_retry_resets_progress(storage: Storage) -> None:
    job = await running(storage)
    await storage.jobs_progress([ProgressUpdate(lease_of(job), Progress(7, 10, 2, "seven"))])
    await storage.jobs_finish([Outcome(lease_of(job), JobState.FAILED, error=ERROR)])

    change = await storage.job_retry(job.id, TENANT)

    assert change.job is not None
    assert change.job.progress == Progress()


async def test_retry_after_the_last_attempt_raises_max_attempts(storage: Storage) -> None:
    job = await running(storage, max_attempts=2)
    await storage.jobs_finish([Outcome(lease_of(job), JobState.QUEUED, error=ERROR)])
    (job,) = await storage.jobs_claim("w1", ["noop"], 1, 30.0)
    assert job.attempt == 2
    await storage.jobs_finish([Outcome(lease_of(job), JobState.FAILED, error=ERROR)])

    change = await storage.job_retry(job.id, TENANT)

    assert change.changed
    assert change.job is not None
    assert change.job.attempt == 3
    assert change.job.max_attempts >= 3


async def test_retry_keeps_a_larger_max_attempts(storage: Storage) -> None:
    job = await ended(storage, JobState.FAILED)
    assert job.max_attempts == 3
    change = await storage.job_retry(job.id, TENANT)
    assert change.job is not None
    assert change.job.attempt == 2
    assert change.job.max_attempts == 3


async def test_retry_completed_job_changes_nothing(storage: Storage) -> None:
    job = await ended(storage, JobState.COMPLETED)
    change = await storage.job_retry(job.id, TENANT)
    assert not change.changed
    assert change.job == job
    assert await current(storage, job.id) == job


async def test_retry_queued_or_running_job_changes_nothing(storage: Storage) -> None:
    waiting = await queued(storage)
    busy = await running(storage)
    for job in (waiting, busy):
        before = await current(storage, job.id)
        change = await storage.job_retry(job.id, TENANT)
        assert not change.changed
        assert change.job == before
        assert await current(storage, job.id) == before


async def test_retry_unknown_job(storage: Storage) -> None:
    change = await storage.job_retry("job_00000000000000000000000000", TENANT)
    assert change == type(change)(job=None, changed=False)


# -- delete ----------------------------------------------------------------------------------
@pytest.mark.parametrize("state", TERMINAL)
async def test_delete_terminal_job(storage: Storage, state: JobState) -> None:
    job = await ended(storage, state)

    change = await storage.job_delete(job.id, TENANT)

    assert change.changed
    assert change.job is not None
    assert change.job.id == job.id
    assert await storage.job_get(job.id, None) is None
    again = await storage.job_delete(job.id, TENANT)
    assert again.job is None
    assert not again.changed


async def test_delete_running_or_queued_job_is_refused(storage: Storage) -> None:
    waiting = await queued(storage)
    busy = await running(storage)
    for job in (waiting, busy):
        before = await current(storage, job.id)
        change = await storage.job_delete(job.id, TENANT)
        assert not change.changed
        assert change.job == before
        assert await current(storage, job.id) == before


# -- tenants ---------------------------------------------------------------------------------
async def test_another_tenant_sees_nothing_and_changes_nothing(storage: Storage) -> None:
    jobs = [
        await queued(storage),
        await running(storage),
        await ended(storage, JobState.FAILED),
        await ended(storage, JobState.COMPLETED),
    ]
    for job in jobs:
        before = await current(storage, job.id)
        for change in (
            await storage.job_cancel(job.id, OTHER, "not yours"),
            await storage.job_retry(job.id, OTHER),
            await storage.job_delete(job.id, OTHER),
        ):
            assert change.job is None
            assert not change.changed
        assert await current(storage, job.id) == before


async def test_without_tenant_every_job_can_be_changed(storage: Storage) -> None:
    waiting = await queued(storage)
    failed = await ended(storage, JobState.FAILED)
    done = await ended(storage, JobState.COMPLETED)

    assert (await storage.job_cancel(waiting.id, None, "admin")).changed
    assert (await storage.job_retry(failed.id, None)).changed
    assert (await storage.job_delete(done.id, None)).changed
