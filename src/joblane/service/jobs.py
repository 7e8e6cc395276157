"""Job use cases: submit, read, wait, list, cancel, retry, delete."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import orjson
from pydantic import ValidationError

from joblane.app import Joblane, JobType
from joblane.core import ids
from joblane.core.batch import BatchControl
from joblane.core.errors import (
    Conflict,
    IdempotencyMismatch,
    InvalidId,
    JobExpired,
    JoblaneError,
    NotFound,
    NotImplementedType,
    Unavailable,
    ValidationFailed,
)
from joblane.core.job import Job, NewJob
from joblane.core.principal import READ, WRITE, Principal
from joblane.core.states import JobState
from joblane.observe import tracing
from joblane.observe.metrics import metrics
from joblane.service.changes import ChangeFeed
from joblane.service.waiting import WaitingReasons
from joblane.storage.base import Storage
from joblane.storage.params import JobFilter

IDEMPOTENCY_TTL = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class SubmitJob:
    type: str
    input: dict[str, Any]
    metadata: dict[str, str] = field(default_factory=dict)
    priority: int | None = None
    max_attempts: int | None = None
    timeout: float | None = None
    run_at: float | None = None
    callback_url: str | None = None


@dataclass(frozen=True, slots=True)
class Submitted:
    job: Job
    created: bool


@dataclass(frozen=True, slots=True)
class Page:
    jobs: list[Job]
    next_cursor: str | None


class JobService:
    def __init__(self, storage: Storage, registry: Joblane, changes: ChangeFeed) -> None:
        self.storage = storage
        self.registry = registry
        self.changes = changes
        self.waiting = WaitingReasons(storage)

    # -- submit ------------------------------------------------------------------------------
    async def submit(
        self, who: Principal, request: SubmitJob, idempotency_key: str | None = None
    ) -> Submitted:
        who.require(WRITE)
        job_type = self._job_type(request.type)
        who.may_use(job_type.name)
        new_job = NewJob(
            id=ids.new_id(ids.JOB),
            tenant_id=who.tenant_id,
            type=job_type.name,
            input=validate_input(job_type, request.input),
            metadata=request.metadata,
            priority=job_type.priority if request.priority is None else request.priority,
            max_attempts=request.max_attempts or job_type.max_attempts,
            timeout=request.timeout or job_type.timeout,
            run_at=request.run_at,
            callback_url=request.callback_url,
            idempotency_key=idempotency_key,
        )
        with tracing.submit_span(new_job) as trace:
            submitted = await self._insert(new_job, request, idempotency_key)
            if submitted.created:
                metrics().submitted[new_job.type].inc()
                await trace.keep(self.storage, new_job.id)
        return submitted

    async def _insert(
        self, new_job: NewJob, request: SubmitJob, idempotency_key: str | None
    ) -> Submitted:
        if idempotency_key is None:
            (job,) = await self.storage.jobs_insert([new_job])
            return Submitted(job, created=True)
        outcome = await self.storage.job_insert_idempotent(
            new_job, idempotency_key, request_fingerprint(request), IDEMPOTENCY_TTL
        )
        if outcome.mismatch or outcome.job is None:
            raise IdempotencyMismatch(
                "this Idempotency-Key was used with a different request body",
                details={"idempotency_key": idempotency_key},
            )
        return Submitted(outcome.job, created=outcome.created)

    def _job_type(self, name: str) -> JobType:
        job_type = self.registry.get(name)
        if job_type is None:
            known = ", ".join(self.registry.names())
            raise ValidationFailed(
                f"unknown job type '{name}'",
                [{"loc": ["body", "type"], "msg": f"unknown job type; known: {known}"}],
            )
        if not job_type.enabled:
            raise NotImplementedType(f"job type '{name}' is disabled on this server")
        return job_type

    # -- read --------------------------------------------------------------------------------
    async def get(self, who: Principal, job_id: str) -> Job:
        who.require(READ)
        check_job_id(job_id)
        job = await self.storage.job_get(job_id, who.visible_tenant)
        if job is None:
            raise await self._missing(who, job_id)
        return job

    async def wait(self, who: Principal, job: Job, timeout: float, *, until_terminal: bool) -> Job:
        """Long-poll: the job once its version moves past `job.version` (or it is terminal)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        current = job
        while (remaining := deadline - loop.time()) > 0 and not current.terminal:
            if not await self.changes.wait_for_change(current.id, current.version, remaining):
                break
            # no scope check here: a write-only key that just submitted may still wait on it
            latest = await self.storage.job_get(current.id, who.visible_tenant)
            if latest is None:  # deleted meanwhile
                break
            current = latest
            if not until_terminal:
                break
        return current

    async def list(self, who: Principal, query: JobFilter) -> Page:
        who.require(READ)
        scoped = replace(id_range(query), tenant_id=who.visible_tenant, limit=query.limit + 1)
        jobs = await self.storage.jobs_list(scoped)
        more = len(jobs) > query.limit
        jobs = jobs[: query.limit]
        return Page(jobs, jobs[-1].id if more and jobs else None)

    # -- user actions ------------------------------------------------------------------------
    async def cancel(self, who: Principal, job_id: str, reason: str | None) -> Job:
        who.require(WRITE)
        check_job_id(job_id)
        change = await self.storage.job_cancel(job_id, who.visible_tenant, reason)
        job = await self._found(who, job_id, change.job)
        if not change.changed and job.state is JobState.RUNNING and job.cancel_requested:
            return job  # asked again while the handler winds down: same answer, no change
        if not change.changed:
            detail = job.state.value
            raise Conflict(
                f"Job '{job_id}' cannot be cancelled: {detail}",
                details={"job_id": job_id, "status": job.state.value},
            )
        self.changes.notify(job.id, job.version)
        return job

    async def retry(self, who: Principal, job_id: str) -> Job:
        who.require(WRITE)
        check_job_id(job_id)
        await self._refuse_if_batch_cancelled(job_id, who)
        change = await self.storage.job_retry(job_id, who.visible_tenant)
        job = await self._found(who, job_id, change.job)
        if not change.changed:
            raise Conflict(
                f"Job '{job_id}' is {job.state}; only failed or cancelled jobs can be retried",
                details={"job_id": job_id, "status": job.state.value},
            )
        self.changes.notify(job.id, job.version)
        return job

    async def _refuse_if_batch_cancelled(self, job_id: str, who: Principal) -> None:
        """An item of a cancelled (or expired) batch stays as it is: the batch is over."""
        job = await self.storage.job_get(job_id, who.visible_tenant)
        if job is None or job.batch_id is None:
            return
        batch = await self.storage.batch_get(job.batch_id, None)
        if batch is None:  # retention purged the batch; its items are going too
            raise Conflict(
                f"Job '{job_id}' belongs to batch '{job.batch_id}', which expired",
                details={"job_id": job_id, "batch_id": job.batch_id},
            )
        if batch.control is BatchControl.CANCELLED:
            raise Conflict(
                f"Job '{job_id}' belongs to batch '{job.batch_id}', which was cancelled",
                details={"job_id": job_id, "batch_id": job.batch_id},
            )

    async def delete(self, who: Principal, job_id: str) -> None:
        who.require(WRITE)
        check_job_id(job_id)
        change = await self.storage.job_delete(job_id, who.visible_tenant)
        job = await self._found(who, job_id, change.job)
        if not change.changed and job.batch_id is not None:
            raise Conflict(
                f"Job '{job_id}' belongs to batch '{job.batch_id}'; its items are not deleted "
                "one by one",
                details={"job_id": job_id, "batch_id": job.batch_id},
            )
        if not change.changed:
            raise Conflict(
                f"Job '{job_id}' is {job.state}; only finished jobs can be deleted",
                details={"job_id": job_id, "status": job.state.value},
            )
        self.changes.notify(job.id, -1)

    async def waiting_reason(self, job: Job) -> str | None:
        if job.state is not JobState.QUEUED:
            return None
        try:
            return await self.waiting.reason(job, self.storage.now())
        except Unavailable:  # a hint is not worth failing a read (or a 202 already committed)
            return None

    async def _found(self, who: Principal, job_id: str, job: Job | None) -> Job:
        if job is None:
            raise await self._missing(who, job_id)
        return job

    async def _missing(self, who: Principal, job_id: str) -> JoblaneError:
        """A job the caller cannot see: 410 if retention purged it from the caller's tenant
        (any tenant, for admin keys), else 404. Only lookups that miss pay for the tombstone."""
        details = {"job_id": job_id}
        purged_at = await self.storage.tombstone_get(job_id, who.visible_tenant)
        if purged_at is not None:
            message = f"Job '{job_id}' expired: its record was purged by retention"
            return JobExpired(message, purged_at=purged_at, details=details)
        return NotFound(f"Job '{job_id}' not found", details=details)


