"""The overview page: counts by status and type, throughput and failure rate (last hour, last
day), queue depth and the oldest waiting job per type, and (admins) workers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from joblane.api.context import api_context
from joblane.core.overview import STATUSES
from joblane.dashboard.charts import throughput_svg
from joblane.dashboard.filters import tenant_param
from joblane.dashboard.web import Viewer, page, render
from joblane.service.overview import OverviewService


async def overview_page(request: Request, viewer: Viewer) -> Response:
    ctx = api_context(request)
    tenant = tenant_param(request.query_params, admin=viewer.is_admin)
    overview = await OverviewService(ctx.storage).get(viewer.who, tenant)
    return render(
        request,
        "overview.html",
        viewer,
        overview=overview,
        statuses=[s.value for s in STATUSES],
        tenant=tenant or "",
        hour_chart=throughput_svg(overview.last_hour, "jobs finished in the last hour"),
        day_chart=throughput_svg(overview.last_day, "jobs finished in the last day"),
    )


routes = [Route("/", page(overview_page), methods=["GET"])]
