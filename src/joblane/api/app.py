"""The ASGI application factory."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from joblane.api.context import ApiContext
from joblane.api.errors import http_error, joblane_error
from joblane.api.middleware import RequestIdMiddleware
from joblane.api.observe import HttpMetrics
from joblane.api.ratelimit import RateLimitHeaders
from joblane.api.routes import admin, artifacts, batches, events, jobs, meta, usage, webhooks
from joblane.api.routes import joblogs as joblog_routes
from joblane.api.routes import metrics as metrics_routes
from joblane.compat.mount import CompatConfig
from joblane.compat.mount import routes as compat_routes
from joblane.core.errors import JoblaneError
from joblane.dashboard.routes import routes as dashboard_routes

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


def create_app(
    ctx: ApiContext | None,
    lifespan: Lifespan | None = None,
    compat: CompatConfig | None = None,
) -> Starlette:
    # profiles (docs/profiles.md): one at the root wins where its paths match the canonical ones
    before, after = compat_routes(compat or CompatConfig())
    app = Starlette(
        routes=[
            *before,
            *jobs.routes,
            *batches.routes,
            *events.routes,
            *meta.routes,
            *admin.routes,
            *usage.routes,
            *artifacts.routes,
            *webhooks.routes,
            *joblog_routes.routes,
            *metrics_routes.routes,
            *dashboard_routes(),
            *after,
        ],
        # RateLimitHeaders outside RequestIdMiddleware: it sees even the 500 that one makes
        middleware=[
            Middleware(HttpMetrics),  # outermost: counts every answer, the 500s included
            Middleware(RateLimitHeaders),
            Middleware(RequestIdMiddleware),
        ],
        exception_handlers={JoblaneError: joblane_error, HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    return app
