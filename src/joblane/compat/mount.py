"""Serving profiles: each enabled one under `/compat/<name>/`, and one at the root.

Every endpoint authenticates and is rate-limited exactly as the canonical API (`caller`), then
runs the profile's handler; any error (a `JoblaneError`, or a crash) leaves in the profile's
envelope. At the root a profile's routes come before the canonical ones: where a path is the
same (`GET /v1/jobs/{id}` for docurift and toolkitapi) the profile's wins.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route

from joblane.api.context import caller
from joblane.compat import registry
from joblane.compat.errors import error_response, info, render
from joblane.compat.profile import Call, Endpoint, Profile
from joblane.core.errors import JoblaneError

log = logging.getLogger("joblane.compat")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass(frozen=True, slots=True)
class CompatConfig:
    enabled: tuple[str, ...] = ()  # mounted under /compat/<name>/
    root: str | None = None  # also served at the root

    @classmethod
    def from_settings(cls, compat: str, profile: str | None) -> CompatConfig:
        root = registry.check_name(profile) if profile else None
        return cls(registry.parse_enabled(compat), root)


def routes(config: CompatConfig) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes that go before the canonical API's, routes that go after them)."""
    first: list[BaseRoute] = []
    if config.root:
        root = registry.get(config.root)
        first = [_route(root, endpoint) for endpoint in root.endpoints]
    mounts: list[BaseRoute] = [_mount(registry.get(name)) for name in config.enabled]
    return first, mounts


def _mount(profile: Profile) -> Mount:
    own = [_route(profile, endpoint) for endpoint in profile.endpoints]
    fallback = Route("/{rest:path}", _not_found(profile, own), methods=ALL_METHODS)
    return Mount(f"/compat/{profile.name}", routes=[*own, fallback])


def _route(profile: Profile, endpoint: Endpoint) -> Route:
    operation = getattr(endpoint.handler, "__name__", "")

    async def serve(request: Request) -> Response:
        try:
            ctx, who = await caller(request)
            return await endpoint.handler(Call(request, ctx, who, profile))
        except JoblaneError as exc:
            return error_response(profile, request, exc, operation)
        except Exception:  # the profile's envelope for a 500 too; the traceback goes to the log
            log.exception(
                "profile %s: %s %s failed", profile.name, request.method, request.url.path
            )
            error = info(profile, request, "INTERNAL_ERROR", "Internal error", None, operation)
            return render(profile, error)

    name = f"compat:{profile.name}:{endpoint.method} {endpoint.path}"
    return Route(endpoint.path, serve, methods=[endpoint.method], name=name)


def _not_found(profile: Profile, own: list[Route]) -> Callable[[Request], Awaitable[Response]]:
    """A path the profile does not serve (404), or not with this method (405)."""

    async def not_found(request: Request) -> Response:
        allowed = sorted(
            method
            for route in own
            if route.matches(request.scope)[0] is Match.PARTIAL
            for method in route.methods or ()
        )
        if allowed:
            message = f"{request.method} {request.url.path}: method not allowed"
            error = info(profile, request, "METHOD_NOT_ALLOWED", message)
            return render(profile, error, {"Allow": ", ".join(allowed)})
        message = f"{request.method} {request.url.path}: not found"
        return render(profile, info(profile, request, "NOT_FOUND", message))

    return not_found
