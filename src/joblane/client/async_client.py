"""`joblane.AsyncClient`: `joblane.Client` for asyncio, method for method (see its docs)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
from pydantic import BaseModel

from joblane.client import bodies, calls, responses
from joblane.client.async_transport import AsyncTransport
from joblane.client.bodies import AsyncItems
from joblane.client.config import Connection
from joblane.client.models import Batch, Event, Job, Page, ResultLine
from joblane.client.retry import RetryPolicy
from joblane.client.waiting import WaitPlan, batch_target, job_target

Statuses = str | Iterable[str] | None


class AsyncClient:
    """A client of one Joblane API, for asyncio (`async with AsyncClient() as client:`).
    Arguments as for `Client`; `sleep` is a coroutine function."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.connection = Connection.resolve(url, api_key, timeout)
        self.retry_policy = retry or RetryPolicy()
        self._t = AsyncTransport(
            self.connection,
            self.retry_policy,
            transport=transport,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )

    @property
    def url(self) -> str:
        return self.connection.url

    async def aclose(self) -> None:
        await self._t.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- jobs ------------------------------------------------------------------------------------
    async def submit(
        self,
        type: str,
        input: Mapping[str, Any] | BaseModel,
        *,
        metadata: Mapping[str, str] | None = None,
        priority: int | None = None,
        max_attempts: int | None = None,
        timeout: float | None = None,
        run_at: datetime | str | None = None,
        callback_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Submit a job; the queued job. Safe to retry: without an `idempotency_key` a fresh
        one is sent, so a repeat after a lost answer returns the same job."""
        call = calls.submit(
            type,
            input,
            metadata=metadata,
            priority=priority,
            max_attempts=max_attempts,
            timeout=timeout,
            run_at=run_at,
            callback_url=callback_url,
            idempotency_key=idempotency_key,
        )
        return responses.job(await self._t.send(call))

    async def get(self, job_id: str, *, include_input: bool = False) -> Job:
        return responses.job(await self._t.send(calls.job(job_id, include_input=include_input)))

    async def cancel(self, job_id: str, reason: str | None = None) -> Job:
        """Cancel: a queued job at once, a running one cooperatively (`cancel_requested`)."""
        return responses.job(await self._t.send(calls.cancel(job_id, reason)))

    async def retry(self, job_id: str) -> Job:
        """Queue a failed or cancelled job again, as a new attempt."""
        return responses.job(await self._t.send(calls.retry(job_id)))

    async def delete(self, job_id: str) -> None:
        """Delete a finished job and its result now."""
        responses.checked(await self._t.send(calls.delete(job_id)))

    async def result(self, job_id: str) -> Any:
        """A completed job's result (decoded JSON; bytes for any other content)."""
        return responses.result(await self._t.send(calls.result(job_id)))

    async def wait(
        self,
        job: str | Job,
        *,
        timeout: float | None = None,
        on_progress: Callable[[Job], object] | None = None,
    ) -> Job:
        """Wait until the job finishes: the completed job, or `JobFailed` (with the job's
        error), `JobCancelledError`, `WaitTimeout` after `timeout` seconds (None: no limit).
        `on_progress(job)` is called with each new version seen."""
        known = job if isinstance(job, Job) else None
        job_id = job.id if isinstance(job, Job) else job
        plan = WaitPlan(
            job_target(calls.job(job_id).path),
            timeout=timeout,
            policy=self.retry_policy,
            clock=self._t.clock,
            rng=self._t.rng,
            on_progress=on_progress,
            known=known,
        )
        return responses.finished(await self._t.wait(plan))

    def events(self, job_id: str, *, last_event_id: str | None = None) -> AsyncIterator[Event[Job]]:
        """The job's Server-Sent Events, one per version, until the terminal one; a dropped
        connection is resumed with `Last-Event-ID` (no version is lost or repeated)."""
        return self._t.follow(calls.job_events(job_id), Job, last_event_id)

    async def iter_jobs(self, *, page_size: int = 100, **filters: Any) -> AsyncIterator[Job]:
        """Every job matching the filters of `list()`, page after page (newest first)."""
        cursor: str | None = None
        while True:
            page = await self.list(limit=page_size, cursor=cursor, **filters)
            for job in page.data:
                yield job
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # -- batches ---------------------------------------------------------------------------------
    async def submit_batch(
        self,
        items: AsyncItems,
        *,
        name: str | None = None,
        max_concurrent: int | None = None,
        priority: int | None = None,
        timeout: float | None = None,
        callback_url: str | None = None,
        notification_enabled: bool | None = None,
    ) -> Batch:
        """Submit a batch: `items` is a path to a JSONL file or an iterable of
        `{type, input, metadata?}` (streamed as it is read, never held whole)."""
        body, replayable = bodies.async_source(items)
        call = calls.submit_batch(
            name=name,
            max_concurrent=max_concurrent,
            priority=priority,
            timeout=timeout,
            callback_url=callback_url,
            notification_enabled=notification_enabled,
        )
        return responses.batch(await self._t.send(call, body, replayable=replayable))

    async def get_batch(
        self,
        batch_id: str,
        *,
        include_job_details: bool = False,
        include_errors: bool = True,
        metrics_only: bool = False,
    ) -> Batch:
        call = calls.batch(
            batch_id,
            include_job_details=include_job_details,
            include_errors=include_errors,
            metrics_only=metrics_only,
        )
        return responses.batch(await self._t.send(call))

    async def list_batches(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[Batch]:
        return responses.batch_page(await self._t.send(calls.batches(limit=limit, cursor=cursor)))

    async def batch_jobs(
        self,
        batch_id: str,
        *,
        status: Statuses = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Job]:
        call = calls.batch_jobs(batch_id, status=status, limit=limit, cursor=cursor)
        return responses.job_page(await self._t.send(call))

    async def wait_batch(
        self,
        batch: str | Batch,
        *,
        timeout: float | None = None,
        on_progress: Callable[[Batch], object] | None = None,
    ) -> Batch:
        """Wait until the batch settles (completed, failed or cancelled: its counts say how
        its items ended) and return it with its error summary; `WaitTimeout` after
        `timeout` seconds. `on_progress(batch)` sees each new version."""
        known = batch if isinstance(batch, Batch) else None
        batch_id = batch.id if isinstance(batch, Batch) else batch
        plan = WaitPlan(
            batch_target(calls.batch(batch_id).path),
            timeout=timeout,
            policy=self.retry_policy,
            clock=self._t.clock,
            rng=self._t.rng,
            on_progress=on_progress,
            known=known,
        )
        await self._t.wait(plan)
        return await self.get_batch(batch_id)

    async def iter_results(self, batch_id: str) -> AsyncIterator[ResultLine]:
        """The batch's results stream: one line per item (id, status, result or error)."""
        async for line in self._t.lines(calls.batch_results(batch_id)):
            yield ResultLine.model_validate_json(line)

    async def pause_batch(self, batch_id: str) -> Batch:
        return responses.batch(await self._t.send(calls.batch_action(batch_id, "pause")))

    async def resume_batch(self, batch_id: str) -> Batch:
        return responses.batch(await self._t.send(calls.batch_action(batch_id, "resume")))

    async def cancel_batch(self, batch_id: str, reason: str | None = None) -> Batch:
        return responses.batch(await self._t.send(calls.batch_action(batch_id, "cancel", reason)))

    async def retry_failed(self, batch_id: str) -> Batch:
        """Queue the batch's failed items again."""
        return responses.batch(await self._t.send(calls.batch_action(batch_id, "retry-failed")))

    def batch_events(
        self, batch_id: str, *, last_event_id: str | None = None
    ) -> AsyncIterator[Event[Batch]]:
        return self._t.follow(calls.batch_events(batch_id), Batch, last_event_id)

    # last: a method named `list` would shadow the builtin in annotations that follow it
    async def list(
        self,
        *,
        status: Statuses = None,
        type: str | Iterable[str] | None = None,
        batch_id: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        metadata: Mapping[str, str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Job]:
        """One page of jobs, newest first; `next_cursor` fetches the next."""
        call = calls.listing(
            status=status,
            type=type,
            batch_id=batch_id,
            created_after=created_after,
            created_before=created_before,
            metadata=metadata,
            limit=limit,
            cursor=cursor,
        )
        return responses.job_page(await self._t.send(call))
