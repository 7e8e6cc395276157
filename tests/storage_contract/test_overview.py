"""Storage contract: the dashboard's overview rows (`overview_read`): counts by type and state
kept through inserts, claims, outcomes, cancels, retries, deletes and batch uploads; the ready
queue and its oldest job per type; finish counts per bucket; tenant scoping."""

from __future__ import annotations

from collections.abc import Sequence

from factories import new_job
from joblane.core.job import Job, JobErrorInfo
from joblane.core.overview import FinishBuckets, OverviewRows
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import Outcome

from .helpers import batch_items, lease_of, make_batch, new_batch

BUCKET = 300.0
BOOM = JobErrorInfo(code="BOOM", message="it broke")


async def insert(storage: Storage, tenant_id: str, type_: str, **fields: object) -> Job:
    (job,) = await storage.jobs_insert([new_job(tenant_id, type_, **fields)])
    return job


def counts(rows: OverviewRows) -> dict[tuple[str, str], int]:
    return {(r.type, r.state.value): r.count for r in rows.states if r.count}


def finished(rows: OverviewRows) -> dict[str, tuple[int, int]]:
    """type -> (completed, failed), over all buckets."""
    out: dict[str, tuple[int, int]] = {}
    for r in rows.finished:
        done, failed = out.get(r.type, (0, 0))
        out[r.type] = (done + r.completed, failed + r.failed)
    return out


async def read(storage: Storage, tenant_id: str | None) -> OverviewRows:
    now = storage.now()
    return await storage.overview_read(tenant_id, now, FinishBuckets.for_overview(now))


async def finish(storage: Storage, jobs: Sequence[Job], states: Sequence[JobState]) -> None:
    outcomes = [
        Outcome(lease_of(j), s, error=BOOM if s is JobState.FAILED else None)
        for j, s in zip(jobs, states, strict=True)
    ]
    assert all(await storage.jobs_finish(outcomes))


async def scenario(storage: Storage) -> dict[str, Job]:
    """tenant-a: alpha a1 (ready), a2 (cancelled), a3 (scheduled in an hour), beta b1
    (completed); tenant-b: alpha c1 (ready), beta c2 (failed)."""
    jobs = {"a1": await insert(storage, "tenant-a", "alpha")}
    jobs["c1"] = await insert(storage, "tenant-b", "alpha")
    jobs["a2"] = await insert(storage, "tenant-a", "alpha")
    jobs["a3"] = await insert(storage, "tenant-a", "alpha", run_at=storage.now() + 3600)
    jobs["b1"] = await insert(storage, "tenant-a", "beta")
    jobs["c2"] = await insert(storage, "tenant-b", "beta")
    claimed = sorted(await storage.jobs_claim("w1", ["beta"], 2, 30.0), key=lambda j: j.id)
    assert [j.id for j in claimed] == [jobs["b1"].id, jobs["c2"].id]
    await finish(storage, claimed, [JobState.COMPLETED, JobState.FAILED])
    assert (await storage.job_cancel(jobs["a2"].id, None, "no")).changed
    return jobs


async def test_counts_by_type_and_state_per_tenant(storage: Storage) -> None:
    await scenario(storage)
    assert counts(await read(storage, "tenant-a")) == {
        ("alpha", "queued"): 2,
        ("alpha", "cancelled"): 1,
        ("beta", "completed"): 1,
    }
    assert counts(await read(storage, "tenant-b")) == {
        ("alpha", "queued"): 1,
        ("beta", "failed"): 1,
    }
    assert counts(await read(storage, None)) == {
        ("alpha", "queued"): 3,
        ("alpha", "cancelled"): 1,
        ("beta", "completed"): 1,
        ("beta", "failed"): 1,
    }
    assert counts(await read(storage, "tenant-z")) == {}


async def test_counts_follow_retry_delete_running_and_batches(storage: Storage) -> None:
    jobs = await scenario(storage)
    assert (await storage.job_retry(jobs["c2"].id, None)).changed  # failed -> queued
    assert (await storage.job_delete(jobs["a2"].id, None)).changed  # cancelled, gone
    (running,) = await storage.jobs_claim("w2", ["alpha"], 1, 30.0)
    assert running.id == jobs["a1"].id
    await make_batch(storage, 3, tenant_id="tenant-b", type_="gamma", chunk=2)
    assert counts(await read(storage, None)) == {
        ("alpha", "queued"): 2,  # c1, a3
        ("alpha", "running"): 1,
        ("beta", "completed"): 1,
        ("beta", "queued"): 1,
        ("gamma", "queued"): 3,
    }


async def test_an_aborted_batch_counts_nothing(storage: Storage) -> None:
    spec = new_batch("tenant-a")
    upload = await storage.batch_open(spec)
    await upload.add(batch_items(spec, 4, "gamma"))
    await upload.abort()
    assert counts(await read(storage, None)) == {}


async def test_queue_depth_counts_ready_jobs_and_names_the_oldest(storage: Storage) -> None:
    jobs = await scenario(storage)
    mine = {q.type: q for q in (await read(storage, "tenant-a")).queues}
    assert set(mine) == {"alpha"}  # beta has nothing queued
    assert mine["alpha"].depth == 1  # a3 waits for its time
    assert mine["alpha"].oldest_id == jobs["a1"].id
    assert mine["alpha"].oldest_created_at == jobs["a1"].created_at
    assert mine["alpha"].oldest_ready_at == jobs["a1"].scheduled_at
    everyone = {q.type: q for q in (await read(storage, None)).queues}
    assert everyone["alpha"].depth == 2
    assert everyone["alpha"].oldest_id == jobs["a1"].id
    theirs = {q.type: q for q in (await read(storage, "tenant-b")).queues}
    assert theirs["alpha"].depth == 1
    assert theirs["alpha"].oldest_id == jobs["c1"].id


async def test_only_future_jobs_queued_means_no_oldest(storage: Storage) -> None:
    await insert(storage, "tenant-a", "alpha", run_at=storage.now() + 600)
    (queue,) = (await read(storage, None)).queues
    assert (queue.type, queue.depth, queue.oldest_id) == ("alpha", 0, None)


async def test_finish_counts_per_bucket(storage: Storage) -> None:
    await scenario(storage)
    rows = await read(storage, None)
    assert finished(rows) == {"beta": (1, 1)}  # the cancel is not throughput
    now = storage.now()
    for r in rows.finished:
        assert r.start % BUCKET == 0
        assert now - 2 * BUCKET < r.start <= now
    assert finished(await read(storage, "tenant-a")) == {"beta": (1, 0)}
    assert finished(await read(storage, "tenant-b")) == {"beta": (0, 1)}
    later = storage.now() + 1
    none = FinishBuckets(since=later, coarse=3600.0, fine_since=later, fine=BUCKET)
    assert (await storage.overview_read(None, later, none)).finished == []


async def test_finish_counts_before_fine_since_come_hourly(storage: Storage) -> None:
    await scenario(storage)
    now = storage.now()
    hourly = FinishBuckets(since=now - 86400, coarse=3600.0, fine_since=now + 10, fine=BUCKET)
    rows = (await storage.overview_read(None, now + 20, hourly)).finished
    assert [(r.type, r.start % 3600, r.completed, r.failed) for r in rows] == [("beta", 0, 1, 1)]
    assert now - 3600 < rows[0].start <= now


async def test_reads_work_on_an_empty_database(storage: Storage) -> None:
    rows = await read(storage, None)
    assert (list(rows.states), list(rows.queues), list(rows.finished)) == ([], [], [])
