"""Storage contract: what users do to a batch (pause, resume, cancel, retry the failed items) and
what the leader does (cancel past the deadline, settle finished batches)."""

from __future__ import annotations

import asyncio

from factories import new_job
from joblane.core.batch import BatchControl, BatchCounts, BatchStatus
from joblane.core.job import Job, JobErrorInfo
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import BatchChange, Outcome
from storage_contract.helpers import batch_jobs, batch_now, lease_of, make_batch, recount

TENANT = "tenant-a"
OTHER = "tenant-b"
LEASE = 30.0
UNKNOWN = "bat_00000000000000000000000000"
BOOM = JobErrorInfo(code="BOOM", message="it broke")


async def claim(storage: Storage, limit: int = 10) -> list[Job]:
    return sorted(await storage.jobs_claim("w1", ["noop"], limit, LEASE), key=lambda j: j.id)


async def finish_all(storage: Storage, jobs: list[Job], state: JobState) -> None:
    error = BOOM if state is JobState.FAILED else None
    stamps = await storage.jobs_finish([Outcome(lease_of(j), state, error=error) for j in jobs])
    assert all(stamp is not None for stamp in stamps)


# -- pause and resume ------------------------------------------------------------------------
async def test_paused_batch_items_are_not_claimed_until_resumed(storage: Storage) -> None:
    batch, item_ids = await make_batch(storage, 3)
    (loose,) = await storage.jobs_insert([new_job(TENANT)])

    paused = await storage.batch_set_control(batch.id, TENANT, BatchControl.PAUSED, None)

    assert paused.changed
    assert paused.batch is not None
    assert paused.batch.control is BatchControl.PAUSED
    assert paused.batch.status is BatchStatus.PAUSED
    assert paused.batch.version > batch.version
    assert paused.batch.updated_at >= batch.updated_at
    assert await batch_now(storage, batch.id) == paused.batch
    assert [j.id for j in await claim(storage)] == [loose.id]  # unbatched jobs still run
    assert await claim(storage) == []

    resumed = await storage.batch_set_control(batch.id, TENANT, BatchControl.ACTIVE, None)

    assert resumed.changed
    assert resumed.batch is not None
    assert resumed.batch.control is BatchControl.ACTIVE
    assert resumed.batch.status is BatchStatus.QUEUED
    assert resumed.batch.version > paused.batch.version
    assert [j.id for j in await claim(storage)] == item_ids


async def test_pausing_twice_or_resuming_an_active_batch_changes_nothing(
    storage: Storage,
) -> None:
    batch, _ = await make_batch(storage, 2)
    assert not (
        await storage.batch_set_control(batch.id, TENANT, BatchControl.ACTIVE, None)
    ).changed
    first = await storage.batch_set_control(batch.id, TENANT, BatchControl.PAUSED, None)
    second = await storage.batch_set_control(batch.id, TENANT, BatchControl.PAUSED, None)

    assert first.changed
    assert not second.changed
    assert second.items == 0
    assert second.batch == first.batch
    assert await batch_now(storage, batch.id) == first.batch


async def test_unknown_or_another_tenants_batch_cannot_be_controlled(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 1)
    nothing = BatchChange(None, False)
    assert await storage.batch_set_control(UNKNOWN, None, BatchControl.PAUSED, None) == nothing
    assert await storage.batch_set_control(batch.id, OTHER, BatchControl.PAUSED, None) == nothing
    assert await storage.batch_set_control(batch.id, OTHER, BatchControl.CANCELLED, "x") == nothing
    assert await storage.batch_retry_failed(UNKNOWN, None) == nothing
    assert await storage.batch_retry_failed(batch.id, OTHER) == nothing
    assert await batch_now(storage, batch.id) == batch
    assert (await storage.batch_set_control(batch.id, None, BatchControl.PAUSED, None)).changed


# -- cancel ----------------------------------------------------------------------------------
async def test_cancel_cancels_queued_items_and_asks_running_ones_to_stop(
    storage: Storage,
) -> None:
    batch, item_ids = await make_batch(storage, 5)
    busy = await claim(storage, 2)

    change = await storage.batch_set_control(batch.id, TENANT, BatchControl.CANCELLED, "enough")

    assert change.changed
    assert change.items == 5
    cancelled = change.batch
    assert cancelled is not None
    assert cancelled.control is BatchControl.CANCELLED
    assert cancelled.control_reason == "enough"
    # like a job: running until its running items have stopped (docs/batches.md)
    assert cancelled.status is BatchStatus.RUNNING
    assert not cancelled.terminal
    assert cancelled.counts == BatchCounts(running=2, cancelled=3)
    assert cancelled.counts == await recount(storage, batch.id)
    assert cancelled.version > batch.version
    for job in await batch_jobs(storage, batch.id):
        if job.id in {b.id for b in busy}:
            assert job.state is JobState.RUNNING
            assert job.cancel_requested
        else:
            assert job.state is JobState.CANCELLED
            assert job.cancel_reason == "enough"
    assert await storage.jobs_cancel_requested(item_ids) == {b.id for b in busy}
    assert await claim(storage) == []

    await finish_all(storage, busy, JobState.COMPLETED)  # the cancel request wins
    done = await batch_now(storage, batch.id)
    assert done.counts == BatchCounts(cancelled=5)
    assert done.status is BatchStatus.CANCELLED
    assert done.completed_at is not None


