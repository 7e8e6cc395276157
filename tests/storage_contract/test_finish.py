"""Storage contract: ending an attempt (`jobs_finish`), guarded by the lease and its expiry."""

from __future__ import annotations

import asyncio

import pytest

from joblane.core.job import Job, JobErrorInfo, Lease, Progress
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import Outcome, ProgressUpdate
from storage_contract.helpers import claim_one, current, lease_of

BOOM = JobErrorInfo(
    code="BOOM",
    message="it broke",
    details={"line": 3, "why": ["a", "b"]},
    retryable=True,
    resolution="try again later",
)


async def finish(storage: Storage, outcome: Outcome) -> Job | None:
    """The job after `outcome`, or None when the outcome was refused."""
    (stamp,) = await storage.jobs_finish([outcome])
    if stamp is None:
        return None
    job = await current(storage, stamp.id)
    assert (stamp.state, stamp.version, stamp.attempt) == (job.state, job.version, job.attempt)
    return job


def assert_lease_cleared(job: Job) -> None:
    assert job.lease_token is None
    assert job.lease_expires_at is None


# -- each outcome ----------------------------------------------------------------------------
async def test_completed_stores_the_result(storage: Storage) -> None:
    job = await claim_one(storage)
    result = {"answer": 42, "items": [1, "two", None], "text": "fertig ✓"}

    done = await finish(storage, Outcome(lease_of(job), JobState.COMPLETED, result=result))

    assert done is not None
    assert done.state is JobState.COMPLETED
    assert done.result == result
    assert done.error is None
    assert done.completed_at == pytest.approx(storage.now(), abs=1.0)
    assert done.version == job.version + 1
    assert done.attempt == 1
    assert_lease_cleared(done)
    assert await current(storage, job.id) == done


async def test_completed_shows_full_progress(storage: Storage) -> None:
    job = await claim_one(storage)
    await storage.jobs_progress([ProgressUpdate(lease_of(job), Progress(30, 100))])
    done = await finish(storage, Outcome(lease_of(job), JobState.COMPLETED, result=None))
    assert done is not None
    assert done.progress.processed == 100
    assert done.progress.percentage == 100.0


async def test_failed_stores_the_error(storage: Storage) -> None:
    job = await claim_one(storage)

    failed = await finish(storage, Outcome(lease_of(job), JobState.FAILED, error=BOOM))

    assert failed is not None
    assert failed.state is JobState.FAILED
    assert failed.error == BOOM
    assert failed.result is None
    assert failed.failed_at == pytest.approx(storage.now(), abs=1.0)
    assert failed.completed_at is None
    assert failed.attempt == 1
    assert failed.version == job.version + 1
    assert_lease_cleared(failed)
    assert await current(storage, job.id) == failed


async def test_cancelled(storage: Storage) -> None:
    job = await claim_one(storage)

    cancelled = await finish(storage, Outcome(lease_of(job), JobState.CANCELLED))

    assert cancelled is not None
    assert cancelled.state is JobState.CANCELLED
    assert cancelled.cancelled_at == pytest.approx(storage.now(), abs=1.0)
    assert cancelled.version == job.version + 1
    assert_lease_cleared(cancelled)
    assert await current(storage, job.id) == cancelled


async def test_queued_is_a_retry_with_a_delay(storage: Storage) -> None:
    job = await claim_one(storage)
    await storage.jobs_progress([ProgressUpdate(lease_of(job), Progress(5, 10, 1, "half"))])

    retried = await finish(
        storage, Outcome(lease_of(job), JobState.QUEUED, error=BOOM, retry_delay=30.0)
    )

    assert retried is not None
    assert retried.state is JobState.QUEUED
    assert retried.attempt == 2
    assert retried.error == BOOM  # the last attempt's error stays visible
    assert retried.scheduled_at == pytest.approx(storage.now() + 30.0, abs=1.0)
    assert retried.started_at is None
    assert retried.worker_id is None
    assert retried.progress == Progress()  # a new attempt starts from scratch
    assert retried.version > job.version
    assert_lease_cleared(retried)
    assert await current(storage, job.id) == retried
    assert await storage.jobs_claim("w2", ["noop"], 10, 30.0) == []  # not before the delay


