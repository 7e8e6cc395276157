"""Accepting a batch: every item validated, written in chunks, all of it committed or none.

Items arrive as an async stream (a JSON array, JSONL lines, an uploaded file), so a batch of a
million items is never held in memory at once: each chunk is validated and handed to storage
while the next one is parsed. The first bad item aborts the upload and is reported with its
location (`line 17` of a JSONL body, `jobs[16]` of a JSON one).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from joblane.app import Joblane, JobType
from joblane.core import ids
from joblane.core.batch import Batch, NewBatch
from joblane.core.errors import Forbidden, NotImplementedType, ValidationFailed
from joblane.core.job import NewJob
from joblane.core.principal import Principal
from joblane.core.tenant import TenantSettings
from joblane.observe.metrics import metrics
from joblane.service.jobs import validate_input
from joblane.storage.base import BatchUpload, Storage

CHUNK = 2000
YIELD_EVERY = 100  # items parsed between turns of the event loop

Loc = tuple[str | int, ...]  # where an item came from: ("line", 17) or ("body", "jobs", 16)


@dataclass(frozen=True, slots=True)
class BatchOptions:
    name: str | None = None
    max_concurrent: int | None = None
    priority: int = 0
    timeout: float | None = None
    callback_url: str | None = None
    notification_enabled: bool = False


class BatchItem(NamedTuple):  # a tuple: made once per item, and a dataclass costs more
    loc: Loc
    type: str
    input: dict[str, Any]
    metadata: dict[str, str]


def describe(loc: Loc) -> str:
    if loc and loc[0] == "line":
        return f"line {loc[1]}"
    return f"jobs[{loc[-1]}]"


class BatchSubmitter:
    def __init__(self, storage: Storage, registry: Joblane, max_items: int) -> None:
        self.storage = storage
        self.registry = registry
        self.max_items = max_items

    async def submit(
        self, who: Principal, options: BatchOptions, items: AsyncIterable[BatchItem]
    ) -> Batch:
        batch = NewBatch(
            id=ids.new_id(ids.BATCH),
            tenant_id=who.tenant_id,
            name=options.name,
            max_concurrent=options.max_concurrent,
            priority=options.priority,
            timeout=options.timeout,
            callback_url=options.callback_url,
            notification_enabled=options.notification_enabled,
        )
        upload = await self.storage.batch_open(batch)
        types: Counter[str] = Counter()
        try:
            await self._write_items(upload, batch, _counted(items, types), who.settings)
            committed = await upload.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                await upload.abort()
            raise
        submitted = metrics().submitted
        for job_type, count in types.items():
            submitted[job_type].inc(count)
        return committed

    async def _write_items(
        self,
        upload: BatchUpload,
        batch: NewBatch,
        items: AsyncIterable[BatchItem],
        tenant: TenantSettings,
    ) -> None:
        chunk: list[_Valid] = []
        count = 0
        writing: asyncio.Task[None] | None = None  # one chunk is written while the next is parsed
        try:
            async for item in items:
                count += 1
                if count > self.max_items:
                    raise ValidationFailed(
                        f"a batch holds at most {self.max_items} items",
                        [{"loc": list(item.loc), "msg": "too many items", "type": "too_long"}],
                    )
                chunk.append(self._validate(item, tenant))
                if count % YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # let the pending write make progress meanwhile
                if len(chunk) >= CHUNK:
                    if writing is not None:
                        await writing
                    writing = asyncio.ensure_future(upload.add(_new_jobs(batch, chunk)))
                    chunk = []
        finally:
            if writing is not None:  # never leave a write running under an abort
                await asyncio.wait([writing])
        if writing is not None:
            writing.result()
        if count == 0:
            raise ValidationFailed(
                "a batch needs at least one item",
                [{"loc": ["body", "jobs"], "msg": "no items", "type": "too_short"}],
            )
        if chunk:
            await upload.add(_new_jobs(batch, chunk))

    def _validate(self, item: BatchItem, tenant: TenantSettings) -> _Valid:
        job_type = self.registry.get(item.type)
        if job_type is None:
            known = ", ".join(self.registry.names())
            raise ValidationFailed(
                f"{describe(item.loc)}: unknown job type '{item.type}'",
                [{"loc": [*item.loc, "type"], "msg": f"unknown job type; known: {known}"}],
            )
        if not job_type.enabled:
            raise NotImplementedType(
                f"{describe(item.loc)}: job type '{item.type}' is disabled on this server"
            )
        if not tenant.may_use(job_type.name):
            raise Forbidden(
                f"{describe(item.loc)}: this tenant may not use job type '{item.type}'",
                details={"job_type": item.type, "loc": list(item.loc)},
            )
        try:
            data = validate_input(job_type, item.input)
        except ValidationFailed as exc:
            raise ValidationFailed(
                f"{describe(item.loc)}: {exc.message}", _relocate(exc.errors, item.loc)
            ) from None
        return job_type, data, item.metadata


_Valid = tuple[JobType, dict[str, Any], dict[str, str]]


def _new_jobs(batch: NewBatch, chunk: Sequence[_Valid]) -> list[NewJob]:
    """The chunk's jobs, with ids made together (in submission order)."""
    return [
        NewJob(
            id=job_id,
            tenant_id=batch.tenant_id,
            type=job_type.name,
            input=data,
            metadata=metadata,
            priority=batch.priority,
            max_attempts=job_type.max_attempts,
            timeout=job_type.timeout,
            batch_id=batch.id,
        )
        for job_id, (job_type, data, metadata) in zip(
            ids.new_ids(ids.JOB, len(chunk)), chunk, strict=True
        )
    ]


def _relocate(errors: Sequence[dict[str, Any]], loc: Loc) -> list[dict[str, Any]]:
    """`["body", "input", ...]` from the job validator becomes `[*loc, "input", ...]`."""
    return [{**err, "loc": [*loc, *list(err["loc"])[1:]]} for err in errors]


async def _counted(
    items: AsyncIterable[BatchItem], types: Counter[str]
) -> AsyncIterator[BatchItem]:
    """The items, counted by type on the way (for the submitted-jobs metric, once committed)."""
    async for item in items:
        types[item.type] += 1
        yield item
