"""Storage contract: a batch's counts follow its items through every transition, whatever made
it (claim, finish, retry delay, rescue, cancel, retry); its status and times are derived from
them; failed items are summarised by error code."""

from __future__ import annotations

import asyncio

import pytest

from joblane.core.batch import Batch, BatchCounts, BatchStatus
from joblane.core.job import Job, JobErrorInfo
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import Outcome
from storage_contract.helpers import batch_jobs, batch_now, lease_of, make_batch, recount

TENANT = "tenant-a"
LEASE = 30.0
BOOM = JobErrorInfo(code="BOOM", message="it broke")


class Watch:
    """Re-reads a batch after each step and checks it against its items."""

    def __init__(self, storage: Storage, batch: Batch) -> None:
        self.storage = storage
        self.batch_id = batch.id
        self.total = batch.counts.total
        self.version = batch.version

    async def step(self, moved: bool = True) -> Batch:
        """The batch now; `moved`: an item changed state since the last step."""
        batch = await batch_now(self.storage, self.batch_id)
        assert batch.counts.total == self.total
        assert batch.counts == await recount(self.storage, self.batch_id)
        if moved:
            assert batch.version > self.version, "an item transition did not move the version"
        else:
            assert batch.version >= self.version
        self.version = batch.version
        return batch


async def claim(storage: Storage, limit: int, lease_seconds: float = LEASE) -> list[Job]:
    return sorted(
        await storage.jobs_claim("w1", ["noop"], limit, lease_seconds), key=lambda j: j.id
    )


async def finish(storage: Storage, *outcomes: Outcome) -> None:
    stamps = await storage.jobs_finish(outcomes)
    assert all(stamp is not None for stamp in stamps)


def finished_at(job: Job) -> float:
    when = job.completed_at or job.failed_at or job.cancelled_at
    assert when is not None
    return when


# -- counts, status and times ----------------------------------------------------------------
async def test_claim_complete_and_fail_keep_the_counts_and_times(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 4)
    watch = Watch(storage, batch)
    assert batch.status is BatchStatus.QUEUED

    first = await claim(storage, 2)
    now = await watch.step()
    assert now.counts == BatchCounts(queued=2, running=2)
    assert now.status is BatchStatus.RUNNING
    assert now.started_at == pytest.approx(min(j.started_at or 0 for j in first), abs=1e-3)
    started = now.started_at

    await asyncio.sleep(0.02)
    await finish(storage, Outcome(lease_of(first[0]), JobState.COMPLETED, result=1))
    now = await watch.step()
    assert now.counts == BatchCounts(queued=2, running=1, completed=1)
    done = await storage.job_get(first[0].id, None)
    assert done is not None
    assert now.last_finished_at == pytest.approx(finished_at(done), abs=1e-3)
    assert now.completed_at is None
    assert now.average_item_time is not None
    assert now.average_item_time > 0

    await finish(storage, Outcome(lease_of(first[1]), JobState.FAILED, error=BOOM))
    now = await watch.step()
    assert now.counts == BatchCounts(queued=2, completed=1, failed=1)
    assert now.status is BatchStatus.RUNNING

    await asyncio.sleep(0.01)
    second = await claim(storage, 10)
    assert len(second) == 2
    now = await watch.step()
    assert now.started_at == started  # the first claim's time, not the latest
    await asyncio.sleep(0.02)
    await finish(storage, *(Outcome(lease_of(j), JobState.COMPLETED) for j in second))

    now = await watch.step()
    assert now.counts == BatchCounts(completed=3, failed=1)
    assert now.status is BatchStatus.COMPLETED
    last = max(finished_at(job) for job in await batch_jobs(storage, batch.id))
    assert now.last_finished_at == pytest.approx(last, abs=1e-3)
    assert now.completed_at == now.last_finished_at
    assert now.timed_items == 4
    assert now.item_seconds > 0
    assert now.average_item_time is not None
    assert now.average_item_time > 0


async def test_all_items_failed_is_a_failed_batch(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 3)
    watch = Watch(storage, batch)
    jobs = await claim(storage, 10)
    await watch.step()
    await finish(storage, *(Outcome(lease_of(j), JobState.FAILED, error=BOOM) for j in jobs))

    now = await watch.step()
    assert now.counts == BatchCounts(failed=3)
    assert now.status is BatchStatus.FAILED
    assert now.terminal
    assert now.completed_at is not None


