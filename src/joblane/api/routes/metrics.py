"""`GET /metrics`: Prometheus exposition of every process on this host (docs/observability.md).
Open by default, like most exporters: bind the API to a private address or set
JOBLANE_METRICS_TOKEN to require `Authorization: Bearer <token>`."""

from __future__ import annotations

import asyncio
import hmac

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from joblane.api.context import api_context
from joblane.core.errors import Unauthorized
from joblane.observe.exposition import CONTENT_TYPE, QueueGauges, render


def check_token(request: Request) -> None:
    token: str | None = getattr(request.app.state, "metrics_token", None)
    if not token:
        return
    supplied = request.headers.get("authorization", "")
    scheme, _, value = supplied.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), token.encode()):
        raise Unauthorized("/metrics needs 'Authorization: Bearer <JOBLANE_METRICS_TOKEN>'")


def gauges(request: Request) -> QueueGauges:
    state = request.app.state
    found: QueueGauges | None = getattr(state, "queue_gauges", None)
    if found is None:
        found = state.queue_gauges = QueueGauges(api_context(request).storage)
    return found


async def metrics_endpoint(request: Request) -> Response:
    check_token(request)
    stats = await gauges(request).read()
    body = await asyncio.to_thread(render, stats)
    return Response(body, media_type=CONTENT_TYPE)


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
