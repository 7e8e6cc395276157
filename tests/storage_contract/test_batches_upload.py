"""Storage contract: uploading a batch (open, add in chunks, commit or abort), reading it back,
listing batches and reading a batch's items in item order."""

from __future__ import annotations

from dataclasses import replace

import pytest

from factories import new_job
from joblane.core.batch import BatchControl, BatchCounts, BatchStatus
from joblane.core.job import JobErrorInfo
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import BatchFilter, JobFilter, Outcome
from storage_contract.helpers import (
    batch_items,
    batch_jobs,
    batch_now,
    lease_of,
    make_batch,
    new_batch,
)

TENANT = "tenant-a"
OTHER = "tenant-b"
LEASE = 30.0


# -- upload ----------------------------------------------------------------------------------
async def test_nothing_is_visible_until_commit_then_everything_is(storage: Storage) -> None:
    spec = new_batch(TENANT, name="nightly")
    items = batch_items(spec, 5)
    before = storage.now()
    upload = await storage.batch_open(spec)
    await upload.add(items[:2])
    await upload.add(items[2:])

    assert await storage.batch_get(spec.id, None) is None
    assert await storage.batches_list(BatchFilter(tenant_id=None)) == []
    assert await storage.job_get(items[0].id, None) is None
    assert await batch_jobs(storage, spec.id) == []
    assert await storage.jobs_claim("w1", ["noop"], 10, LEASE) == []

    batch = await upload.commit()
    after = storage.now()

    assert batch.id == spec.id
    assert batch.tenant_id == TENANT
    assert batch.name == "nightly"
    assert batch.control is BatchControl.ACTIVE
    assert batch.status is BatchStatus.QUEUED
    assert batch.counts == BatchCounts(queued=5)
    assert batch.version >= 1
    assert batch.started_at is None
    assert batch.last_finished_at is None
    assert batch.completed_at is None
    assert batch.average_item_time is None
    assert before - 1e-3 <= batch.created_at <= after + 1e-3
    assert await storage.batch_get(spec.id, None) == batch

    stored = await batch_jobs(storage, spec.id)
    assert sorted(job.id for job in stored) == [item.id for item in items]
    for job in stored:
        assert job.state is JobState.QUEUED
        assert job.batch_id == spec.id
        assert job.tenant_id == TENANT
    claimed = await storage.jobs_claim("w1", ["noop"], 10, LEASE)
    assert sorted(job.id for job in claimed) == [item.id for item in items]


async def test_commit_keeps_the_batch_options(storage: Storage) -> None:
    batch, _ = await make_batch(
        storage,
        2,
        name="opts",
        max_concurrent=3,
        priority=7,
        timeout=600.0,
        callback_url="https://example.test/hook",
        notification_enabled=True,
    )

    assert batch.max_concurrent == 3
    assert batch.priority == 7
    assert batch.timeout == 600.0
    assert batch.deadline == pytest.approx(batch.created_at + 600.0)
    assert batch.callback_url == "https://example.test/hook"
    assert batch.notification_enabled
    assert batch.control_reason is None
    assert await batch_now(storage, batch.id) == batch


async def test_abort_leaves_no_batch_and_no_items(storage: Storage) -> None:
    spec = new_batch(TENANT)
    items = batch_items(spec, 6)
    upload = await storage.batch_open(spec)
    await upload.add(items[:3])
    await upload.add(items[3:])
    await upload.abort()

    assert await storage.batch_get(spec.id, None) is None
    assert await storage.batches_list(BatchFilter(tenant_id=None)) == []
    assert await storage.batches_versions([spec.id]) == {}
    for item in items:
        assert await storage.job_get(item.id, None) is None
    assert await batch_jobs(storage, spec.id) == []
    assert await storage.jobs_claim("w1", ["noop"], 10, LEASE) == []
    assert await storage.batches_settle(10) == []
    # the storage is still usable: another batch uploads and commits normally
    other, _ = await make_batch(storage, 2)
    assert other.counts == BatchCounts(queued=2)


