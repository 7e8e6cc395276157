"""Pure ASGI middleware at the edge: every response carries `X-Request-Id`, and an error that
escaped everything else still becomes a problem+json 500 that leaks nothing."""

from __future__ import annotations

import logging
import re

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from joblane.core import ids
from joblane.observe import context

log = logging.getLogger("joblane.api")
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = _header(scope, b"x-request-id")
        request_id = supplied if supplied and _VALID.match(supplied) else ids.new_id(ids.REQUEST)
        scope.setdefault("state", {})["request_id"] = request_id
        raw_id = request_id.encode()

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", raw_id)]
            await send(message)

        token = context.request_id.set(request_id)  # every log line of this request says it
        traced = context.trace_headers.set(_trace_headers(scope))
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await send_with_id(_internal_error_start())
                await send_with_id(_internal_error_body(request_id))
        finally:
            context.request_id.reset(token)
            context.trace_headers.reset(traced)


def _internal_error_start() -> Message:
    headers = [(b"content-type", b"application/problem+json")]
    return {"type": "http.response.start", "status": 500, "headers": headers}


def _internal_error_body(request_id: str) -> Message:
    body = {
        "type": "https://joblane.dev/errors/internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "an internal error occurred; quote the request_id",
        "code": "INTERNAL_ERROR",
        "request_id": request_id,
    }
    return {"type": "http.response.body", "body": orjson.dumps(body)}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _trace_headers(scope: Scope) -> dict[str, str] | None:
    """The W3C trace context the request came with: the submit span's parent (tracing.py)."""
    traceparent = _header(scope, b"traceparent")
    if traceparent is None:
        return None
    return {"traceparent": traceparent, "tracestate": _header(scope, b"tracestate") or ""}
