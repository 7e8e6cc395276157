"""Operations endpoints, job types, OpenAPI and the docs page."""

from __future__ import annotations

from functools import cache
from typing import Any

import swagger_ui_bundle  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from joblane.api import openapi
from joblane.api.context import api_context, caller
from joblane.api.http import json_response
from joblane.core.principal import READ


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    await api_context(request).storage.ping()
    return json_response({"status": "ready"})


async def job_types(request: Request) -> Response:
    ctx, who = await caller(request)
    who.require(READ)
    data = [job_type.schema() for job_type in ctx.jobs.registry]
    return json_response({"object": "list", "data": data})


@cache
def _spec() -> dict[str, Any]:
    return openapi.build()


async def openapi_json(request: Request) -> Response:
    return json_response(_spec())


DOCS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Joblane API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>"""


async def docs(request: Request) -> Response:
    return HTMLResponse(DOCS_PAGE)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/v1/job-types", job_types, methods=["GET"]),
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs, methods=["GET"]),
    Mount("/docs/static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs"),
]