async def test_cancel_twice_or_pause_and_resume_a_cancelled_batch_changes_nothing(
    storage: Storage,
) -> None:
    batch, _ = await make_batch(storage, 2)
    await storage.batch_set_control(batch.id, TENANT, BatchControl.PAUSED, None)
    first = await storage.batch_set_control(batch.id, TENANT, BatchControl.CANCELLED, "first")
    assert first.changed  # a paused batch can be cancelled
    assert first.items == 2

    for target in (BatchControl.CANCELLED, BatchControl.PAUSED, BatchControl.ACTIVE):
        again = await storage.batch_set_control(batch.id, TENANT, target, "again")
        assert not again.changed
        assert again.items == 0
        assert again.batch == first.batch
    now = await batch_now(storage, batch.id)
    assert now.control_reason == "first"
    assert now.counts == BatchCounts(cancelled=2)
    assert now.status is BatchStatus.CANCELLED


async def test_failed_items_of_a_cancelled_batch_are_not_retried(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 3)
    broken = await claim(storage, 1)
    await finish_all(storage, broken, JobState.FAILED)
    await storage.batch_set_control(batch.id, TENANT, BatchControl.CANCELLED, "stop")
    before = await batch_now(storage, batch.id)

    change = await storage.batch_retry_failed(batch.id, TENANT)

    assert not change.changed
    assert change.items == 0
    assert await batch_now(storage, batch.id) == before
    assert before.counts == BatchCounts(failed=1, cancelled=2)


async def test_batch_items_cannot_be_deleted_one_by_one(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 2)
    jobs = await claim(storage)
    await finish_all(storage, jobs, JobState.COMPLETED)

    change = await storage.job_delete(jobs[0].id, TENANT)

    assert not change.changed
    assert await storage.job_get(jobs[0].id, None) is not None
    assert (await batch_now(storage, batch.id)).counts == BatchCounts(completed=2)


async def test_retry_failed_wakes_a_waiting_worker(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 2)
    jobs = await claim(storage)
    await finish_all(storage, jobs, JobState.FAILED)
    assert not await storage.jobs_wait_available(["noop"], 0.05)

    waiter = asyncio.create_task(storage.jobs_wait_available(["noop"], 5.0))
    await asyncio.sleep(0.1)
    change = await storage.batch_retry_failed(batch.id, TENANT)
    assert change.items == 2
    assert await asyncio.wait_for(waiter, 3.0)
    assert {j.id for j in await claim(storage)} == {j.id for j in jobs}


# -- deadline and settling -------------------------------------------------------------------
async def test_batches_past_their_deadline_with_unfinished_items(storage: Storage) -> None:
    # batches never listed, however late: finished, cancelled, without or far from a deadline
    finished, _ = await make_batch(storage, 1, timeout=0.2, type_="done")
    done = await storage.jobs_claim("w1", ["done"], 10, LEASE)
    await finish_all(storage, done, JobState.COMPLETED)
    cancelled, _ = await make_batch(storage, 1, timeout=0.2, type_="gone")
    await storage.batch_set_control(cancelled.id, TENANT, BatchControl.CANCELLED, "gone")
    await make_batch(storage, 1, type_="forever")
    await make_batch(storage, 1, timeout=3600.0, type_="later")
    # the ones that will be late (made last, so their 0.2 s have not passed yet)
    paused, _ = await make_batch(storage, 1, timeout=0.2, type_="idle")
    await storage.batch_set_control(paused.id, TENANT, BatchControl.PAUSED, None)
    late, _ = await make_batch(storage, 2, timeout=0.2)
    if storage.now() < paused.created_at + 0.15:  # not when this machine is too slow to tell
        assert await storage.batches_past_deadline(10) == []

    await asyncio.sleep(0.3)
    past = await storage.batches_past_deadline(10)

    assert sorted(b.id for b in past) == sorted([late.id, paused.id])
    assert finished.id not in {b.id for b in past}  # past its deadline too, but done
    for batch in past:
        assert batch == await batch_now(storage, batch.id)
        assert batch.deadline is not None
        assert batch.deadline <= storage.now()
    assert len(await storage.batches_past_deadline(1)) == 1


async def test_settle_returns_each_finished_batch_once(storage: Storage) -> None:
    finished, _ = await make_batch(storage, 2)
    jobs = await claim(storage)
    await finish_all(storage, jobs, JobState.FAILED)
    unfinished, _ = await make_batch(storage, 1, type_="idle")
    cancelled, _ = await make_batch(storage, 1, type_="gone")
    await storage.batch_set_control(cancelled.id, TENANT, BatchControl.CANCELLED, "gone")

    assert sorted(await storage.batches_settle(10)) == sorted([finished.id, cancelled.id])
    assert await storage.batches_settle(10) == []

    # retrying re-opens a settled batch; it settles again once its items are done
    assert (await storage.batch_retry_failed(finished.id, TENANT)).items == 2
    assert await storage.batches_settle(10) == []
    await finish_all(storage, await claim(storage), JobState.COMPLETED)
    assert await storage.batches_settle(10) == [finished.id]
    assert await storage.batches_settle(10) == []
    assert (await batch_now(storage, unfinished.id)).counts == BatchCounts(queued=1)
