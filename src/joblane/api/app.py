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
from joblane.api.ratelimit import RateLimitHeaders
from joblane.api.routes import admin, artifacts, batches, events, jobs, meta, usage, webhooks
from joblane.core.errors import JoblaneError

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


def create_app(ctx: ApiContext | None, lifespan: Lifespan | None = None) -> Starlette:
    app = Starlette(
        routes=[
            *jobs.routes,
            *batches.routes,
            *events.routes,
            *meta.routes,
            *admin.routes,
            *usage.routes,
            *artifacts.routes,
            *webhooks.routes,
        ],
        # RateLimitHeaders outermost: it sees even the 500 that RequestIdMiddleware makes
        middleware=[Middleware(RateLimitHeaders), Middleware(RequestIdMiddleware)],
        exception_handlers={JoblaneError: joblane_error, HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    return app
