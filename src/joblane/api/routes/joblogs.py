"""`GET /v1/jobs/{id}/logs[?attempt=N]`: a handler's own log lines, kept with the job (the last
200 lines / 64 KiB of each attempt). Found through the job first, so tenancy is the job's."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from joblane.api.context import caller
from joblane.api.http import json_response
from joblane.core.clock import to_rfc3339
from joblane.core.errors import ValidationFailed
from joblane.core.joblog import LogLine, dropped_before
from joblane.service.joblog import JobLogService


def attempt_param(request: Request) -> int | None:
    raw = request.query_params.get("attempt")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 1_000_000:
        errors = [{"loc": ["query", "attempt"], "msg": "must be a whole number from 1"}]
        raise ValidationFailed("invalid query parameter 'attempt'", errors)
    return int(raw)


def line_body(line: LogLine) -> dict[str, Any]:
    return {
        "seq": line.seq,
        "at": to_rfc3339(line.at),
        "level": line.level,
        "logger": line.logger,
        "message": line.message,
    }


async def job_logs(request: Request) -> Response:
    ctx, who = await caller(request)
    job = await ctx.jobs.get(who, request.path_params["job_id"])
    attempt = attempt_param(request) or job.attempt
    lines = await JobLogService(ctx.storage).lines(job, attempt)
    return json_response(
        {
            "object": "list",
            "job_id": job.id,
            "attempt": attempt,
            "dropped": dropped_before(lines),
            "data": [line_body(line) for line in lines],
        }
    )


routes = [Route("/v1/jobs/{job_id}/logs", job_logs, methods=["GET"])]
