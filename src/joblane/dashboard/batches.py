"""The batches list and a batch's page (progress, timing, error summary, its jobs) with its
pause / resume / cancel / retry-failed actions."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from joblane.api.context import api_context
from joblane.api.present import job_body
from joblane.api.present_batch import BatchView, batch_body
from joblane.core import ids
from joblane.core.batch import Batch, BatchControl
from joblane.dashboard.filters import tenant_param
from joblane.dashboard.web import PREFIX, Viewer, action, narrowed, page, render

PAGE_SIZE = 50
ITEMS_SHOWN = 50


def _cursor(request: Request, prefix: str) -> str | None:
    cursor = request.query_params.get("cursor") or None
    return cursor if cursor is not None and ids.is_valid(cursor, prefix) else None


async def batches_page(request: Request, viewer: Viewer) -> Response:
    ctx = api_context(request)
    tenant = tenant_param(request.query_params, admin=viewer.is_admin)
    result = await ctx.batches.list(
        narrowed(viewer.who, tenant), _cursor(request, ids.BATCH), PAGE_SIZE
    )
    now = ctx.storage.now()
    view = BatchView("dashboard", metrics_only=True)
    rows = [batch_body(b, now, view) | {"tenant_id": b.tenant_id} for b in result.batches]
    next_link = None
    if result.next_cursor:
        suffix = f"&tenant={tenant}" if tenant else ""
        next_link = f"{PREFIX}/batches?cursor={result.next_cursor}{suffix}"
    return render(
        request, "batches.html", viewer, batches=rows, next_link=next_link, tenant=tenant or ""
    )


def actions_for(batch: Batch) -> list[str]:
    """What the service accepts now: nothing once cancelled; once over, only retrying the
    failed items."""
    if batch.control is BatchControl.CANCELLED:
        return []
    allowed = []
    if not batch.terminal:
        allowed = ["resume" if batch.control is BatchControl.PAUSED else "pause", "cancel"]
    if batch.counts.failed:
        allowed.append("retry-failed")
    return allowed


async def batch_page(request: Request, viewer: Viewer) -> Response:
    ctx = api_context(request)
    batch = await ctx.batches.get(viewer.who, request.path_params["batch_id"])
    now = ctx.storage.now()
    errors = await ctx.batches.error_summary(batch)
    items = await ctx.batches.items(viewer.who, batch, (), _cursor(request, ids.JOB), ITEMS_SHOWN)
    body = batch_body(batch, now, BatchView("dashboard"), errors=errors)
    next_link = None
    if items.next_cursor:
        next_link = f"{PREFIX}/batches/{batch.id}?cursor={items.next_cursor}"
    return render(
        request,
        "batch.html",
        viewer,
        batch=body,
        tenant_id=batch.tenant_id,
        jobs=[job_body(job, now) | {"tenant_id": job.tenant_id} for job in items.jobs],
        next_link=next_link,
        actions=actions_for(batch),
        percent=round(body["progress"]["percentage"] or 0),
    )


def _batch_id(request: Request) -> str:
    value: str = request.path_params["batch_id"]
    return value


async def pause(request: Request, viewer: Viewer, form: FormData) -> tuple[str | None, str]:
    batch = await api_context(request).batches.pause(viewer.who, _batch_id(request))
    return None, f"Batch {batch.id} paused: no new items start."


async def resume(request: Request, viewer: Viewer, form: FormData) -> tuple[str | None, str]:
    batch = await api_context(request).batches.resume(viewer.who, _batch_id(request))
    return None, f"Batch {batch.id} resumed."


async def cancel(request: Request, viewer: Viewer, form: FormData) -> tuple[str | None, str]:
    ctx = api_context(request)
    batch = await ctx.batches.cancel(viewer.who, _batch_id(request), "from the dashboard")
    return None, f"Batch {batch.id} cancelled."


async def retry_failed(request: Request, viewer: Viewer, form: FormData) -> tuple[str | None, str]:
    ctx = api_context(request)
    batch, count = await ctx.batches.retry_failed(viewer.who, _batch_id(request))
    return None, f"Batch {batch.id}: {count} failed items queued again."


routes = [
    Route("/batches", page(batches_page), methods=["GET"]),
    Route("/batches/{batch_id}", page(batch_page), methods=["GET"]),
    Route("/batches/{batch_id}/pause", action(pause), methods=["POST"]),
    Route("/batches/{batch_id}/resume", action(resume), methods=["POST"]),
    Route("/batches/{batch_id}/cancel", action(cancel), methods=["POST"]),
    Route("/batches/{batch_id}/retry-failed", action(retry_failed), methods=["POST"]),
]
