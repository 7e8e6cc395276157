"""OverviewService: who sees what (a tenant its own jobs, an admin every tenant's or one's, the
workers only an admin), and the overview assembled from storage: totals, per-type stats, the
oldest waiting job, throughput buckets."""

from __future__ import annotations

import pytest

from factories import new_job
from joblane.core.errors import Forbidden
from joblane.core.job import Job, JobErrorInfo, Lease
from joblane.core.overview import DAY_BUCKETS, HOUR_BUCKETS, StatusCounts
from joblane.core.principal import ADMIN, READ, WRITE, Principal
from joblane.core.states import JobState
from joblane.service.overview import OverviewService
from joblane.storage.base import Storage
from joblane.storage.params import Outcome, WorkerRecord


async def run_and_finish(storage: Storage, job: Job, state: JobState) -> None:
    (claimed,) = await storage.jobs_claim("w1", [job.type], 1, 30.0)
    assert claimed.id == job.id and claimed.lease_token is not None
    error = JobErrorInfo("BOOM", "broke") if state is JobState.FAILED else None
    lease = Lease(claimed.id, claimed.lease_token)
    assert all(await storage.jobs_finish([Outcome(lease, state, error=error)]))


@pytest.fixture
async def seeded(storage: Storage) -> dict[str, Job]:
    """tenant-a: two render jobs (one completed, one waiting), an export that failed;
    tenant-b: one waiting render job; a worker running tenant-b's job is registered."""
    jobs: dict[str, Job] = {}
    for name, tenant, type_ in [
        ("done", "tenant-a", "render"),
        ("boom", "tenant-a", "export"),
        ("wait_a", "tenant-a", "render"),
        ("wait_b", "tenant-b", "render"),
    ]:
        (jobs[name],) = await storage.jobs_insert([new_job(tenant, type_)])
    await run_and_finish(storage, jobs["done"], JobState.COMPLETED)
    await run_and_finish(storage, jobs["boom"], JobState.FAILED)
    worker = WorkerRecord("wrk_1", "host-1", 4242, ("render",), 4, 1000.0, 0.0, ("job_x",))
    await storage.worker_upsert(worker)
    return jobs


async def test_a_tenant_sees_its_own_jobs_and_no_workers(
    storage: Storage, seeded: dict[str, Job], tenant_a: Principal
) -> None:
    view = await OverviewService(storage).get(tenant_a)
    assert view.tenant_id == "tenant-a"
    assert view.counts == StatusCounts(queued=1, completed=1, failed=1)
    assert view.workers is None
    render = next(t for t in view.types if t.type == "render")
    assert render.counts == StatusCounts(queued=1, completed=1)
    assert render.queue_depth == 1
    assert render.oldest_waiting is not None
    assert render.oldest_waiting.job_id == seeded["wait_a"].id
    assert render.oldest_waiting.created_at == seeded["wait_a"].created_at
    assert 0 <= render.oldest_waiting.age < 60


async def test_a_tenant_cannot_ask_for_another_tenant(
    storage: Storage, seeded: dict[str, Job], tenant_b: Principal
) -> None:
    view = await OverviewService(storage).get(tenant_b, tenant_id="tenant-a")
    assert view.tenant_id == "tenant-b"
    assert view.counts == StatusCounts(queued=1)
    assert [t.type for t in view.types] == ["render"]


async def test_an_admin_sees_every_tenant_and_the_workers(
    storage: Storage, seeded: dict[str, Job], admin: Principal
) -> None:
    view = await OverviewService(storage).get(admin)
    assert view.tenant_id is None
    assert view.counts == StatusCounts(queued=2, completed=1, failed=1)
    assert view.queue_depth == 2
    assert [t.type for t in view.types] == ["export", "render"]
    assert view.workers is not None
    (worker,) = view.workers
    assert (worker.id, worker.hostname, worker.pid, worker.running) == (
        "wrk_1",
        "host-1",
        4242,
        ("job_x",),
    )
    assert worker.heartbeat_at > 1000.0  # stamped by storage


async def test_an_admin_may_narrow_to_one_tenant(
    storage: Storage, seeded: dict[str, Job], admin: Principal
) -> None:
    view = await OverviewService(storage).get(admin, tenant_id="tenant-b")
    assert view.tenant_id == "tenant-b"
    assert view.counts == StatusCounts(queued=1)
    assert view.workers is not None  # workers belong to no tenant


async def test_throughput_lands_in_the_current_buckets(
    storage: Storage, seeded: dict[str, Job], tenant_a: Principal
) -> None:
    view = await OverviewService(storage).get(tenant_a)
    assert len(view.last_hour.buckets) == HOUR_BUCKETS
    assert len(view.last_day.buckets) == DAY_BUCKETS
    for window in (view.last_hour, view.last_day):
        assert (window.completed, window.failed) == (1, 1)
        assert window.failure_rate == 0.5
        last = window.buckets[-1]
        assert last.start <= view.at < last.start + last.seconds
    export = next(t for t in view.types if t.type == "export")
    assert (export.last_day.completed, export.last_day.failed) == (0, 1)
    assert export.oldest_waiting is None and export.queue_depth == 0


async def test_a_key_without_read_scope_is_refused(storage: Storage) -> None:
    writer = Principal("tenant-a", frozenset({WRITE}), "key_w")
    with pytest.raises(Forbidden):
        await OverviewService(storage).get(writer)
    reader = Principal("tenant-a", frozenset({READ}), "key_r")
    assert (await OverviewService(storage).get(reader)).counts.total == 0
    assert ADMIN not in reader.scopes
