"""Every dashboard route under `/dashboard`, for `create_app` to add."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from joblane.dashboard import admin, batches, jobs, live, login, overview
from joblane.dashboard.render import HERE
from joblane.dashboard.web import PREFIX


def routes() -> list[BaseRoute]:
    own: list[Route] = [
        Route("/login", login.login_form, methods=["GET"]),
        Route("/login", login.login, methods=["POST"]),
        Route("/logout", login.logout, methods=["POST"]),
        *overview.routes,
        *live.routes,  # before the pages: /jobs/{id}/events is not a job id
        *jobs.routes,
        *batches.routes,
        *admin.routes,
    ]
    prefixed: list[BaseRoute] = [
        Route(PREFIX + r.path.rstrip("/"), r.endpoint, methods=r.methods, name=r.name) for r in own
    ]
    prefixed.append(Mount(PREFIX + "/static", StaticFiles(directory=HERE / "static")))
    return prefixed
