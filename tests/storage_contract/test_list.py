"""Storage contract: listing jobs (filters, tenant scoping, cursor paging) and versions."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from factories import new_job
from joblane.core import ids
from joblane.core.job import Job, Lease
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import JobFilter, Outcome


async def insert_in_order(storage: Storage, specs: list[dict[str, Any]]) -> list[Job]:
    """Insert one job per spec, each with a later id (and creation time) than the one before."""
    base = int(storage.now() * 1000)
    jobs: list[Job] = []
    for n, fields in enumerate(specs):
        spec = replace(new_job(**fields), id=f"{ids.JOB}_{ids.ulid(base + n)}")
        jobs += await storage.jobs_insert([spec])
    return jobs


def listed_ids(jobs: list[Job]) -> list[str]:
    return [job.id for job in jobs]


def newest_first(jobs: list[Job]) -> list[str]:
    return [job.id for job in reversed(jobs)]


async def test_newest_first(storage: Storage) -> None:
    jobs = await insert_in_order(storage, [{} for _ in range(6)])
    listed = await storage.jobs_list(JobFilter(tenant_id="tenant-a"))
    assert listed_ids(listed) == newest_first(jobs)
    assert listed[0] == jobs[-1]


async def test_empty(storage: Storage) -> None:
    assert await storage.jobs_list(JobFilter(tenant_id=None)) == []


async def test_tenant_scoping(storage: Storage) -> None:
    jobs = await insert_in_order(
        storage,
        [{"tenant_id": t} for t in ("tenant-a", "tenant-b", "tenant-a", "tenant-c")],
    )
    a = await storage.jobs_list(JobFilter(tenant_id="tenant-a"))
    assert listed_ids(a) == [jobs[2].id, jobs[0].id]
    assert listed_ids(await storage.jobs_list(JobFilter(tenant_id="tenant-b"))) == [jobs[1].id]
    assert await storage.jobs_list(JobFilter(tenant_id="tenant-z")) == []
    everyone = await storage.jobs_list(JobFilter(tenant_id=None))
    assert listed_ids(everyone) == newest_first(jobs)


async def test_limit(storage: Storage) -> None:
    jobs = await insert_in_order(storage, [{} for _ in range(7)])
    listed = await storage.jobs_list(JobFilter(tenant_id=None, limit=3))
    assert listed_ids(listed) == newest_first(jobs)[:3]
    one = await storage.jobs_list(JobFilter(tenant_id=None, limit=1))
    assert listed_ids(one) == [jobs[-1].id]


async def test_filter_by_states(storage: Storage) -> None:
    j0, j1, j2, j3 = await insert_in_order(storage, [{}, {}, {}, {}])
    await storage.job_cancel(j1.id, None, None)
    (running,) = await storage.jobs_claim("w1", ["noop"], 1, 30.0)
    (finished,) = await storage.jobs_claim("w1", ["noop"], 1, 30.0)
    assert (running.id, finished.id) == (j0.id, j2.id)
    assert finished.lease_token is not None
    outcome = Outcome(Lease(finished.id, finished.lease_token), JobState.COMPLETED)
    await storage.jobs_finish([outcome])
    # now: j0 running, j1 cancelled, j2 completed, j3 queued

    def only(*states: JobState) -> JobFilter:
        return JobFilter(tenant_id="tenant-a", states=states)

    assert listed_ids(await storage.jobs_list(only(JobState.QUEUED))) == [j3.id]
    assert listed_ids(await storage.jobs_list(only(JobState.RUNNING))) == [j0.id]
    assert listed_ids(await storage.jobs_list(only(JobState.CANCELLED))) == [j1.id]
    assert listed_ids(await storage.jobs_list(only(JobState.COMPLETED))) == [j2.id]
    assert await storage.jobs_list(only(JobState.FAILED)) == []
    both = await storage.jobs_list(only(JobState.CANCELLED, JobState.RUNNING))
    assert listed_ids(both) == [j1.id, j0.id]
    everything = await storage.jobs_list(only(*JobState))
    assert listed_ids(everything) == [j3.id, j2.id, j1.id, j0.id]


async def test_filter_by_types(storage: Storage) -> None:
    jobs = await insert_in_order(
        storage, [{"type_": t} for t in ("alpha", "beta", "alpha", "gamma")]
    )
    alpha = await storage.jobs_list(JobFilter(tenant_id=None, types=("alpha",)))
    assert listed_ids(alpha) == [jobs[2].id, jobs[0].id]
    two = await storage.jobs_list(JobFilter(tenant_id=None, types=("gamma", "beta")))
    assert listed_ids(two) == [jobs[3].id, jobs[1].id]
    assert await storage.jobs_list(JobFilter(tenant_id=None, types=("delta",))) == []


async def test_filter_by_batch(storage: Storage) -> None:
    jobs = await insert_in_order(
        storage, [{"batch_id": "bat_1"}, {"batch_id": "bat_2"}, {}, {"batch_id": "bat_1"}]
    )
    listed = await storage.jobs_list(JobFilter(tenant_id=None, batch_id="bat_1"))
    assert listed_ids(listed) == [jobs[3].id, jobs[0].id]
    assert await storage.jobs_list(JobFilter(tenant_id=None, batch_id="bat_9")) == []


async def test_filter_by_creation_time(storage: Storage) -> None:
    first = await storage.jobs_insert([new_job()])
    await asyncio.sleep(0.02)
    second = await storage.jobs_insert([new_job()])
    await asyncio.sleep(0.02)
    third = await storage.jobs_insert([new_job()])
    t12 = (first[0].created_at + second[0].created_at) / 2
    t23 = (second[0].created_at + third[0].created_at) / 2

    after = await storage.jobs_list(JobFilter(tenant_id=None, created_after=t12))
    assert listed_ids(after) == [third[0].id, second[0].id]
    before = await storage.jobs_list(JobFilter(tenant_id=None, created_before=t23))
    assert listed_ids(before) == [second[0].id, first[0].id]
    between = await storage.jobs_list(
        JobFilter(tenant_id=None, created_after=t12, created_before=t23)
    )
    assert listed_ids(between) == [second[0].id]
    none = await storage.jobs_list(JobFilter(tenant_id=None, created_after=t23, created_before=t12))
    assert none == []


async def test_filter_by_metadata(storage: Storage) -> None:
    jobs = await insert_in_order(
        storage,
        [
            {"metadata": {"customer": "acme", "env": "prod"}},
            {"metadata": {"customer": "acme", "env": "test"}},
            {"metadata": {"customer": "globex", "env": "prod"}},
            {"metadata": {}},
            {"metadata": {"app.version": "1.2", "customer": "acme"}},
        ],
    )

    def meta(*pairs: tuple[str, str]) -> JobFilter:
        return JobFilter(tenant_id=None, metadata=pairs)

    acme = await storage.jobs_list(meta(("customer", "acme")))
    assert listed_ids(acme) == [jobs[4].id, jobs[1].id, jobs[0].id]
    acme_prod = await storage.jobs_list(meta(("customer", "acme"), ("env", "prod")))
    assert listed_ids(acme_prod) == [jobs[0].id]
    assert await storage.jobs_list(meta(("customer", "initech"))) == []
    assert await storage.jobs_list(meta(("missing", "acme"))) == []
    dotted = await storage.jobs_list(meta(("app.version", "1.2")))
    assert listed_ids(dotted) == [jobs[4].id]


async def test_filters_combine_with_tenant(storage: Storage) -> None:
    jobs = await insert_in_order(
        storage,
        [
            {"tenant_id": "tenant-a", "type_": "alpha", "metadata": {"k": "v"}},
            {"tenant_id": "tenant-b", "type_": "alpha", "metadata": {"k": "v"}},
            {"tenant_id": "tenant-a", "type_": "beta", "metadata": {"k": "v"}},
            {"tenant_id": "tenant-a", "type_": "alpha", "metadata": {"k": "w"}},
        ],
    )
    query = JobFilter(
        tenant_id="tenant-a",
        states=(JobState.QUEUED,),
        types=("alpha",),
        metadata=(("k", "v"),),
    )
    assert listed_ids(await storage.jobs_list(query)) == [jobs[0].id]


async def test_cursor_paging_has_no_duplicates_or_gaps(storage: Storage) -> None:
    jobs = await insert_in_order(storage, [{} for _ in range(25)])
    await insert_in_order(storage, [{"tenant_id": "tenant-b"} for _ in range(5)])

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = await storage.jobs_list(JobFilter(tenant_id="tenant-a", before_id=cursor, limit=10))
        if not page:
            break
        pages.append(listed_ids(page))
        cursor = page[-1].id
        assert len(pages) <= 4, "paging does not end"

    assert [len(p) for p in pages] == [10, 10, 5]
    seen = [job_id for page in pages for job_id in page]
    assert seen == newest_first(jobs)
    assert len(set(seen)) == 25


async def test_paging_is_stable_while_new_jobs_arrive(storage: Storage) -> None:
    jobs = await insert_in_order(storage, [{} for _ in range(6)])
    first = await storage.jobs_list(JobFilter(tenant_id=None, limit=3))
    await storage.jobs_insert([new_job()])  # newer than every listed job
    rest = await storage.jobs_list(JobFilter(tenant_id=None, before_id=first[-1].id, limit=3))
    assert listed_ids(first) + listed_ids(rest) == newest_first(jobs)


# -- versions --------------------------------------------------------------------------------
async def test_versions_are_current_and_skip_missing_ids(storage: Storage) -> None:
    a, b = await storage.jobs_insert([new_job(), new_job()])
    await storage.job_cancel(b.id, None, None)
    missing = "job_00000000000000000000000000"

    versions = await storage.jobs_versions([a.id, b.id, missing])

    assert versions == {a.id: 1, b.id: 2}
    assert await storage.jobs_versions([]) == {}
    assert await storage.jobs_versions([missing]) == {}