# How far a job's id time may lie from its created_at: ids come from the submitting process's
# clock, created_at from storage's, and a batch's items get their ids while the upload runs
# (created_at = its start). Generous: it only widens the range of ids a list walks.
ID_TIME_SLACK = 3600.0


def id_range(query: JobFilter) -> JobFilter:
    """A created range as a range of ids too (ids sort by the time they were made), so a list
    of old jobs starts at them instead of walking every newer id (`created_at` still filters)."""
    after, before = query.after_id, query.before_id
    if query.created_after is not None:
        bound = ids.time_bound(ids.JOB, query.created_after - ID_TIME_SLACK)
        after = bound if after is None else max(after, bound)
    if query.created_before is not None:
        bound = ids.time_bound(ids.JOB, query.created_before + ID_TIME_SLACK)
        before = bound if before is None else min(before, bound)
    return replace(query, after_id=after, before_id=before)


def check_job_id(job_id: str) -> None:
    problem = ids.id_problem(job_id, ids.JOB)
    if problem is not None:
        raise InvalidId(f"'{job_id}' is not a valid job id: {problem}", details={"reason": problem})


def validate_input(job_type: JobType, data: dict[str, Any]) -> dict[str, Any]:
    try:
        model = job_type.input_model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"loc": ["body", "input", *err["loc"]], "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_context=False)
        ]
        raise ValidationFailed(
            f"input is not valid for job type '{job_type.name}'", errors
        ) from exc
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_unset=True)
    try:
        orjson.dumps(dumped)  # what storage will write: e.g. integers beyond 64 bits fail
    except TypeError as exc:
        errors = [{"loc": ["body", "input"], "msg": str(exc), "type": "value_error"}]
        raise ValidationFailed("input cannot be stored as JSON", errors) from None
    return dumped


def request_fingerprint(request: SubmitJob) -> str:
    canonical = json.dumps(asdict(request), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
