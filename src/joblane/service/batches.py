"""Batch use cases: submit, read (with error summary and item details), wait, list, pause,
resume, cancel, retry the failed items, stream the results."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from joblane.app import Joblane
from joblane.core import ids
from joblane.core.batch import Batch, BatchControl, ErrorGroup
from joblane.core.errors import (
    BatchExpired,
    BatchNotFound,
    Conflict,
    InvalidBatchId,
    JoblaneError,
)
from joblane.core.job import Job
from joblane.core.principal import READ, WRITE, Principal
from joblane.core.states import JobState
from joblane.service.batch_submit import BatchItem, BatchOptions, BatchSubmitter
from joblane.service.changes import ChangeFeed
from joblane.storage.base import Storage
from joblane.storage.params import BatchChange, BatchFilter, ItemResult, JobFilter

RESULTS_CHUNK = 500
ERROR_CODES_SHOWN = 20


@dataclass(frozen=True, slots=True)
class BatchPage:
    batches: list[Batch]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ItemPage:
    jobs: list[Job]
    next_cursor: str | None


class BatchService:
    def __init__(
        self, storage: Storage, registry: Joblane, changes: ChangeFeed, max_items: int
    ) -> None:
        self.storage = storage
        self.registry = registry
        self.changes = changes
        self._submitter = BatchSubmitter(storage, registry, max_items)

    async def submit(
        self, who: Principal, options: BatchOptions, items: AsyncIterable[BatchItem]
    ) -> Batch:
        who.require(WRITE)
        return await self._submitter.submit(who, options, items)

    # -- read --------------------------------------------------------------------------------
    async def get(self, who: Principal, batch_id: str) -> Batch:
        who.require(READ)
        return await self._find(who, batch_id)

    async def _find(self, who: Principal, batch_id: str) -> Batch:
        check_batch_id(batch_id)
        batch = await self.storage.batch_get(batch_id, who.visible_tenant)
        if batch is None:
            raise await self._missing(who, batch_id)
        return batch

    async def _missing(self, who: Principal, batch_id: str) -> JoblaneError:
        """A batch the caller cannot see: 410 if retention purged it from the caller's tenant
        (any tenant, for admin keys), else 404. Only lookups that miss pay for the tombstone."""
        details = {"batch_id": batch_id}
        purged_at = await self.storage.tombstone_get(batch_id, who.visible_tenant)
        if purged_at is not None:
            message = f"Batch '{batch_id}' expired: its record was purged by retention"
            return BatchExpired(message, purged_at=purged_at, details=details)
        return BatchNotFound(f"Batch '{batch_id}' not found", details=details)

    async def wait(self, who: Principal, batch: Batch, timeout: float) -> Batch:
        """Long-poll: the batch once its version moves past `batch.version`."""
        if batch.terminal or not await self.changes.wait_for_change(
            batch.id, batch.version, timeout
        ):
            return batch
        latest = await self.storage.batch_get(batch.id, who.visible_tenant)
        return latest or batch

    async def error_summary(self, batch: Batch) -> list[ErrorGroup]:
        if batch.counts.failed == 0:
            return []
        groups = await self.storage.batch_error_groups(batch.id, ERROR_CODES_SHOWN)
        return [group if group.resolution else await self._with_hint(group) for group in groups]

    async def _with_hint(self, group: ErrorGroup) -> ErrorGroup:
        """The registered hint for the group's code: of the failed items' own type (two types
        may register the same code), else of any type that registers one."""
        names = self.registry.names()
        if group.sample_job_ids:
            sample = await self.storage.job_get(group.sample_job_ids[0], None)
            if sample is not None:
                names = [sample.type, *names]
        for name in names:
            job_type = self.registry.get(name)
            if job_type is not None and group.code in job_type.resolutions:
                resolution = job_type.resolutions[group.code]
                return ErrorGroup(group.code, group.count, group.sample_job_ids, resolution)
        return group

    async def items(
        self,
        who: Principal,
        batch: Batch,
        states: tuple[JobState, ...],
        after: str | None,
        limit: int,
    ) -> ItemPage:
        query = JobFilter(
            tenant_id=who.visible_tenant,
            batch_id=batch.id,
            states=states,
            after_id=after,
            oldest_first=True,
            limit=limit + 1,
        )
        jobs = await self.storage.jobs_list(query)
        more = len(jobs) > limit
        jobs = jobs[:limit]
        return ItemPage(jobs, jobs[-1].id if more and jobs else None)

    async def list(self, who: Principal, before: str | None, limit: int) -> BatchPage:
        who.require(READ)
        query = BatchFilter(tenant_id=who.visible_tenant, before_id=before, limit=limit + 1)
        batches = await self.storage.batches_list(query)
        more = len(batches) > limit
        batches = batches[:limit]
        return BatchPage(batches, batches[-1].id if more and batches else None)

    async def results(self, batch: Batch) -> AsyncIterator[ItemResult]:
        """Every item in item order, read chunk by chunk: memory stays flat for any size."""
        after: str | None = None
        while True:
            chunk = await self.storage.batch_results(batch.id, after, RESULTS_CHUNK)
            for item in chunk:
                yield item
            if len(chunk) < RESULTS_CHUNK:
                return
            after = chunk[-1].id
            await asyncio.sleep(0)  # let other requests in between chunks

    # -- user actions ------------------------------------------------------------------------
    async def pause(self, who: Principal, batch_id: str) -> Batch:
        return await self._control(who, batch_id, BatchControl.PAUSED, None)

    async def resume(self, who: Principal, batch_id: str) -> Batch:
        return await self._control(who, batch_id, BatchControl.ACTIVE, None)

    async def cancel(self, who: Principal, batch_id: str, reason: str | None) -> Batch:
        return await self._control(who, batch_id, BatchControl.CANCELLED, reason)

    async def _control(
        self, who: Principal, batch_id: str, target: BatchControl, reason: str | None
    ) -> Batch:
        who.require(WRITE)
        batch = await self._find(who, batch_id)
        if batch.terminal:
            raise _conflict(batch, VERBS[target], f"it is {batch.status}")
        if batch.control is BatchControl.CANCELLED and target is not BatchControl.CANCELLED:
            raise _conflict(batch, VERBS[target], "it was cancelled")
        if batch.control is target:
            return batch  # asked twice: same answer, no change
        change = await self.storage.batch_set_control(batch.id, who.visible_tenant, target, reason)
        return await self._changed(who, batch, change, VERBS[target], f"it is {batch.status}")

    async def retry_failed(self, who: Principal, batch_id: str) -> tuple[Batch, int]:
        who.require(WRITE)
        batch = await self._find(who, batch_id)
        if batch.control is BatchControl.CANCELLED:
            raise _conflict(batch, "retried", "it was cancelled")
        if batch.counts.failed == 0:
            raise _conflict(batch, "retried", "it has no failed items")
        change = await self.storage.batch_retry_failed(batch.id, who.visible_tenant)
        changed = await self._changed(who, batch, change, "retried", "it has no failed items")
        return changed, change.items

    async def _changed(
        self, who: Principal, batch: Batch, change: BatchChange, verb: str, why: str
    ) -> Batch:
        if change.batch is None:  # gone since it was read: purged, most likely
            raise await self._missing(who, batch.id)
        if not change.changed:
            raise _conflict(change.batch, verb, why)
        self.changes.notify(change.batch.id, change.batch.version)
        return change.batch


def check_batch_id(batch_id: str) -> None:
    problem = ids.id_problem(batch_id, ids.BATCH)
    if problem is not None:
        raise InvalidBatchId(
            f"'{batch_id}' is not a valid batch id: {problem}", details={"reason": problem}
        )


VERBS = {
    BatchControl.PAUSED: "paused",
    BatchControl.ACTIVE: "resumed",
    BatchControl.CANCELLED: "cancelled",
}


def _conflict(batch: Batch, verb: str, why: str) -> Conflict:
    return Conflict(
        f"Batch '{batch.id}' cannot be {verb}: {why}",
        details={"batch_id": batch.id, "status": batch.status.value},
    )
