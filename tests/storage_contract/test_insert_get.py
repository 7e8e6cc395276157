"""Storage contract: inserting jobs and reading them back, scoped by tenant."""

from __future__ import annotations

from dataclasses import replace

import pytest

from factories import new_job
from joblane.core.job import Progress
from joblane.core.states import JobState
from joblane.storage.base import Storage


async def test_insert_sets_defaults(storage: Storage) -> None:
    before = storage.now()
    (job,) = await storage.jobs_insert([new_job()])
    after = storage.now()

    assert job.state is JobState.QUEUED
    assert job.version == 1
    assert job.attempt == 1
    assert job.max_attempts == 3
    assert job.progress == Progress(processed=0, total=None, failed=0, message=None)
    assert job.result is None
    assert job.error is None
    assert not job.cancel_requested
    assert job.cancel_reason is None
    assert job.lease_token is None
    assert job.lease_expires_at is None
    assert job.worker_id is None
    assert (job.started_at, job.completed_at, job.failed_at, job.cancelled_at) == (None,) * 4
    assert before <= job.created_at <= after
    assert job.updated_at == pytest.approx(job.created_at, abs=1e-3)
    assert job.scheduled_at == pytest.approx(job.created_at, abs=1e-3)


async def test_insert_keeps_every_field(storage: Storage) -> None:
    spec = new_job(
        "tenant-x",
        "render",
        input={"pages": [1, 2, 3], "nested": {"ok": True, "ratio": 0.5}, "text": "grüße ✓"},
        metadata={"customer": "acme", "app.version": "1.2"},
        priority=7,
        max_attempts=5,
        timeout=12.5,
        callback_url="https://example.test/hook",
        batch_id="bat_01",
        idempotency_key="idem-1",
    )
    (job,) = await storage.jobs_insert([spec])

    assert job.id == spec.id
    assert job.tenant_id == "tenant-x"
    assert job.type == "render"
    assert job.input == spec.input
    assert job.metadata == spec.metadata
    assert job.priority == 7
    assert job.max_attempts == 5
    assert job.timeout == 12.5
    assert job.callback_url == "https://example.test/hook"
    assert job.batch_id == "bat_01"
    assert job.idempotency_key == "idem-1"
    assert await storage.job_get(spec.id, "tenant-x") == job


async def test_insert_many_returns_them_in_order(storage: Storage) -> None:
    specs = [new_job(input={"n": n}) for n in range(20)]
    jobs = await storage.jobs_insert(specs)
    assert [j.id for j in jobs] == [s.id for s in specs]
    assert [j.input for j in jobs] == [{"n": n} for n in range(20)]
    for job in jobs:
        assert await storage.job_get(job.id, None) == job


async def test_insert_nothing(storage: Storage) -> None:
    assert await storage.jobs_insert([]) == []


async def test_get_is_scoped_by_tenant(storage: Storage) -> None:
    (job,) = await storage.jobs_insert([new_job("tenant-a")])

    assert await storage.job_get(job.id, "tenant-a") == job
    assert await storage.job_get(job.id, "tenant-b") is None
    assert await storage.job_get(job.id, None) == job  # admin: every tenant


async def test_get_unknown_id(storage: Storage) -> None:
    assert await storage.job_get("job_00000000000000000000000000", None) is None
    assert await storage.job_get("job_00000000000000000000000000", "tenant-a") is None


async def test_run_at_in_the_future_sets_scheduled_at(storage: Storage) -> None:
    run_at = storage.now() + 3600
    (job,) = await storage.jobs_insert([new_job(run_at=run_at)])
    assert job.scheduled_at == pytest.approx(run_at, abs=1e-3)
    assert job.created_at < job.scheduled_at
    assert job.state is JobState.QUEUED


async def test_run_at_in_the_past_means_now(storage: Storage) -> None:
    (job,) = await storage.jobs_insert([new_job(run_at=storage.now() - 3600)])
    assert job.scheduled_at == pytest.approx(job.created_at, abs=1e-3)


async def test_duplicate_id_is_rejected_and_the_batch_is_all_or_nothing(
    storage: Storage,
) -> None:
    spec = new_job(input={"first": True})
    (original,) = await storage.jobs_insert([spec])
    fresh = new_job()
    # each backend raises its own integrity error; the contract is that it raises
    with pytest.raises(Exception):  # noqa: B017
        await storage.jobs_insert([fresh, replace(spec, input={"first": False})])
    assert await storage.job_get(spec.id, None) == original
    assert await storage.job_get(fresh.id, None) is None