async def test_abort_while_many_chunks_are_in_flight_leaves_nothing(storage: Storage) -> None:
    """More chunks than the writer queues, added without waiting for the write, then aborted."""
    spec = new_batch(TENANT)
    items = batch_items(spec, 2000)
    upload = await storage.batch_open(spec)
    for start in range(0, 2000, 250):
        await upload.add(items[start : start + 250])
    await upload.abort()

    assert await storage.batch_get(spec.id, None) is None
    assert await batch_jobs(storage, spec.id) == []
    assert await storage.job_get(items[-1].id, None) is None
    other, _ = await make_batch(storage, 3)
    assert other.counts == BatchCounts(queued=3)


async def test_an_item_that_cannot_be_written_fails_the_whole_upload(storage: Storage) -> None:
    """An item id already taken: the failure surfaces (on a later `add` or on `commit`), none
    of the batch is written, and the storage goes on working."""
    _, (taken,) = await make_batch(storage, 1)
    spec = new_batch(TENANT)
    items = batch_items(spec, 600)
    items[450] = replace(items[450], id=taken)
    upload = await storage.batch_open(spec)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        for start in range(0, 600, 100):
            await upload.add(items[start : start + 100])
        await upload.commit()
    await upload.abort()

    assert await storage.batch_get(spec.id, None) is None
    assert await batch_jobs(storage, spec.id) == []
    assert (await storage.job_get(taken, None)) is not None
    other, _ = await make_batch(storage, 2)
    assert other.counts == BatchCounts(queued=2)


async def test_items_added_in_several_chunks_all_arrive_in_item_order(storage: Storage) -> None:
    batch, item_ids = await make_batch(storage, 23, chunk=5)

    assert batch.counts == BatchCounts(queued=23)
    assert (await batch_now(storage, batch.id)).counts.total == 23
    results = await storage.batch_results(batch.id, None, 100)
    assert [r.id for r in results] == item_ids
    assert item_ids == sorted(item_ids)


async def test_another_tenant_does_not_see_the_batch(storage: Storage) -> None:
    batch, _ = await make_batch(storage, 1, tenant_id=TENANT)

    assert await storage.batch_get(batch.id, OTHER) is None
    assert await storage.batch_get(batch.id, TENANT) == batch
    assert await storage.batch_get(batch.id, None) == batch
    assert await storage.batch_get("bat_00000000000000000000000000", None) is None


# -- list ------------------------------------------------------------------------------------
async def test_list_is_newest_first_scoped_by_tenant_and_paged_by_before_id(
    storage: Storage,
) -> None:
    mine = [(await make_batch(storage, 1, tenant_id=TENANT))[0].id for _ in range(5)]
    theirs = [(await make_batch(storage, 1, tenant_id=OTHER))[0].id for _ in range(2)]
    newest_first = list(reversed(mine))

    listed = await storage.batches_list(BatchFilter(tenant_id=TENANT))
    assert [b.id for b in listed] == newest_first
    assert all(b.tenant_id == TENANT for b in listed)
    assert listed[0] == await batch_now(storage, newest_first[0])

    page1 = await storage.batches_list(BatchFilter(tenant_id=TENANT, limit=2))
    page2 = await storage.batches_list(BatchFilter(TENANT, before_id=page1[-1].id, limit=2))
    page3 = await storage.batches_list(BatchFilter(TENANT, before_id=page2[-1].id, limit=2))
    page4 = await storage.batches_list(BatchFilter(TENANT, before_id=page3[-1].id, limit=2))
    assert [b.id for b in page1 + page2 + page3] == newest_first
    assert len(page3) == 1
    assert page4 == []

    everyone = await storage.batches_list(BatchFilter(tenant_id=None))
    assert [b.id for b in everyone] == sorted(mine + theirs, reverse=True)
    assert [b.id for b in await storage.batches_list(BatchFilter(OTHER))] == theirs[::-1]


async def test_list_leaves_out_uploads_not_committed(storage: Storage) -> None:
    done, _ = await make_batch(storage, 1)
    spec = new_batch(TENANT)
    upload = await storage.batch_open(spec)
    await upload.add(batch_items(spec, 3))
    try:
        assert [b.id for b in await storage.batches_list(BatchFilter(TENANT))] == [done.id]
    finally:
        await upload.abort()


