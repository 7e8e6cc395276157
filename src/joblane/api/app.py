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
from joblane.api.routes import batches, events, jobs, meta
from joblane.core.errors import JoblaneError

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


def create_app(ctx: ApiContext | None, lifespan: Lifespan | None = None) -> Starlette:
    app = Starlette(
        routes=[*jobs.routes, *batches.routes, *events.routes, *meta.routes],
        middleware=[Middleware(RequestIdMiddleware)],
        exception_handlers={JoblaneError: joblane_error, HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    return app
