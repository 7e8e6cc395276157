"""The reads profiles make, through the canonical services (never storage), and the one rule
they add: a job or batch of another tenant answers FORBIDDEN where the profile says so.
`shown` is the id as the caller wrote it (the profile's format): errors name that one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from joblane.compat.profile import Call
from joblane.core.batch import Batch
from joblane.core.errors import BatchExpired, BatchNotFound, Forbidden, JobExpired, NotFound
from joblane.core.job import Job
from joblane.core.principal import ADMIN, Principal

# sees every tenant; asked only after a miss, to tell "another tenant's" from "missing"
_PROBE = Principal("compat-probe", frozenset({ADMIN}))


async def find_job(call: Call, job_id: str, shown: str | None = None) -> Job:
    shown = shown or job_id
    try:
        return await call.ctx.jobs.get(call.who, job_id)
    except JobExpired as exc:
        message = f"Job '{shown}' expired: its record was purged by retention"
        raise JobExpired(message, purged_at=exc.purged_at, details={"job_id": shown}) from None
    except NotFound as exc:
        if type(exc) is not NotFound:
            raise
        if await _foreign(call, lambda: call.ctx.jobs.get(_PROBE, job_id)):
            raise Forbidden(
                "You do not have permission to access this job", details={"job_id": shown}
            ) from None
        raise NotFound(f"Job '{shown}' not found", details={"job_id": shown}) from None


async def find_batch(call: Call, batch_id: str, shown: str | None = None) -> Batch:
    shown = shown or batch_id
    try:
        return await call.ctx.batches.get(call.who, batch_id)
    except BatchExpired as exc:
        message = f"Batch '{shown}' expired: its record was purged by retention"
        raise BatchExpired(message, purged_at=exc.purged_at, details={"batch_id": shown}) from None
    except BatchNotFound:
        if await _foreign(call, lambda: call.ctx.batches.get(_PROBE, batch_id)):
            raise Forbidden(
                "You do not have permission to access this batch", details={"batch_id": shown}
            ) from None
        raise BatchNotFound(f"Batch '{shown}' not found", details={"batch_id": shown}) from None


async def _foreign(call: Call, read_as_probe: Callable[[], Awaitable[object]]) -> bool:
    """Whether a miss is another tenant's record, where the profile answers that with 403."""
    if not call.profile.cross_tenant_forbidden or call.who.is_admin:
        return False
    try:
        await read_as_probe()
    except (NotFound, JobExpired, BatchNotFound, BatchExpired):
        return False
    return True
