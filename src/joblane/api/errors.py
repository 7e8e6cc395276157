"""Domain errors -> RFC 9457 `application/problem+json` with the contract's `code`."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from joblane.core.clock import to_rfc3339
from joblane.core.errors import JobExpired, JoblaneError, Unavailable, ValidationFailed

STATUS_BY_CODE = {
    "INVALID_JOB_ID": 400,
    "INVALID_BATCH_ID": 400,
    "INVALID_KEY_ID": 400,
    "INVALID_WEBHOOK_ID": 400,
    "INVALID_EVENT_ID": 400,
    "VALIDATION_ERROR": 422,
    "UNAUTHORIZED": 401,
    "INVALID_API_KEY": 401,
    "FORBIDDEN": 403,
    "JOB_NOT_FOUND": 404,
    "BATCH_NOT_FOUND": 404,
    "KEY_NOT_FOUND": 404,
    "TENANT_NOT_FOUND": 404,
    "WEBHOOK_NOT_FOUND": 404,
    "EVENT_NOT_FOUND": 404,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "JOB_EXPIRED": 410,
    "BATCH_EXPIRED": 410,
    "CONFLICT": 409,
    "IDEMPOTENCY_KEY_MISMATCH": 422,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "RATE_LIMITED": 429,
    "NOT_IMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "INTERNAL_ERROR": 500,
    # artifacts
    "ARTIFACT_NOT_FOUND": 404,
    "INVALID_ARTIFACT_NAME": 400,
    "ARTIFACT_LINK_INVALID": 403,
    "ARTIFACT_LINK_EXPIRED": 403,
    "RANGE_NOT_SATISFIABLE": 416,
}


_WORDS = {"id": "ID", "api": "API"}


def title_of(code: str) -> str:
    """`JOB_NOT_FOUND` -> "Job not found", as in the contract's example."""
    words = [_WORDS.get(word, word) for word in code.lower().split("_")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def problem(
    request: Request,
    code: str,
    detail: str,
    *,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    status = STATUS_BY_CODE.get(code, 500)
    body: dict[str, Any] = {
        "type": f"https://joblane.dev/errors/{code.lower().replace('_', '-')}",
        "title": title_of(code),
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id_of(request),
    }
    body.update(extra or {})
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


async def joblane_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, JoblaneError)
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if exc.details:
        extra["details"] = exc.details
    if isinstance(exc, ValidationFailed):
        extra["errors"] = exc.errors
    if isinstance(exc, JobExpired):
        extra["purged_at"] = to_rfc3339(exc.purged_at)
    if isinstance(exc, Unavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.code == "UNAUTHORIZED" or exc.code == "INVALID_API_KEY":
        headers["WWW-Authenticate"] = 'Bearer realm="joblane"'
    return problem(request, exc.code, exc.message, extra=extra, headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "INTERNAL_ERROR")
    detail = f"{request.method} {request.url.path}: {exc.detail}"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return problem(request, code, detail, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method of every route on this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= route.methods
    return ", ".join(sorted(methods))