# -- versions --------------------------------------------------------------------------------
async def test_versions_of_known_batches_move_with_their_items(storage: Storage) -> None:
    first, _ = await make_batch(storage, 2)
    second, _ = await make_batch(storage, 2, type_="idle")
    unknown = "bat_00000000000000000000000000"

    versions = await storage.batches_versions([first.id, second.id, unknown])
    assert versions == {first.id: first.version, second.id: second.version}

    await storage.jobs_claim("w1", ["noop"], 1, LEASE)

    moved = await storage.batches_versions([first.id, second.id])
    assert moved[first.id] > first.version
    assert moved[first.id] == (await batch_now(storage, first.id)).version
    assert moved[second.id] == second.version
    assert await storage.batches_versions([]) == {}


# -- results and item order ------------------------------------------------------------------
async def test_results_in_item_order_with_what_each_item_ended_with(storage: Storage) -> None:
    batch, item_ids = await make_batch(storage, 5)
    claimed = sorted(await storage.jobs_claim("w1", ["noop"], 3, LEASE), key=lambda j: j.id)
    done, broken, busy = claimed
    error = JobErrorInfo(code="BOOM", message="it broke", resolution="try again")
    await storage.jobs_finish(
        [
            Outcome(lease_of(done), JobState.COMPLETED, result={"answer": 42}),
            Outcome(lease_of(broken), JobState.FAILED, error=error),
        ]
    )
    waiting = [i for i in item_ids if i not in {done.id, broken.id, busy.id}]
    await storage.job_cancel(waiting[0], None, "skip it")
    by_id = {
        done.id: JobState.COMPLETED,
        broken.id: JobState.FAILED,
        busy.id: JobState.RUNNING,
        waiting[0]: JobState.CANCELLED,
        waiting[1]: JobState.QUEUED,
    }

    results = await storage.batch_results(batch.id, None, 100)

    assert [r.id for r in results] == item_ids
    assert {r.id: r.state for r in results} == by_id
    row = {r.id: r for r in results}
    assert row[done.id].result == {"answer": 42}
    assert row[done.id].error is None
    failed = row[broken.id].error
    assert failed is not None
    assert failed["code"] == "BOOM"
    assert failed["message"] == "it broke"
    assert row[broken.id].result is None
    for item in (busy.id, waiting[1]):
        assert row[item].result is None
        assert row[item].error is None


async def test_results_are_paged_by_after_id(storage: Storage) -> None:
    batch, item_ids = await make_batch(storage, 7, chunk=3)
    await storage.jobs_insert([new_job(TENANT)])  # not an item: never in the results

    seen: list[str] = []
    after: str | None = None
    pages = 0
    while page := await storage.batch_results(batch.id, after, 3):
        assert len(page) <= 3
        seen += [r.id for r in page]
        after = page[-1].id
        pages += 1
    assert seen == item_ids
    assert pages == 3
    assert await storage.batch_results(batch.id, item_ids[-1], 3) == []
    assert await storage.batch_results("bat_00000000000000000000000000", None, 3) == []


async def test_jobs_list_gives_a_batch_in_item_order_paged_by_after_id(storage: Storage) -> None:
    batch, item_ids = await make_batch(storage, 6)
    await storage.jobs_insert([new_job(TENANT)])

    query = JobFilter(tenant_id=TENANT, batch_id=batch.id, oldest_first=True, limit=4)
    first = await storage.jobs_list(query)
    rest = await storage.jobs_list(
        JobFilter(TENANT, batch_id=batch.id, oldest_first=True, after_id=first[-1].id, limit=4)
    )
    assert [j.id for j in first + rest] == item_ids
    newest = await storage.jobs_list(JobFilter(TENANT, batch_id=batch.id, limit=10))
    assert [j.id for j in newest] == item_ids[::-1]
    assert await storage.jobs_list(JobFilter(OTHER, batch_id=batch.id)) == []