async def test_retry_delay_and_rescue_keep_the_counts(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 4)
    watch = Watch(storage, batch)

    (later,) = await claim(storage, 1)
    await watch.step()
    await finish(storage, Outcome(lease_of(later), JobState.QUEUED, error=BOOM, retry_delay=0.3))
    now = await watch.step()
    assert now.counts == BatchCounts(queued=4)
    assert now.status is BatchStatus.RUNNING  # an item has started, even if none runs now

    lost = await claim(storage, 10, lease_seconds=0.05)
    assert later.id not in {j.id for j in lost}
    assert len(lost) == 3
    await watch.step()
    await storage.job_cancel(lost[2].id, None, "stop")
    await watch.step(moved=False)
    await asyncio.sleep(0.1)
    assert {j.id for j in await storage.jobs_expired_leases(10)} == {j.id for j in lost}
    await finish(
        storage,
        Outcome(lease_of(lost[0]), JobState.QUEUED, error=BOOM, rescue=True),
        Outcome(lease_of(lost[1]), JobState.FAILED, error=BOOM, rescue=True),
        Outcome(lease_of(lost[2]), JobState.CANCELLED, rescue=True),
    )
    now = await watch.step()
    assert now.counts == BatchCounts(queued=2, failed=1, cancelled=1)

    await asyncio.sleep(0.3)
    rest = await claim(storage, 10)
    assert {j.id for j in rest} == {later.id, lost[0].id}
    await watch.step()
    await finish(storage, *(Outcome(lease_of(j), JobState.COMPLETED) for j in rest))
    now = await watch.step()
    assert now.counts == BatchCounts(completed=2, failed=1, cancelled=1)
    assert now.status is BatchStatus.COMPLETED


async def test_cancelling_queued_and_running_items_keeps_the_counts(storage: Storage) -> None:
    batch, item_ids = await make_batch(storage, 3)
    watch = Watch(storage, batch)
    (busy,) = await claim(storage, 1)
    await watch.step()
    waiting = [i for i in item_ids if i != busy.id]

    assert (await storage.job_cancel(waiting[0], TENANT, "not needed")).changed
    now = await watch.step()
    assert now.counts == BatchCounts(queued=1, running=1, cancelled=1)

    assert (await storage.job_cancel(busy.id, TENANT, "stop")).changed
    now = await watch.step(moved=False)  # only asked: the item still runs
    assert now.counts == BatchCounts(queued=1, running=1, cancelled=1)
    stamps = await storage.jobs_finish([Outcome(lease_of(busy), JobState.COMPLETED)])
    assert stamps[0] is not None
    assert stamps[0].state is JobState.CANCELLED  # the cancel request wins
    now = await watch.step()
    assert now.counts == BatchCounts(queued=1, cancelled=2)

    (last,) = await claim(storage, 10)
    await watch.step()
    await finish(storage, Outcome(lease_of(last), JobState.COMPLETED))
    now = await watch.step()
    assert now.counts == BatchCounts(completed=1, cancelled=2)
    assert now.status is BatchStatus.COMPLETED


async def test_job_retry_and_batch_retry_failed_keep_the_counts(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 4)
    watch = Watch(storage, batch)
    jobs = await claim(storage, 10)
    await watch.step()
    await finish(storage, *(Outcome(lease_of(j), JobState.FAILED, error=BOOM) for j in jobs))
    now = await watch.step()
    assert now.status is BatchStatus.FAILED
    assert now.timed_items == 4
    run_time = now.item_seconds

    assert (await storage.job_retry(jobs[0].id, TENANT)).changed
    now = await watch.step()
    assert now.counts == BatchCounts(queued=1, failed=3)
    assert now.status is BatchStatus.RUNNING
    assert now.completed_at is None
    assert now.timed_items == 4  # a retry ends no run
    assert now.item_seconds == pytest.approx(run_time)

    change = await storage.batch_retry_failed(batch.id, TENANT)
    assert change.changed
    assert change.items == 3
    assert change.batch is not None
    assert change.batch.counts == BatchCounts(queued=4)
    now = await watch.step()
    assert now.counts == BatchCounts(queued=4)
    assert change.batch.version == now.version
    assert now.timed_items == 4
    assert now.item_seconds == pytest.approx(run_time)
    for job in await batch_jobs(storage, batch.id):
        assert job.state is JobState.QUEUED
        assert job.attempt == 2

    again = await storage.batch_retry_failed(batch.id, TENANT)
    assert not again.changed
    assert again.items == 0

    jobs = await claim(storage, 10)
    assert len(jobs) == 4
    await watch.step()
    await finish(storage, *(Outcome(lease_of(j), JobState.COMPLETED) for j in jobs))
    now = await watch.step()
    assert now.counts == BatchCounts(completed=4)
    assert now.status is BatchStatus.COMPLETED
    assert now.timed_items == 8  # every run that ended: four failed, four completed


