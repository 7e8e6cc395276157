"""Worker runtime tests.

This package module also holds the helpers that these tests and `tests/maintenance` share: fast
worker settings, a counting storage proxy, polling helpers and a background-worker context.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, cast

from factories import new_job
from joblane.core.job import Job, JobStamp, Lease
from joblane.storage.base import Storage
from joblane.storage.params import HeartbeatResult, Outcome, ProgressUpdate
from joblane.worker.runtime import Worker, WorkerSettings

FAST = WorkerSettings(
    concurrency=4,
    lease_seconds=5.0,
    progress_interval=0.1,
    cancel_check_interval=0.05,
    idle_poll=0.05,
    shutdown_grace=2.0,
    cancel_grace=0.3,
)


def fast(**changes: Any) -> WorkerSettings:
    """`FAST` with some fields changed."""
    return dataclasses.replace(FAST, **changes)


class CountingStorage:
    """Delegates everything to a real storage; records the worker-side calls it sees."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.claims: list[int] = []  # jobs returned by each jobs_claim call
        self.progress_calls = 0
        self.progress_updates: list[ProgressUpdate] = []
        self.heartbeat_calls = 0
        self.finished: list[tuple[Outcome, JobStamp | None]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def storage(self) -> Storage:
        return cast(Storage, self)

    async def jobs_claim(
        self, worker_id: str, types: Sequence[str], limit: int, lease_seconds: float
    ) -> list[Job]:
        jobs = await self.inner.jobs_claim(worker_id, types, limit, lease_seconds)
        self.claims.append(len(jobs))
        return jobs

    async def jobs_progress(self, updates: Sequence[ProgressUpdate]) -> frozenset[str]:
        self.progress_calls += 1
        self.progress_updates.extend(updates)
        return await self.inner.jobs_progress(updates)

    async def jobs_heartbeat(
        self, leases: Sequence[Lease], lease_seconds: float
    ) -> HeartbeatResult:
        self.heartbeat_calls += 1
        return await self.inner.jobs_heartbeat(leases, lease_seconds)

    async def jobs_finish(self, outcomes: Sequence[Outcome]) -> list[JobStamp | None]:
        results = await self.inner.jobs_finish(outcomes)
        self.finished.extend(zip(outcomes, results, strict=True))
        return results

    def progress_writes(self, job_id: str) -> int:
        return sum(1 for update in self.progress_updates if update.lease.job_id == job_id)


async def submit(
    storage: Storage, type_: str, input: dict[str, Any] | None = None, **fields: Any
) -> Job:
    (job,) = await storage.jobs_insert([new_job(type_=type_, input=input or {}, **fields)])
    return job


async def get(storage: Storage, job_id: str) -> Job:
    job = await storage.job_get(job_id, None)
    assert job is not None, f"job {job_id} is gone"
    return job


async def job_where(
    storage: Storage,
    job_id: str,
    predicate: Callable[[Job], bool],
    timeout: float = 5.0,
    what: str = "as expected",
) -> Job:
    """Poll the job until `predicate` holds; fail with its last state after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        job = await get(storage, job_id)
        if predicate(job):
            return job
        if loop.time() >= deadline:
            raise AssertionError(f"job never {what} within {timeout}s; last: {job}")
        await asyncio.sleep(0.01)


async def wait_until(
    condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() >= deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        await asyncio.sleep(0.01)


async def wait_lease_expired(storage: Storage, job_id: str) -> Job:
    job = await get(storage, job_id)
    assert job.lease_expires_at is not None
    while storage.now() <= job.lease_expires_at:
        await asyncio.sleep(0.02)
    return job


@contextlib.asynccontextmanager
async def running(worker: Worker, timeout: float = 10.0) -> AsyncIterator[asyncio.Event]:
    """Run `worker.run(stop)` in the background; on exit set `stop` and await the worker."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name=f"test-{worker.id}")
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout)
