"""The Batch section of the contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from joblane.api.batch_input import batch_submission
from joblane.api.batch_query import BatchJobsQuery, BatchListQuery, BatchReadQuery, parse_query
from joblane.api.context import ApiContext, caller
from joblane.api.errors import request_id_of
from joblane.api.http import (
    etag,
    etag_matches,
    json_response,
    parse_json_body,
    prefer_wait,
    version_from_etag,
)
from joblane.api.present import job_body
from joblane.api.present_batch import BatchView, batch_body, cache_ttl, result_line
from joblane.api.schemas import CancelBody
from joblane.core.batch import Batch
from joblane.core.principal import WRITE


async def submit(request: Request) -> Response:
    ctx, who = await caller(request)
    who.require(WRITE)  # before reading (possibly hundreds of MB of) a body it may not send
    limits = ctx.settings
    line_limit = who.body_limit(limits.max_body_bytes)  # a tenant's payload limit: per item
    async with batch_submission(
        request, limits.max_batch_bytes, line_limit, limits.max_json_depth
    ) as (options, items):
        if options.callback_url is not None:  # webhooks: no loopback or private targets
            ctx.webhook_service.check_target(options.callback_url, ["body", "callback_url"])
        batch = await ctx.batches.submit(who, options, items)
    headers = {"Location": f"/v1/batches/{batch.id}"}
    return _batch_response(ctx, request, batch, 202, headers, BatchView(request_id_of(request)))


async def get(request: Request) -> Response:
    ctx, who = await caller(request)
    query = parse_query(request.query_params, BatchReadQuery)
    batch = await ctx.batches.get(who, request.path_params["batch_id"])
    wait = prefer_wait(request, ctx.settings.max_wait)
    if (
        wait
        and not batch.terminal
        and (version_from_etag(request) or batch.version) == batch.version
    ):
        batch = await ctx.batches.wait(who, batch, wait)
    if etag_matches(request, batch.version):
        headers = _read_headers(ctx, batch)
        if wait:  # says the 304 came after waiting, so a client knows long-polls are held
            headers["Preference-Applied"] = f"wait={wait:g}"
        return Response(status_code=304, headers=headers)
    view = BatchView(
        request_id_of(request), query.metrics_only, query.include_errors, query.field_set
    )
    errors = None
    if view.include_errors and not view.metrics_only and _wanted(view, "error_summary"):
        errors = await ctx.batches.error_summary(batch)
    details, cursor = None, None
    if query.include_job_details and not view.metrics_only:
        page = await ctx.batches.items(
            who, batch, (), query.job_details_cursor, query.job_details_limit
        )
        details, cursor = page.jobs, page.next_cursor
    body = batch_body(
        batch,
        ctx.storage.now(),
        view,
        errors=errors,
        job_details=details,
        job_details_next_cursor=cursor,
    )
    headers = _read_headers(ctx, batch)
    if wait:
        headers["Preference-Applied"] = f"wait={wait:g}"
    return json_response(body, 200, headers)


async def list_batches(request: Request) -> Response:
    ctx, who = await caller(request)
    query = parse_query(request.query_params, BatchListQuery)
    page = await ctx.batches.list(who, query.cursor, query.limit)
    now, view = ctx.storage.now(), BatchView(request_id_of(request), metrics_only=True)
    data = [batch_body(batch, now, view) for batch in page.batches]
    return json_response({"object": "list", "data": data, "next_cursor": page.next_cursor})


async def pause(request: Request) -> Response:
    ctx, who = await caller(request)
    batch = await ctx.batches.pause(who, request.path_params["batch_id"])
    return _batch_response(ctx, request, batch, 200)


async def resume(request: Request) -> Response:
    ctx, who = await caller(request)
    batch = await ctx.batches.resume(who, request.path_params["batch_id"])
    return _batch_response(ctx, request, batch, 200)


async def cancel(request: Request) -> Response:
    ctx, who = await caller(request)
    body = await parse_json_body(request, CancelBody, ctx.settings.max_body_bytes, optional=True)
    batch = await ctx.batches.cancel(who, request.path_params["batch_id"], body.reason)
    return _batch_response(ctx, request, batch, 200 if batch.terminal else 202)


async def retry_failed(request: Request) -> Response:
    ctx, who = await caller(request)
    batch, retried = await ctx.batches.retry_failed(who, request.path_params["batch_id"])
    return _batch_response(ctx, request, batch, 202, {"Joblane-Retried-Items": str(retried)})


async def jobs(request: Request) -> Response:
    ctx, who = await caller(request)
    query = parse_query(request.query_params, BatchJobsQuery)
    batch = await ctx.batches.get(who, request.path_params["batch_id"])
    page = await ctx.batches.items(who, batch, query.states, query.cursor, query.limit)
    now = ctx.storage.now()
    data = [job_body(job, now, links=ctx.links) for job in page.jobs]
    return json_response({"object": "list", "data": data, "next_cursor": page.next_cursor})


async def results(request: Request) -> Response:
    ctx, who = await caller(request)
    batch = await ctx.batches.get(who, request.path_params["batch_id"])
    headers = {"Cache-Control": "no-cache", "ETag": etag(batch.version)}
    return StreamingResponse(
        _result_lines(ctx, batch), media_type="application/x-ndjson", headers=headers
    )


async def _result_lines(ctx: ApiContext, batch: Batch) -> AsyncIterator[bytes]:
    lines: list[bytes] = []
    async for item in ctx.batches.results(batch):
        lines.append(orjson.dumps(result_line(item, ctx.links, ctx.storage.now())) + b"\n")
        if len(lines) >= 200:
            yield b"".join(lines)
            lines = []
    if lines:
        yield b"".join(lines)


def _batch_response(
    ctx: ApiContext,
    request: Request,
    batch: Batch,
    status: int,
    headers: dict[str, str] | None = None,
    view: BatchView | None = None,
) -> Response:
    view = view or BatchView(request_id_of(request), include_errors=False)
    body = batch_body(batch, ctx.storage.now(), view)
    return json_response(body, status, {**(headers or {}), **_read_headers(ctx, batch)})


def _read_headers(ctx: ApiContext, batch: Batch) -> dict[str, str]:
    headers = {"ETag": etag(batch.version)}
    if batch.terminal:
        headers["Cache-Control"] = "private, max-age=60"
    else:
        headers["Retry-After"] = str(cache_ttl(batch, ctx.storage.now()))
        headers["Cache-Control"] = "no-cache"
    return headers


def _wanted(view: BatchView, field: str) -> bool:
    return view.fields is None or field in view.fields


routes = [
    Route("/v1/batches/{batch_id}", get, methods=["GET"]),
    Route("/v1/batches", submit, methods=["POST"]),
    Route("/v1/batches", list_batches, methods=["GET"]),
    Route("/v1/batches/{batch_id}/pause", pause, methods=["POST"]),
    Route("/v1/batches/{batch_id}/resume", resume, methods=["POST"]),
    Route("/v1/batches/{batch_id}/cancel", cancel, methods=["POST"]),
    Route("/v1/batches/{batch_id}/retry-failed", retry_failed, methods=["POST"]),
    Route("/v1/batches/{batch_id}/jobs", jobs, methods=["GET"]),
    Route("/v1/batches/{batch_id}/results", results, methods=["GET"]),
]