async def test_queued_without_delay_can_be_claimed_again_at_once(storage: Storage) -> None:
    job = await claim_one(storage)
    await finish(storage, Outcome(lease_of(job), JobState.QUEUED, error=BOOM))

    (again,) = await storage.jobs_claim("w2", ["noop"], 1, 30.0)

    assert again.id == job.id
    assert again.attempt == 2
    assert again.worker_id == "w2"
    assert again.lease_token


async def test_release_requeues_without_using_up_an_attempt(storage: Storage) -> None:
    job = await claim_one(storage)

    released = await finish(storage, Outcome(lease_of(job), JobState.QUEUED, release=True))

    assert released is not None
    assert released.state is JobState.QUEUED
    assert released.attempt == job.attempt == 1
    assert released.started_at is None
    assert released.worker_id is None
    assert released.scheduled_at <= storage.now()
    assert_lease_cleared(released)
    (again,) = await storage.jobs_claim("w2", ["noop"], 1, 30.0)
    assert again.id == job.id
    assert again.attempt == 1


async def test_a_released_job_starts_its_progress_afresh(storage: Storage) -> None:
    job = await claim_one(storage)
    await storage.jobs_progress([ProgressUpdate(lease_of(job), Progress(50, 100, 2, "half"))])
    released = await finish(storage, Outcome(lease_of(job), JobState.QUEUED, release=True))
    assert released is not None
    assert released.progress == Progress()

    (again,) = await storage.jobs_claim("w2", ["noop"], 1, 30.0)
    await storage.jobs_progress([ProgressUpdate(lease_of(again), Progress(10, 100))])
    assert (await current(storage, job.id)).progress.processed == 10


async def test_several_outcomes_in_one_call(storage: Storage) -> None:
    a = await claim_one(storage)
    b = await claim_one(storage)
    c = await claim_one(storage)

    results = await storage.jobs_finish(
        [
            Outcome(lease_of(a), JobState.COMPLETED, result="a"),
            Outcome(Lease(b.id, "stale"), JobState.COMPLETED, result="b"),
            Outcome(lease_of(c), JobState.FAILED, error=BOOM),
        ]
    )

    assert len(results) == 3
    assert results[0] is not None
    assert results[0].state is JobState.COMPLETED
    assert results[1] is None
    assert results[2] is not None
    assert results[2].state is JobState.FAILED
    assert (await current(storage, b.id)).state is JobState.RUNNING


# -- the lease guard -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "outcome_state",
    [JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.QUEUED],
)
async def test_wrong_token_changes_nothing(storage: Storage, outcome_state: JobState) -> None:
    job = await claim_one(storage)
    before = await current(storage, job.id)

    outcome = Outcome(Lease(job.id, "forged"), outcome_state, result=1, error=BOOM)
    assert await finish(storage, outcome) is None
    release = Outcome(Lease(job.id, "forged"), outcome_state, release=True)
    assert await finish(storage, release) is None

    assert await current(storage, job.id) == before


async def test_finishing_twice_is_refused(storage: Storage) -> None:
    job = await claim_one(storage)
    done = await finish(storage, Outcome(lease_of(job), JobState.COMPLETED, result="first"))
    assert done is not None

    assert await finish(storage, Outcome(lease_of(job), JobState.FAILED, error=BOOM)) is None
    assert await finish(storage, Outcome(lease_of(job), JobState.COMPLETED, result="2")) is None
    assert await current(storage, job.id) == done


async def test_a_late_worker_cannot_overwrite_a_rescued_job(storage: Storage) -> None:
    job = await claim_one(storage, lease_seconds=0.05)
    old_lease = lease_of(job)
    await asyncio.sleep(0.1)
    rescued = await finish(
        storage, Outcome(old_lease, JobState.QUEUED, error=BOOM, retry_delay=0.0, rescue=True)
    )
    assert rescued is not None
    assert rescued.state is JobState.QUEUED
    assert rescued.attempt == 2
    (second,) = await storage.jobs_claim("w2", ["noop"], 1, 30.0)
    assert second.lease_token != old_lease.token
    before = await current(storage, job.id)

    # the first worker wakes up and reports
    assert await finish(storage, Outcome(old_lease, JobState.COMPLETED, result="late")) is None
    assert await finish(storage, Outcome(old_lease, JobState.FAILED, error=BOOM)) is None
    assert await finish(storage, Outcome(old_lease, JobState.QUEUED, release=True)) is None
    assert await storage.jobs_progress([ProgressUpdate(old_lease, Progress(9, 9))]) == {job.id}
    assert (await storage.jobs_heartbeat([old_lease], 30.0)).lost == {job.id}

    assert await current(storage, job.id) == before


