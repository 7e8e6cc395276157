"""Serving an artifact's bytes: `Content-Length`, its sha256 (`Repr-Digest`, `X-Content-SHA256`
and the ETag), `Accept-Ranges: bytes` and a single `Range` (206 with `Content-Range`; 416 when
unsatisfiable; `If-Range` honoured). A request for several ranges gets the whole file (200),
as RFC 9110 allows; so does a `Range` that does not parse. Bytes stream from the store a chunk
at a time, so a large file never sits in memory."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import BinaryIO

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from joblane.api.errors import problem
from joblane.api.http import tag_matches
from joblane.core.artifact import Artifact, repr_digest
from joblane.service.artifacts import ArtifactService

CHUNK = 256 * 1024
_NUMBER = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class Unsatisfiable(Exception):
    pass


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The one range asked for; None: send the whole file."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = (part.strip() for part in spec.partition("-"))
    if not dash or (first and not _NUMBER.fullmatch(first)):
        return None
    if last and not _NUMBER.fullmatch(last):
        return None
    if not first:  # a suffix: the last N bytes
        if not last:
            return None
        if int(last) == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - int(last)), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        raise Unsatisfiable
    return ByteRange(start, min(int(last) if last else size - 1, size - 1))


def file_headers(artifact: Artifact, disposition: str | None) -> dict[str, str]:
    headers = {
        "Content-Type": artifact.content_type,
        "ETag": artifact.etag,
        "Repr-Digest": repr_digest(artifact.sha256),
        "X-Content-SHA256": artifact.sha256,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=60",
    }
    if disposition is not None:
        headers["Content-Disposition"] = disposition
    return headers


async def serve_file(
    request: Request,
    service: ArtifactService,
    artifact: Artifact,
    *,
    disposition: str | None = None,
) -> Response:
    headers = file_headers(artifact, disposition)
    if tag_matches(request, artifact.etag):
        return Response(status_code=304, headers=headers)
    try:
        wanted = requested_range(request.headers.get("range"), artifact.size)
    except Unsatisfiable:
        detail = f"the range {request.headers['range']!r} is outside the {artifact.size} bytes"
        headers = {"Content-Range": f"bytes */{artifact.size}", "Accept-Ranges": "bytes"}
        return problem(request, "RANGE_NOT_SATISFIABLE", detail, headers=headers)
    if_range = request.headers.get("if-range")
    if wanted is not None and if_range is not None and if_range.strip() != artifact.etag:
        wanted = None  # the client's copy is of other bytes: send them all
    start, length = (wanted.start, wanted.length) if wanted else (0, artifact.size)
    headers["Content-Length"] = str(length)
    if wanted is not None:
        headers["Content-Range"] = f"bytes {wanted.start}-{wanted.end}/{artifact.size}"
    status = 206 if wanted is not None else 200
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    handle = await service.open_file(artifact)  # before the status goes out: a 404 if gone
    return StreamingResponse(_chunks(handle, start, length), status_code=status, headers=headers)


async def _chunks(handle: BinaryIO, start: int, length: int) -> AsyncIterator[bytes]:
    try:
        if start:
            await asyncio.to_thread(handle.seek, start)
        left = length
        while left > 0:
            chunk = await asyncio.to_thread(handle.read, min(CHUNK, left))
            if not chunk:  # shorter than recorded: end the response short, never pad it
                raise OSError(f"artifact file ended {left} bytes early")
            left -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)
