"""`GET /v1/jobs/{id}/events` and `GET /v1/batches/{id}/events`: Server-Sent Events, one event
per observed version.

Waiting goes through the ChangeFeed, so a thousand open streams cost one version query per tick,
not a thousand. A version that changed twice between two ticks is sent once, as its latest state
(`id:` is always the version, so a client resuming with `Last-Event-ID` never misses the end).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from joblane.api.context import ApiContext, caller
from joblane.api.errors import request_id_of
from joblane.api.present import job_body
from joblane.api.present_batch import BatchView, batch_body
from joblane.core.batch import Batch
from joblane.core.job import Job
from joblane.core.principal import Principal
from joblane.service.artifacts import LinkSigner

HEARTBEAT_SECONDS = 15.0


def event_name(job: Job, previous: Job | None) -> str:
    if job.terminal:
        return job.state.value
    if previous is None or previous.state is not job.state:
        return "status"
    return "progress"


def encode(job: Job, name: str, now: float, links: LinkSigner | None = None) -> bytes:
    data = orjson.dumps(job_body(job, now, links=links))
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (job.version, name.encode(), data)


async def stream(ctx: ApiContext, who: Principal, job: Job, known: int) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    previous: Job | None = None
    while True:
        if job.version > known:
            yield encode(job, event_name(job, previous), ctx.storage.now(), ctx.links)
            known, previous = job.version, job
        if job.terminal:
            return
        changed = await ctx.jobs.changes.wait_for_change(job.id, job.version, HEARTBEAT_SECONDS)
        if not changed:
            yield b": keep-alive\n\n"
            continue
        job = await ctx.jobs.get(who, job.id)


async def events(request: Request) -> Response:
    ctx, who = await caller(request)
    job = await ctx.jobs.get(who, request.path_params["job_id"])
    last = request.headers.get("last-event-id", "")
    known = int(last) if last.isdigit() else 0
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        stream(ctx, who, job, known), media_type="text/event-stream", headers=headers
    )


def batch_event_name(batch: Batch, previous: Batch | None) -> str:
    if batch.terminal:
        return batch.status.value
    if previous is None or previous.status is not batch.status:
        return "status"
    return "progress"


async def batch_stream(
    ctx: ApiContext, who: Principal, batch: Batch, known: int, view: BatchView
) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    previous: Batch | None = None
    while True:
        if batch.version > known:
            name = batch_event_name(batch, previous)
            data = orjson.dumps(batch_body(batch, ctx.storage.now(), view))
            yield b"id: %d\nevent: %s\ndata: %s\n\n" % (batch.version, name.encode(), data)
            known, previous = batch.version, batch
        if batch.terminal:
            return
        changes = ctx.batches.changes
        if not await changes.wait_for_change(batch.id, batch.version, HEARTBEAT_SECONDS):
            yield b": keep-alive\n\n"
            continue
        batch = await ctx.batches.get(who, batch.id)


async def batch_events(request: Request) -> Response:
    ctx, who = await caller(request)
    batch = await ctx.batches.get(who, request.path_params["batch_id"])
    last = request.headers.get("last-event-id", "")
    known = int(last) if last.isdigit() else 0
    view = BatchView(request_id_of(request), metrics_only=True)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        batch_stream(ctx, who, batch, known, view),
        media_type="text/event-stream",
        headers=headers,
    )


routes = [
    Route("/v1/jobs/{job_id}/events", events, methods=["GET"]),
    Route("/v1/batches/{batch_id}/events", batch_events, methods=["GET"]),
]
