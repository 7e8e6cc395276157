"""The jobs list (filters, cursor paging) and a job's page with its actions."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from joblane.api.context import api_context
from joblane.api.present import job_body
from joblane.api.present_artifact import artifact_body
from joblane.api.present_webhook import delivery_body
from joblane.core.job import Job
from joblane.core.joblog import dropped_before
from joblane.core.states import JobState
from joblane.dashboard.filters import jobs_query
from joblane.dashboard.web import PREFIX, Viewer, action, narrowed, page, render
from joblane.service.joblog import JobLogService

RETRYABLE = (JobState.FAILED, JobState.CANCELLED)
DELIVERIES_SHOWN = 50


async def jobs_page(request: Request, viewer: Viewer) -> Response:
    ctx = api_context(request)
    query = jobs_query(request.query_params, admin=viewer.is_admin)
    jobs: list[Job] = []
    next_link = None
    if not query.errors:
        result = await ctx.jobs.list(narrowed(viewer.who, query.tenant), query.filter)
        jobs = result.jobs
        if result.next_cursor:
            next_link = f"{PREFIX}/jobs?{query.link(cursor=result.next_cursor)}"
    now = ctx.storage.now()
    return render(
        request,
        "jobs.html",
        viewer,
        query=query,
        jobs=[job_body(job, now) | {"tenant_id": job.tenant_id} for job in jobs],
        next_link=next_link,
        statuses=[s.value for s in JobState],
        types=ctx.jobs.registry.names(),
    )


def timeline(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The job's moments that happened, in order (times as the contract writes them)."""
    moments = [
        ("created", body["created_at"]),
        ("scheduled", body["scheduled_at"]),
        ("started", body["started_at"]),
        ("completed", body["completed_at"]),
        ("failed", body["failed_at"]),
        ("cancelled", body["cancelled_at"]),
    ]
    return sorted(((name, at) for name, at in moments if at), key=lambda m: m[1])


def actions_for(job: Job) -> list[str]:
    """The actions the service would accept in the job's state (items of a batch are never
    deleted one by one)."""
    allowed = []
    if not job.terminal and not job.cancel_requested:
        allowed.append("cancel")
    if job.state in RETRYABLE:
        allowed.append("retry")
    if job.terminal and job.batch_id is None:
        allowed.append("delete")
    return allowed


async def job_page(request: Request, viewer: Viewer) -> Response:
    ctx = api_context(request)
    job = await ctx.jobs.get(viewer.who, request.path_params["job_id"])
    now = ctx.storage.now()
    reason = await ctx.jobs.waiting_reason(job)
    body = job_body(job, now, include_input=True, waiting_reason=reason, links=ctx.links)
    files = []
    if ctx.artifacts is not None:
        signer = ctx.artifacts.signer
        files = [artifact_body(a, signer, now) for a in await ctx.artifacts.listing(job)]
    logs = await JobLogService(ctx.storage).every_attempt(job)
    deliveries = await ctx.webhook_service.of_job(viewer.who, job, DELIVERIES_SHOWN)
    return render(
        request,
        "job.html",
        viewer,
        job=body,
        tenant_id=job.tenant_id,
        files=files,
        timeline=timeline(body),
        logs=logs,
        logs_dropped=dropped_before(logs),
        deliveries=[delivery_body(d) for d in deliveries],
        actions=actions_for(job),
        percent=job_percent(body),
    )


def job_percent(body: dict[str, Any]) -> int:
    value = body["progress"]["percentage"]
    return 0 if value is None else round(value)


async def cancel(request: Request, viewer: Viewer, form: FormData) -> tuple[str | None, str]:
    ctx = api_context(request)
    reason = form.get("reason")
    text = reason.strip() if isinstance(reason, str) and reason.strip() else "from the dashboard"
    job = await ctx.jobs.cancel(viewer.who, request.path_params["job_id"], text)
    if job.state is JobState.CANCELLED:
        return None, f"Job {job.id} cancelled."
    return None, f"Cancel requested: job {job.id} stops at its next check."


async def retry(request: Request, viewer: Viewer, form: FormData) -> tuple[str | None, str]:
    job = await api_context(request).jobs.retry(viewer.who, request.path_params["job_id"])
    return None, f"Job {job.id} queued again."


async def delete(request: Request, viewer: Viewer, form: FormData) -> tuple[str | None, str]:
    job_id = request.path_params["job_id"]
    await api_context(request).jobs.delete(viewer.who, job_id)
    return f"{PREFIX}/jobs", f"Job {job_id} deleted."


routes = [
    Route("/jobs", page(jobs_page), methods=["GET"]),
    Route("/jobs/{job_id}", page(job_page), methods=["GET"]),
    Route("/jobs/{job_id}/cancel", action(cancel), methods=["POST"]),
    Route("/jobs/{job_id}/retry", action(retry), methods=["POST"]),
    Route("/jobs/{job_id}/delete", action(delete), methods=["POST"]),
]
