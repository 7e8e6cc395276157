"""Request helpers: bounded bodies, `Prefer: wait=N`, ETags, validation errors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from joblane.api.limits import DEFAULT_MAX_DEPTH, ENVELOPE, check_raw_depth
from joblane.core.errors import JoblaneError, ValidationFailed

M = TypeVar("M", bound=BaseModel)
_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


class PayloadTooLarge(JoblaneError):
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(JoblaneError):
    code = "UNSUPPORTED_MEDIA_TYPE"


def check_declared_size(request: Request, limit: int) -> None:
    """Refuse a body whose Content-Length is over `limit` before reading any of it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is {declared} bytes; the limit is {limit}")


async def limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """`chunks` until more than `limit` bytes came (a chunked body has no Content-Length)."""
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        yield chunk


async def read_body(request: Request, limit: int) -> bytes:
    check_declared_size(request, limit)
    return b"".join([chunk async for chunk in limited(request.stream(), limit)])


def limited_request(request: Request, limit: int) -> Request:
    """The same request, its body cut at `limit` bytes for readers that take it all (a
    multipart parser spools every part before anything could check a size)."""
    receive, size = request.receive, 0

    async def bounded() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        return message

    return Request(request.scope, bounded)


async def parse_json_body(
    request: Request,
    model: type[M],
    limit: int,
    *,
    optional: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> M:
    """The body as `model`: at most `limit` bytes, nesting at most `max_depth` levels below
    its top level (a job's input), JSON."""
    body = await read_body(request, limit)
    if not body.strip() and optional:
        return model()
    content_type = request.headers.get("content-type", "application/json")
    if body and "json" not in content_type:
        raise UnsupportedMediaType(
            f"send JSON (Content-Type: application/json), not {content_type}"
        )
    check_raw_depth(body, max_depth + ENVELOPE, ["body"], max_depth)
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise ValidationFailed(
            "request body is not valid", validation_errors(exc, "body")
        ) from None


def validation_errors(exc: ValidationError, where: str) -> list[dict[str, Any]]:
    return [
        {"loc": [where, *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_context=False)
    ]


def prefer_wait(request: Request, cap: float) -> float | None:
    prefer = request.headers.get("prefer")
    if not prefer:
        return None
    match = _WAIT.search(prefer)
    return min(cap, float(match[1])) if match else None


def etag(version: int) -> str:
    return f'"{version}"'


def etag_matches(request: Request, version: int) -> bool:
    return tag_matches(request, etag(version))


def tag_matches(request: Request, wanted: str) -> bool:
    """`If-None-Match` names `wanted` (or `*`)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    return any(tag.strip().removeprefix("W/") in (wanted, "*") for tag in header.split(","))


def version_from_etag(request: Request) -> int | None:
    header = request.headers.get("if-none-match", "").strip().removeprefix("W/").strip('"')
    return int(header) if header.isdigit() else None


class JSONBytesResponse(Response):
    """A JSON response whose raw headers are built directly (it is on every status read)."""

    media_type = "application/json"

    def __init__(
        self, body: Any, status_code: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.status_code = status_code
        self.body = orjson.dumps(body)
        self.background = None
        raw = [
            (b"content-length", str(len(self.body)).encode()),
            (b"content-type", b"application/json"),
        ]
        if headers:
            raw.extend(
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            )
        self.raw_headers = raw


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONBytesResponse(body, status, headers)
