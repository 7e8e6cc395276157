"""Live updates for the job and batch pages: the API's own SSE streams (same change feed, same
event bodies), reached with the session cookie instead of an API key header, which an
`EventSource` cannot send. Read-only, same-origin: the cookie is SameSite=Strict."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from joblane.api.context import api_context
from joblane.api.present_batch import BatchView
from joblane.api.routes.events import batch_stream, stream
from joblane.dashboard.web import Viewer, page

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _known(request: Request) -> int:
    last = request.headers.get("last-event-id", "")
    return int(last) if last.isdigit() else 0


async def job_events(request: Request, viewer: Viewer) -> Response:
    ctx = api_context(request)
    job = await ctx.jobs.get(viewer.who, request.path_params["job_id"])
    return StreamingResponse(
        stream(ctx, viewer.who, job, _known(request)),
        media_type="text/event-stream",
        headers=HEADERS,
    )


async def batch_events(request: Request, viewer: Viewer) -> Response:
    ctx = api_context(request)
    batch = await ctx.batches.get(viewer.who, request.path_params["batch_id"])
    view = BatchView("dashboard", metrics_only=True)
    return StreamingResponse(
        batch_stream(ctx, viewer.who, batch, _known(request), view),
        media_type="text/event-stream",
        headers=HEADERS,
    )


routes = [
    Route("/jobs/{job_id}/events", page(job_events), methods=["GET"]),
    Route("/batches/{batch_id}/events", page(batch_events), methods=["GET"]),
]