# -- error groups ----------------------------------------------------------------------------
async def test_error_groups_per_code_biggest_first(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 7)
    jobs = await claim(storage, 10)
    codes = ["A", "A", "A", "B", "B", "C"]
    resolutions = {"A": "check the input", "B": None, "C": "call support"}
    for job, code in zip(jobs, codes, strict=False):  # one at a time, oldest item first
        error = JobErrorInfo(code=code, message=f"{code} happened", resolution=resolutions[code])
        await finish(storage, Outcome(lease_of(job), JobState.FAILED, error=error))
    await finish(storage, Outcome(lease_of(jobs[6]), JobState.COMPLETED))

    groups = await storage.batch_error_groups(batch.id, 10)

    assert [(g.code, g.count) for g in groups] == [("A", 3), ("B", 2), ("C", 1)]
    assert [g.resolution for g in groups] == ["check the input", None, "call support"]
    ids = [j.id for j in jobs]
    assert [list(g.sample_job_ids) for g in groups] == [ids[0:3], ids[3:5], ids[5:6]]
    top = await storage.batch_error_groups(batch.id, 2)
    assert [g.code for g in top] == ["A", "B"]

    assert (await storage.job_retry(ids[0], TENANT)).changed
    groups = await storage.batch_error_groups(batch.id, 10)
    assert [(g.code, g.count) for g in groups] == [("A", 2), ("B", 2), ("C", 1)]
    assert list(groups[0].sample_job_ids) == ids[1:3]
    assert groups[0].resolution == "check the input"

    change = await storage.batch_retry_failed(batch.id, TENANT)
    assert change.items == 5
    assert await storage.batch_error_groups(batch.id, 10) == []


async def test_error_group_samples_are_at_most_ten_failed_items(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 12)
    jobs = await claim(storage, 20)
    for job in jobs:
        await finish(storage, Outcome(lease_of(job), JobState.FAILED, error=BOOM))

    (group,) = await storage.batch_error_groups(batch.id, 10)

    assert group.code == "BOOM"
    assert group.count == 12
    assert len(group.sample_job_ids) == 10
    assert set(group.sample_job_ids) <= {j.id for j in jobs}
    assert list(group.sample_job_ids) == sorted(group.sample_job_ids)
    assert group.resolution is None
    assert await storage.batch_error_groups("bat_00000000000000000000000000", 10) == []


async def test_error_groups_keep_sampling_after_single_item_retries(storage: Storage) -> None:
    """A group that still has failed items names some of them, even after the items it named
    were retried one by one (and succeeded): the samples must not stay full of stale ids."""
    batch, _ = await make_batch(storage, 60)
    for job in await claim(storage, 100):
        await finish(storage, Outcome(lease_of(job), JobState.FAILED, error=BOOM))

    left = 60
    while left:
        (group,) = await storage.batch_error_groups(batch.id, 10)
        assert group.count == left
        assert group.sample_job_ids, f"{left} items failed with BOOM, but none is named"
        for job_id in group.sample_job_ids:
            assert (await storage.job_retry(job_id, TENANT)).changed
        again = await claim(storage, 100)
        assert {j.id for j in again} == set(group.sample_job_ids)
        await finish(storage, *(Outcome(lease_of(j), JobState.COMPLETED) for j in again))
        left -= len(again)
    assert await storage.batch_error_groups(batch.id, 10) == []
