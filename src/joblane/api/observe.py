"""HTTP metrics at the edge (pure ASGI): requests by method, route template and status, and
latency until the response started (a stream's whole life would say nothing about latency).
Routes are named by their template (`/v1/jobs/{job_id}`), never the raw path: unmatched paths
share one label, so a scanner cannot grow the series."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from joblane.observe.metrics import metrics

UNMATCHED = "unmatched"


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    partial: str | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.NONE:
            continue
        path: str = getattr(route, "path", UNMATCHED)
        if isinstance(route, Mount):
            path = f"{path}/{{path}}"
        if match is Match.FULL:
            return path
        partial = partial or path  # the path matched, the method did not (405)
    return partial or UNMATCHED


class HttpMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.metrics = metrics()
        self._by_endpoint: dict[Any, tuple[str, ...]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        original = dict(scope)  # routing rewrites root_path and friends in place
        started = time.perf_counter()
        status = 500
        elapsed: float | None = None

        async def timed_send(message: Message) -> None:
            nonlocal status, elapsed
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed = time.perf_counter() - started
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            original["endpoint"] = scope.get("endpoint")  # what routing chose
            self._record(original, status, elapsed or (time.perf_counter() - started))

    def _record(self, scope: dict[str, Any], status: int, elapsed: float) -> None:
        route = self._template(scope)
        method = str(scope.get("method", ""))
        self.metrics.http_requests[(method, route, str(status))].inc()
        self.metrics.http_duration[(method, route)].observe(elapsed)

    def _template(self, scope: dict[str, Any]) -> str:
        """The route that answered, found through the endpoint routing chose (a dictionary
        lookup); a shared endpoint or a mounted app's means matching the routes again."""
        routes: Sequence[BaseRoute] = getattr(scope.get("app"), "routes", ())
        if self._by_endpoint is None:
            self._by_endpoint = _index(routes)
        candidates = self._by_endpoint.get(scope.get("endpoint"), ())
        if len(candidates) == 1:
            return candidates[0]
        return route_template(routes, scope)


def _index(routes: Sequence[BaseRoute]) -> dict[Any, tuple[str, ...]]:
    found: dict[Any, tuple[str, ...]] = {}
    for route in routes:
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None and not isinstance(route, Mount):
            found[endpoint] = (*found.get(endpoint, ()), str(getattr(route, "path", "")))
    return found
