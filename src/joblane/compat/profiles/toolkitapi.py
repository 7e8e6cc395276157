"""`toolkitapi`: analytics queries and their async jobs (seed 004_*.txt).

    GET  /v1/jobs/{job_id}      the job: status, progress, `results` {columns, rows, row_count}
    POST /v1/query/{query_id}   run a query: {"execution_mode": "async"} answers 202 and the
                                queued job at once; "sync" (the default) waits up to the
                                server's `max_wait` and answers 200 with the finished job (or
                                202 and the job, still running, to poll)

The query itself travels in the body: the `analytics_query` job type's input (`rows` or `csv`,
`group_by`, `aggregate`, `export_csv`), with an optional `dataset_id`; Joblane has no stored
queries or datasets, so `query_id` (from the path) and `dataset_id` are labels kept in the job's
metadata and shown back. Auth: `X-API-Key: <key>` (or `Authorization: Bearer`); the document's
Python and JavaScript examples send no key and get 401. Ids: Joblane's job ids (`job_<ULID>`
fits `job_abc001`). Statuses: queued, running, completed -> succeeded, failed (cancelled ->
failed). `error` is a human-readable string; `completed_at` is when the job ended (succeeded,
failed or cancelled), null before. Errors: `{"error": {"code", "message"}}`.

"Async job support is a planned Phase 2 feature ... will return 501 Not Implemented until it is
fully enabled": on a server whose `analytics_query` job type is disabled (`app.disable(...)`)
or absent, both endpoints answer 501 NOT_IMPLEMENTED.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from joblane.compat.access import find_job
from joblane.compat.profile import JSON, Call, Endpoint, ErrorInfo, Profile
from joblane.compat.profiles.bodies import read_model
from joblane.compat.submit import submit_job
from joblane.compat.wire import Vocabulary, iso, json_response
from joblane.core.errors import NotImplementedType, Unavailable, ValidationFailed
from joblane.core.estimates import retry_after
from joblane.core.job import Job
from joblane.core.states import JobState

STATUS = Vocabulary(
    JobState,
    {
        JobState.QUEUED: "queued",
        JobState.RUNNING: "running",
        JobState.COMPLETED: "succeeded",
        JobState.FAILED: "failed",
        JobState.CANCELLED: "failed",
    },
)
JOB_TYPE = "analytics_query"
_LABEL = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class QueryBody(BaseModel):
    """`execution_mode` and labels; everything else is the query (the job type's input)."""

    model_config = ConfigDict(extra="allow")

    execution_mode: Literal["sync", "async"] = "sync"
    dataset_id: str | None = Field(None, pattern=_LABEL.pattern)


# -- rendering --------------------------------------------------------------------------------
def job_body(job: Job) -> JSON:
    return {
        "job_id": job.id,
        "query_id": job.metadata.get("query_id"),
        "dataset_id": job.metadata.get("dataset_id"),
        "status": STATUS(job.state),
        "progress": 100 if job.state is JobState.COMPLETED else int(job.progress.percentage or 0),
        "results": _results(job.result) if job.state is JobState.COMPLETED else None,
        "error": _error(job),
        "created_at": iso(job.created_at),
        "completed_at": iso(job.completed_at or job.failed_at or job.cancelled_at)
        if job.terminal
        else None,
    }


def _results(result: Any) -> Any:
    if isinstance(result, dict) and {"columns", "rows"} <= result.keys():
        rows = result["rows"]
        row_count = result.get("row_count", len(rows) if isinstance(rows, list) else None)
        return {"columns": result["columns"], "rows": rows, "row_count": row_count}
    return result


def _error(job: Job) -> str | None:
    if job.state is JobState.CANCELLED:
        return f"cancelled: {job.cancel_reason}" if job.cancel_reason else "cancelled"
    if job.state is not JobState.FAILED or job.error is None:
        return None
    return job.error.message


def error(info: ErrorInfo) -> JSON:
    body: JSON = {"code": info.code, "message": info.message}
    if info.joblane_code == "VALIDATION_ERROR" and "errors" in info.details:
        body["details"] = info.details["errors"]
    return {"error": body}


# -- endpoints --------------------------------------------------------------------------------
async def get_job(call: Call) -> Response:
    _require_async_jobs(call)
    job = await find_job(call, call.path("job_id"))
    return json_response(job_body(job), headers=_poll_headers(call, job))


async def run_query(call: Call) -> Response:
    query_id = call.path("query_id")
    if not _LABEL.match(query_id):
        raise ValidationFailed(
            f"query_id '{query_id[:130]}' is not valid",
            [{"loc": ["path", "query_id"], "msg": _LABEL.pattern, "type": "string_pattern"}],
        )
    body = await read_model(call, QueryBody)
    if body.execution_mode == "async":
        _require_async_jobs(call)
    metadata = {"query_id": query_id}
    if body.dataset_id:
        metadata["dataset_id"] = body.dataset_id
    job = await submit_job(call, JOB_TYPE, dict(body.model_extra or {}), metadata)
    if body.execution_mode == "sync":
        job = await _settle(call, job)
    headers = {"Location": f"{call.request.scope.get('root_path', '')}/v1/jobs/{job.id}"}
    return json_response(job_body(job), 200 if job.terminal else 202, headers)


async def _settle(call: Call, job: Job) -> Job:
    """Wait for the job (up to `max_wait`); an outage while waiting keeps the job as it was."""
    try:
        wait = call.ctx.settings.max_wait
        return await call.ctx.jobs.wait(call.who, job, wait, until_terminal=True)
    except Unavailable:
        return job


def _require_async_jobs(call: Call) -> None:
    job_type = call.ctx.jobs.registry.get(JOB_TYPE)
    if job_type is None or not job_type.enabled:
        raise NotImplementedType(
            "Async job support is not enabled on this server (planned Phase 2 feature)"
        )


def _poll_headers(call: Call, job: Job) -> dict[str, str]:
    if job.terminal:
        return {"Cache-Control": "private, max-age=60"}
    return {"Cache-Control": "no-cache", "Retry-After": str(retry_after(job, call.now))}


PROFILE = Profile(
    name="toolkitapi",
    title="toolkitapi: analytics queries run async (execution_mode), columns/rows results",
    endpoints=(
        Endpoint("GET", "/v1/jobs/{job_id}", get_job),
        Endpoint("POST", "/v1/query/{query_id}", run_query),
    ),
    error=error,
    cross_tenant_forbidden=False,
)