async def test_a_late_worker_cannot_overwrite_a_cancelled_job(storage: Storage) -> None:
    job = await claim_one(storage, lease_seconds=0.05)
    await storage.job_cancel(job.id, None, "stop")
    await asyncio.sleep(0.1)
    cancelled = await finish(storage, Outcome(lease_of(job), JobState.CANCELLED, rescue=True))
    assert cancelled is not None
    assert cancelled.state is JobState.CANCELLED

    assert await finish(storage, Outcome(lease_of(job), JobState.COMPLETED, result=1)) is None
    assert await current(storage, job.id) == cancelled


@pytest.mark.parametrize("outcome_state", [JobState.COMPLETED, JobState.QUEUED])
async def test_success_or_retry_after_a_cancel_request_ends_cancelled(
    storage: Storage, outcome_state: JobState
) -> None:
    job = await claim_one(storage)
    requested = await storage.job_cancel(job.id, None, "changed my mind")
    assert requested.job is not None
    assert requested.job.state is JobState.RUNNING
    assert requested.job.cancel_requested

    ended = await finish(
        storage, Outcome(lease_of(job), outcome_state, result={"x": 1}, retry_delay=5.0)
    )

    assert ended is not None
    assert ended.state is JobState.CANCELLED
    assert ended.completed_at is None
    assert ended.attempt == 1
    assert ended.cancelled_at is not None
    assert ended.cancel_reason == "changed my mind"
    assert_lease_cleared(ended)
    assert await current(storage, job.id) == ended


async def test_release_after_a_cancel_request_ends_cancelled(storage: Storage) -> None:
    job = await claim_one(storage)
    await storage.job_cancel(job.id, None, None)
    ended = await finish(storage, Outcome(lease_of(job), JobState.QUEUED, release=True))
    assert ended is not None
    assert ended.state is JobState.CANCELLED


# -- rescue ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("outcome_state", "final"),
    [
        (JobState.QUEUED, JobState.QUEUED),
        (JobState.FAILED, JobState.FAILED),
        (JobState.CANCELLED, JobState.CANCELLED),
    ],
)
async def test_rescue_applies_only_once_the_lease_expired(
    storage: Storage, outcome_state: JobState, final: JobState
) -> None:
    job = await claim_one(storage, lease_seconds=0.05)
    outcome = Outcome(lease_of(job), outcome_state, error=BOOM, rescue=True)
    before = await current(storage, job.id)

    assert await finish(storage, outcome) is None
    assert await current(storage, job.id) == before

    await asyncio.sleep(0.1)
    rescued = await finish(storage, outcome)
    assert rescued is not None
    assert rescued.state is final
    assert rescued.error == BOOM
    assert_lease_cleared(rescued)


async def test_rescue_is_refused_after_the_worker_heartbeats_again(storage: Storage) -> None:
    job = await claim_one(storage, lease_seconds=0.05)
    await asyncio.sleep(0.1)
    await storage.jobs_heartbeat([lease_of(job)], 30.0)

    outcome = Outcome(lease_of(job), JobState.FAILED, error=BOOM, rescue=True)
    assert await finish(storage, outcome) is None
    assert (await current(storage, job.id)).state is JobState.RUNNING


async def test_a_rescued_retry_is_claimable_again(storage: Storage) -> None:
    job = await claim_one(storage, lease_seconds=0.05)
    await asyncio.sleep(0.1)
    await finish(storage, Outcome(lease_of(job), JobState.QUEUED, error=BOOM, rescue=True))
    (again,) = await storage.jobs_claim("w2", ["noop"], 1, 30.0)
    assert again.id == job.id
    assert again.attempt == 2


@pytest.mark.parametrize("state", [JobState.COMPLETED, JobState.FAILED, JobState.QUEUED])
async def test_a_cancel_request_made_during_the_attempt_wins(
    storage: Storage, state: JobState
) -> None:
    job = await claim_one(storage)
    await storage.job_cancel(job.id, None, "stop")

    ended = await finish(storage, Outcome(lease_of(job), state, result=1, error=BOOM))

    assert ended is not None
    assert ended.state is JobState.CANCELLED
    assert ended.result is None
