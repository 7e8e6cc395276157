"""The worker: claims jobs, runs them under a concurrency limit, keeps their leases alive,
writes their progress, notices cancellation and shuts down gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from joblane.app import Joblane
from joblane.core import ids
from joblane.core.batching import Batcher
from joblane.core.errors import JobCancelled, Unavailable
from joblane.core.job import Job, JobStamp, Lease
from joblane.core.retry import RetryPolicy
from joblane.core.states import JobState
from joblane.observe.tracing import job_spans
from joblane.storage.base import Storage
from joblane.storage.params import Outcome, ProgressUpdate, WorkerRecord
from joblane.worker.artifacts import ArtifactWriter, JobArtifacts
from joblane.worker.context import JobContext
from joblane.worker.executor import execute
from joblane.worker.observe import JobObserver

log = logging.getLogger("joblane.worker")


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    concurrency: int = 10
    lease_seconds: float = 30.0
    claim_batch: int = 100
    progress_interval: float = 0.5
    cancel_check_interval: float = 0.5
    idle_poll: float = 10.0  # a safety net: new jobs wake workers at once
    shutdown_grace: float = 30.0
    cancel_grace: float = 5.0

    @property
    def heartbeat_interval(self) -> float:
        return self.lease_seconds / 3


@dataclass(slots=True)
class _Running:
    job: Job
    ctx: JobContext
    task: asyncio.Task[None]
    deadline: float  # loop time past which the attempt fails with TIMEOUT
    finishing: bool = False  # the outcome is being written: never interrupt that

    @property
    def lease(self) -> Lease:
        return Lease(self.job.id, self.job.lease_token or "")


class Worker:
    def __init__(
        self,
        storage: Storage,
        registry: Joblane,
        settings: WorkerSettings | None = None,
        policy: RetryPolicy | None = None,
        on_change: Callable[[JobStamp], None] | None = None,
        artifacts: ArtifactWriter | None = None,
    ) -> None:
        self.storage = storage
        self.artifacts = artifacts  # None: results stay inline, handlers cannot write files
        self.registry = registry
        self.settings = settings or WorkerSettings()
        self.policy = policy or RetryPolicy()
        self.on_change = on_change
        self.id = f"wrk_{ids.ulid()}"
        self.types = [t.name for t in registry if t.enabled]
        self._running: dict[str, _Running] = {}
        self._slot_freed = asyncio.Event()
        self._threads = ThreadPoolExecutor(self.settings.concurrency + 4, "joblane-handler")
        self._outcomes: Batcher[Outcome, JobStamp | None] = Batcher(
            storage.jobs_finish, shared_failures=(Unavailable,)
        )
        self._started_at = storage.now()
        self._observer = JobObserver(storage)  # metrics, a handler's own log lines
        self._lingering = 0
        self.processed = 0

    # -- public ------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then finish or release running jobs."""
        helpers = [
            asyncio.create_task(self._every(self.settings.heartbeat_interval, self._heartbeat)),
            asyncio.create_task(self._every(self.settings.progress_interval, self._flush_progress)),
            asyncio.create_task(
                self._every(self.settings.cancel_check_interval, self._check_cancel)
            ),
            asyncio.create_task(self._every(self._observer.flush_interval, self._observer.flush)),
        ]
        try:
            try:
                await self._heartbeat()
            except Exception:  # registration is retried by the heartbeat duty
                log.exception("first heartbeat failed")
            await self._claim_loop(stop)
        finally:
            await self._shutdown()
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            await self._flush_progress()
            await self._observer.flush()
            with contextlib.suppress(Exception):
                await self.storage.worker_remove(self.id)
            self._threads.shutdown(wait=False, cancel_futures=True)

    async def run_until_empty(self) -> int:
        """Burst mode (tests, scripts): run every claimable job, return how many ran."""
        before = self.processed
        while claimed := await self._claim():
            pending = {r.task for r in claimed}
            while pending:
                _, pending = await asyncio.wait(
                    pending, timeout=self.settings.cancel_check_interval
                )
                self._enforce_timeouts()
        await self._flush_progress()
        await self._observer.flush()
        return self.processed - before

    # -- claiming ----------------------------------------------------------------------------
    async def _claim_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.busy >= self.settings.concurrency:
                await self._wait_any(stop, self._slot_freed.wait())
                continue
            try:
                claimed = await self._claim()
            except Unavailable as exc:
                log.warning("claim failed, retrying: %s", exc)
                await self._wait_any(stop, asyncio.sleep(1.0))
                continue
            except Exception:  # keep working through anything storage throws; say so loudly
                log.exception("claim failed unexpectedly, retrying")
                await self._wait_any(stop, asyncio.sleep(1.0))
                continue
            if not claimed:
                idle = self.storage.jobs_wait_available(self.types, self.settings.idle_poll)
                await self._wait_any(stop, idle)

    async def _claim(self) -> list[_Running]:
        free = min(self.settings.concurrency - self.busy, self.settings.claim_batch)
        if free <= 0 or not self.types:
            return []
        jobs = await self.storage.jobs_claim(self.id, self.types, free, self.settings.lease_seconds)
        return [self._start(job) for job in jobs]

    def _start(self, job: Job) -> _Running:
        files = None if self.artifacts is None else JobArtifacts(self.artifacts, job)
        ctx = JobContext(job, log, files)
        task = asyncio.create_task(self._run_job(job, ctx), name=f"joblane-job-{job.id}")
        running = _Running(job, ctx, task, asyncio.get_running_loop().time() + job.timeout)
        self._running[job.id] = running
        if self.on_change is not None:
            self.on_change(job.stamp)
        return running

    async def _run_job(self, job: Job, ctx: JobContext) -> None:
        job_type = self.registry.get(job.type)
        lease = Lease(job.id, job.lease_token or "")
        attempt = self._observer.started(job)  # this task's log lines are the job's from here
        try:
            if job_type is None:  # claimed types come from the registry, so this is a bug
                raise RuntimeError(f"no handler for {job.type}")
            async with job_spans(job, self.storage) as span:
                try:
                    outcome = await execute(job_type, ctx, self._threads, self.policy)
                except (JobCancelled, asyncio.CancelledError):
                    # stopped by this worker (shutdown or lost lease): hand it back as it was
                    outcome = Outcome(lease, JobState.QUEUED, release=True)
                span.outcome(attempt.ended(outcome))
            running = self._running.get(job.id)
            if running is not None:
                running.finishing = True
            await self._finish(outcome, ctx)
        finally:
            self._observer.retire(attempt)
            self._running.pop(job.id, None)
            self._hold_slot_for(ctx)
            self._slot_freed.set()
            self.processed += 1

    def _hold_slot_for(self, ctx: JobContext) -> None:
        """A sync handler that outlived its job (timeout, cancel, shutdown) still occupies a
        thread: its slot stays taken until the thread returns, so threads never pile up."""
        thread = ctx.thread
        if thread is None or thread.done():
            return
        self._lingering += 1
        loop = asyncio.get_running_loop()

        def returned(_: object) -> None:
            with contextlib.suppress(RuntimeError):  # the loop may be gone at process exit
                loop.call_soon_threadsafe(self._thread_returned)

        thread.add_done_callback(returned)

    def _thread_returned(self) -> None:
        self._lingering -= 1
        self._slot_freed.set()

    @property
    def busy(self) -> int:
        """Slots in use: running jobs and threads of jobs that already ended."""
        return len(self._running) + self._lingering

    async def _finish(self, outcome: Outcome, ctx: JobContext) -> None:
        """Record the outcome, retrying while storage is unavailable: a computed result must
        not be lost to a blip (the lease keeps the job ours meanwhile)."""
        delay = 0.1
        deadline = self.storage.now() + self.settings.lease_seconds
        while True:
            try:
                job = await self._write_outcome(outcome, ctx)
                break
            except Unavailable as exc:
                if self.storage.now() + delay > deadline:
                    log.error("could not record %s: %s (it will be rescued)", outcome.lease, exc)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        if job is None:
            log.warning("job %s was taken from this worker before it ended", outcome.lease.job_id)
        else:
            self._notify(job)

    async def _write_outcome(self, outcome: Outcome, ctx: JobContext) -> JobStamp | None:
        progress = ctx.final_progress()
        if progress is not None and outcome.state is not JobState.QUEUED:
            outcome = replace(outcome, progress=progress)
        return await self._outcomes.submit(outcome)

    # -- background duties -------------------------------------------------------------------
    async def _heartbeat(self) -> None:
        leases = [r.lease for r in self._running.values()]
        await self.storage.worker_upsert(self._record())
        if not leases:
            return
        result = await self.storage.jobs_heartbeat(leases, self.settings.lease_seconds)
        for job_id in result.lost:
            log.warning("lease of job %s was lost; stopping it", job_id)
            self._stop(job_id)
        for job_id in result.cancel_requested:
            self._cancel(job_id)

    async def _flush_progress(self) -> None:
        updates = []
        for running in list(self._running.values()):
            progress = running.ctx.take_progress()
            if progress is not None:
                updates.append(ProgressUpdate(running.lease, progress))
        if updates:
            await self.storage.jobs_progress(updates)

    async def _check_cancel(self) -> None:
        if self._running:
            self._enforce_timeouts()
            for job_id in await self.storage.jobs_cancel_requested(list(self._running)):
                self._cancel(job_id)

    def _enforce_timeouts(self) -> None:
        """One sweep for every running job instead of a timer per job (that timer cost more
        than a no-op job); a timeout is enforced within `cancel_check_interval`."""
        now = asyncio.get_running_loop().time()
        for running in list(self._running.values()):
            if now >= running.deadline and not running.finishing and not running.ctx.timed_out:
                running.ctx.request_timeout()
                running.task.cancel()

    def _cancel(self, job_id: str) -> None:
        """A user cancelled the job: the handler sees `ctx.cancelled` at once; an async handler
        that ignores it is interrupted after `cancel_grace`."""
        running = self._running.get(job_id)
        if running is None or running.ctx.cancel_requested:
            return
        running.ctx.request_cancel()
        self._interrupt_later(job_id, running.task)

    def _interrupt_later(self, job_id: str, task: asyncio.Task[None]) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(self.settings.cancel_grace, self._force_cancel, job_id, task)

    def _force_cancel(self, job_id: str, task: asyncio.Task[None]) -> None:
        """An async handler that ignored the request is interrupted at its next await."""
        running = self._running.get(job_id)
        if running is not None and not running.finishing and not task.done():
            task.cancel()

    def _stop(self, job_id: str, *, now: bool = False) -> None:
        """Stop a job this worker gives back (shutdown, lost lease): not a cancellation. The
        handler sees `ctx.cancelled` at once and is interrupted after `cancel_grace`."""
        running = self._running.get(job_id)
        if running is None or running.finishing:
            return
        running.ctx.request_stop()
        if now:
            running.task.cancel()
        else:
            self._interrupt_later(job_id, running.task)

    # -- shutdown ----------------------------------------------------------------------------
    async def _shutdown(self) -> None:
        """Running jobs get `shutdown_grace` to finish; the rest are told to stop and handed
        back to the queue (same attempt) for another worker."""
        if not self._running:
            return
        tasks = [r.task for r in self._running.values()]
        grace = self.settings.shutdown_grace
        log.info("waiting up to %.0fs for %d running jobs", grace, len(tasks))
        await asyncio.wait(tasks, timeout=grace)
        leftovers = list(self._running)
        for job_id in leftovers:
            self._stop(job_id, now=True)
        await asyncio.gather(*tasks, return_exceptions=True)
        if leftovers:
            log.info("released %d unfinished jobs for other workers", len(leftovers))

    # -- helpers -----------------------------------------------------------------------------
    def _record(self) -> WorkerRecord:
        now = self.storage.now()
        return WorkerRecord(
            id=self.id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            types=tuple(self.types),
            concurrency=self.settings.concurrency,
            started_at=self._started_at,
            heartbeat_at=now,
            running=tuple(self._running),
        )

    def _notify(self, stamp: JobStamp) -> None:
        if self.on_change is not None:
            self.on_change(stamp)

    async def _every(self, interval: float, duty: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                result = duty()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("worker duty %s failed", getattr(duty, "__name__", duty))

    async def _wait_any(self, stop: asyncio.Event, awaitable: Awaitable[object]) -> None:
        self._slot_freed.clear()
        waiter = asyncio.ensure_future(awaitable)
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiter, stopper):
            task.cancel()
        await asyncio.gather(waiter, stopper, return_exceptions=True)
