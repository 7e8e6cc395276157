"""A real HTTP server on 127.0.0.1 (uvicorn in a thread) whose answers a test scripts: 429s,
503s, jobs, and a job that long-polls like Joblane's (or ignores `Prefer: wait`)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from acceptance.procs import free_port

JOB_ID = "job_01JD6X3K4M5N6P7Q8R9S0T1V2W"
Answer = Callable[[Request], Response]


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    at: float
    body: bytes = b""


def problem(status: int, code: str, retry_after: str | None = None) -> Answer:
    def answer(request: Request) -> Response:
        body = {
            "type": f"https://joblane.dev/errors/{code.lower()}",
            "title": code.title(),
            "status": status,
            "detail": f"scripted {status}",
            "code": code,
            "request_id": "req_scripted",
        }
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return JSONResponse(body, status, headers, media_type="application/problem+json")

    return answer


def job_body(version: int, status: str, **extra: Any) -> dict[str, Any]:
    return {"id": JOB_ID, "object": "job", "type": "nap", "version": version,
            "status": status, "result": {"ok": True} if status == "completed" else None,
            **extra}  # fmt: skip


def job(
    version: int, status: str, code: int = 200, headers: dict[str, str] | None = None
) -> Answer:
    return lambda request: JSONResponse(job_body(version, status), code, headers)


@dataclass
class Script:
    """Answers in order; the last one answers every request after it."""

    answers: deque[Answer] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        seen = _seen(request)
        self.seen.append(replace(seen, body=await request.body()))
        answer = self.answers.popleft() if len(self.answers) > 1 else self.answers[0]
        return answer(request)

    def app(self) -> Starlette:
        methods = ["GET", "POST", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=methods)])


def _seen(request: Request) -> Seen:
    return Seen(request.method, request.url.path, dict(request.headers), time.monotonic())


_WAIT = re.compile(r"wait=(\d+(?:\.\d+)?)")


@dataclass
class LongPollJob:
    """A job running for `finish_after` seconds (version 1), then completed (version 2). It
    holds `Prefer: wait` requests like Joblane when `honour`; otherwise it answers at once
    with `Retry-After: hint`."""

    finish_after: float
    honour: bool
    hint: str = "1"
    started: float = field(default_factory=time.monotonic)
    seen: list[Seen] = field(default_factory=list)

    def version(self) -> int:
        return 2 if time.monotonic() - self.started >= self.finish_after else 1

    async def handle(self, request: Request) -> Response:
        self.seen.append(_seen(request))
        match = _WAIT.search(request.headers.get("prefer", ""))
        known = request.headers.get("if-none-match", "").strip('"')
        headers = {"Retry-After": self.hint}
        version = self.version()
        if self.honour and match and version == 1 and known in ("", "1"):
            deadline = time.monotonic() + float(match[1])
            while time.monotonic() < deadline and self.version() == 1:
                await asyncio.sleep(0.01)
            version = self.version()
            headers["Preference-Applied"] = f"wait={match[1]}"
        if known == str(version):
            return Response(status_code=304, headers=headers)
        body = job_body(version, "completed" if version == 2 else "running")
        return JSONResponse(body, headers=headers if version == 1 else {})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET"])])


@contextlib.contextmanager
def serve(app: Starlette) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="scripted-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the scripted server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
