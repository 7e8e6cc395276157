"""Submitting through a profile: the body read under the API's limits, the job submitted
through the canonical `JobService` (validation, idempotency, tenant rules and all)."""

from __future__ import annotations

from typing import Any

from pydantic import RootModel

from joblane.api.http import parse_json_body
from joblane.api.limits import idempotency_key
from joblane.compat.profile import Call
from joblane.core.job import Job
from joblane.service.jobs import SubmitJob


class _Object(RootModel[dict[str, Any]]):
    pass


async def submit_body(call: Call) -> dict[str, Any]:
    """The request's JSON object, bounded like the canonical submit's (size, depth)."""
    settings = call.ctx.settings
    limit = call.who.body_limit(settings.max_body_bytes)
    body = await parse_json_body(call.request, _Object, limit, max_depth=settings.max_json_depth)
    return body.root


async def submit_job(
    call: Call, job_type: str, input_: dict[str, Any], metadata: dict[str, str] | None = None
) -> Job:
    """Submit as the caller (an `Idempotency-Key` header is honoured as in the canonical API)."""
    request = SubmitJob(type=job_type, input=input_, metadata=metadata or {})
    submitted = await call.ctx.jobs.submit(call.who, request, idempotency_key(call.request))
    return submitted.job
