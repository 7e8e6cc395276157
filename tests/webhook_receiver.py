"""A real webhook receiver on a loopback address, for tests: a small HTTP/1.1 server on its
own thread and event loop (so sync acceptance tests and async tests both drive it).

It records every request it read (headers, body) and answers what its plan says: refusing
connections while `down`, a status per request (`statuses`, then `default`), or holding a
request open without answering while `holding`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

REASONS = {200: "OK", 204: "No Content", 410: "Gone", 500: "Internal Server Error"}


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    host: str = "127.0.0.1"
    port: int = 0
    statuses: list[int] = field(default_factory=list)  # answers, first request first
    default: int = 200
    received: list[Received] = field(default_factory=list)
    held: int = 0  # requests held open so far
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.Server | None = None
    _thread: threading.Thread | None = None
    _holding: bool = False
    _release: asyncio.Event | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- control (from any thread) -----------------------------------------------------------
    def start(self) -> Receiver:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        self.up()
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self.down()
        self._call(self._release_all)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def up(self) -> None:
        """Listen (again, on the same port)."""
        self._call(self._listen)

    def down(self) -> None:
        """Stop listening: connections are refused (requests in progress go on)."""
        self._call(self._close)

    def hold(self) -> None:
        """From now on, read requests but never answer them (until `release`)."""
        self._holding = True

    def release(self) -> None:
        self._holding = False
        self._call(self._release_all)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(got := self.snapshot()) >= count:
                return got
            time.sleep(0.02)
        raise TimeoutError(f"{len(self.snapshot())} requests received, expected {count}")

    # -- the server (on its own loop) --------------------------------------------------------
    def _run(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._release = asyncio.Event()
        ready.set()
        self._loop.run_forever()
        self._loop.close()

    def _call(self, fn: object) -> None:
        assert self._loop is not None and callable(fn)
        future = asyncio.run_coroutine_threadsafe(fn(), self._loop)
        future.result(10)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._serve, self.host, self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _release_all(self) -> None:
        if self._release is not None:
            self._release.set()
            self._release = asyncio.Event()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                request = await self._read(reader)
                if request is None:
                    break
                with self._lock:
                    self.received.append(request)
                    status = self.statuses.pop(0) if self.statuses else self.default
                if self._holding and self._release is not None:
                    self.held += 1
                    await self._release.wait()
                    break
                reason = REASONS.get(status, "Status")
                writer.write(f"HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        writer.close()

    async def _read(self, reader: asyncio.StreamReader) -> Received | None:
        head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
        if not head:
            return None
        request_line, *lines = head.decode("latin-1").split("\r\n")
        path = request_line.split(" ")[1] if " " in request_line else ""
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Received(path, headers, body, time.time())


@contextlib.contextmanager
def receiving(
    host: str = "127.0.0.1", statuses: list[int] | None = None, default: int = 200
) -> Iterator[Receiver]:
    receiver = Receiver(host=host, statuses=list(statuses or []), default=default).start()
    try:
        yield receiver
    finally:
        receiver.stop()
