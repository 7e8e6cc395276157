"""The Job section of the contract."""

from __future__ import annotations

import contextlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from joblane.api.context import ApiContext, caller
from joblane.api.http import (
    etag,
    json_response,
    parse_json_body,
    prefer_wait,
    tag_matches,
    version_from_etag,
)
from joblane.api.limits import idempotency_key
from joblane.api.present import job_body
from joblane.api.present_artifact import job_etag
from joblane.api.query import job_filter
from joblane.api.routes.artifacts import result_file
from joblane.api.schemas import CancelBody, SubmitJobBody
from joblane.core.artifact import reference_of
from joblane.core.errors import Conflict, Unavailable
from joblane.core.estimates import retry_after
from joblane.core.job import Job
from joblane.core.states import JobState
from joblane.service.jobs import SubmitJob


async def submit(request: Request) -> Response:
    ctx, who = await caller(request)
    body = await parse_json_body(
        request,
        SubmitJobBody,
        who.body_limit(ctx.settings.max_body_bytes),
        max_depth=ctx.settings.max_json_depth,
    )
    if body.callback_url is not None:  # webhooks: no loopback or private targets (SSRF)
        ctx.webhook_service.check_target(str(body.callback_url), ["body", "callback_url"])
    wait = prefer_wait(request, ctx.settings.max_wait)
    submitted = await ctx.jobs.submit(who, _submit_request(body), idempotency_key(request))
    job = submitted.job
    if wait:  # the job is committed: an outage while waiting must not turn the 202 into a 503
        with contextlib.suppress(Unavailable):
            job = await ctx.jobs.wait(who, job, wait, until_terminal=True)
    headers = {"Location": f"/v1/jobs/{job.id}"}
    if not submitted.created:
        headers["Idempotent-Replayed"] = "true"
    status = 200 if job.terminal and wait else 202
    return await _job_response(
        ctx,
        job,
        status,
        headers,
        wait,
        include_input=_include_input(request),
        fields=_fields(request),
    )


async def get(request: Request) -> Response:
    ctx, who = await caller(request)
    job = await ctx.jobs.get(who, request.path_params["job_id"])
    wait = prefer_wait(request, ctx.settings.max_wait)
    if wait and not job.terminal:
        known = version_from_etag(request) or job.version
        if known == job.version:
            job = await ctx.jobs.wait(who, job, wait, until_terminal=False)
    if tag_matches(request, job_etag(job, ctx.links, ctx.storage.now())):
        headers = _read_headers(ctx, job)
        if wait:  # says the 304 came after waiting, so a client knows long-polls are held
            headers["Preference-Applied"] = f"wait={wait:g}"
        return Response(status_code=304, headers=headers)
    return await _job_response(
        ctx,
        job,
        200,
        {},
        wait,
        include_input=_include_input(request),
        fields=_fields(request),
    )


async def list_jobs(request: Request) -> Response:
    ctx, who = await caller(request)
    page = await ctx.jobs.list(who, job_filter(request.query_params))
    now = ctx.storage.now()
    include_input, fields = _include_input(request), _fields(request)
    data = [
        job_body(job, now, include_input=include_input, fields=fields, links=ctx.links)
        for job in page.jobs
    ]
    return json_response({"object": "list", "data": data, "next_cursor": page.next_cursor})


async def cancel(request: Request) -> Response:
    ctx, who = await caller(request)
    body = await parse_json_body(request, CancelBody, ctx.settings.max_body_bytes, optional=True)
    job = await ctx.jobs.cancel(who, request.path_params["job_id"], body.reason)
    status = 200 if job.state is JobState.CANCELLED else 202
    return await _job_response(ctx, job, status, {}, None)


async def retry(request: Request) -> Response:
    ctx, who = await caller(request)
    job = await ctx.jobs.retry(who, request.path_params["job_id"])
    return await _job_response(ctx, job, 202, {"Location": f"/v1/jobs/{job.id}"}, None)


async def delete(request: Request) -> Response:
    ctx, who = await caller(request)
    await ctx.jobs.delete(who, request.path_params["job_id"])
    return Response(status_code=204)


async def result(request: Request) -> Response:
    ctx, who = await caller(request)
    job = await ctx.jobs.get(who, request.path_params["job_id"])
    if job.state is not JobState.COMPLETED:
        raise Conflict(
            f"Job '{job.id}' is {job.state}; a result exists only once it is completed",
            details={"job_id": job.id, "status": job.state.value},
        )
    if reference_of(job.result) is not None:
        return await result_file(request, ctx, job)
    return json_response(job.result, headers={"ETag": etag(job.version)})


async def _job_response(
    ctx: ApiContext,
    job: Job,
    status: int,
    headers: dict[str, str],
    wait: float | None,
    *,
    include_input: bool = False,
    fields: frozenset[str] | None = None,
) -> Response:
    reason = await ctx.jobs.waiting_reason(job)
    body = job_body(
        job,
        ctx.storage.now(),
        include_input=include_input,
        waiting_reason=reason,
        fields=fields,
        links=ctx.links,
    )
    headers = {**headers, **_read_headers(ctx, job)}
    if wait:
        headers["Preference-Applied"] = f"wait={wait:g}"
    return json_response(body, status, headers)


def _include_input(request: Request) -> bool:
    if not request.scope["query_string"]:  # the common poll: skip parsing
        return False
    return "input" in request.query_params.get("include", "").split(",")


def _fields(request: Request) -> frozenset[str] | None:
    """`fields=a,b`: only these top-level fields (and `id`)."""
    if not request.scope["query_string"]:
        return None
    fields = request.query_params.get("fields")
    return frozenset(f.strip() for f in fields.split(",")) if fields else None


def _read_headers(ctx: ApiContext, job: Job) -> dict[str, str]:
    headers = {"ETag": job_etag(job, ctx.links, ctx.storage.now())}
    if job.terminal:
        headers["Cache-Control"] = "private, max-age=60"
    else:
        headers["Retry-After"] = str(retry_after(job, ctx.storage.now()))
        headers["Cache-Control"] = "no-cache"
    return headers


def _submit_request(body: SubmitJobBody) -> SubmitJob:
    return SubmitJob(
        type=body.type,
        input=body.input,
        metadata=body.metadata,
        priority=body.priority,
        max_attempts=body.max_attempts,
        timeout=body.timeout,
        run_at=body.run_at.timestamp() if body.run_at else None,
        callback_url=str(body.callback_url) if body.callback_url else None,
    )


routes = [  # the status read first: it is by far the most frequent request
    Route("/v1/jobs/{job_id}", get, methods=["GET"]),
    Route("/v1/jobs", submit, methods=["POST"]),
    Route("/v1/jobs", list_jobs, methods=["GET"]),
    Route("/v1/jobs/{job_id}", delete, methods=["DELETE"]),
    Route("/v1/jobs/{job_id}/cancel", cancel, methods=["POST"]),
    Route("/v1/jobs/{job_id}/retry", retry, methods=["POST"]),
    Route("/v1/jobs/{job_id}/result", result, methods=["GET"]),
]
