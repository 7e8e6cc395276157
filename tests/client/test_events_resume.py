"""SSE resume: a TCP proxy on 127.0.0.1 between the client and a real server cuts the stream
(a TCP reset) after the first events; the client reconnects with `Last-Event-ID` and gets
every later version once, in order, ending at the terminal event."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field

import pytest

from client.live import Live
from joblane.client import AsyncClient, Client, Event, Job

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(90)]
_ID = re.compile(rb"^id: (\d+)$", re.MULTILINE)


@dataclass
class CuttingProxy:
    """Forwards to `upstream`; the first `cuts` connections are reset once `after` events
    went down them. Records each connection's request head and the event ids it carried."""

    upstream: tuple[str, int]
    cuts: int
    after: int
    heads: list[bytes] = field(default_factory=list)
    carried: list[list[int]] = field(default_factory=list)
    port: int = 0
    handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        index = len(self.heads)
        self.heads.append(b"")
        self.carried.append([])
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        try:
            head = await reader.readuntil(b"\r\n\r\n")  # a GET: no body follows
            self.heads[index] = head
            up_writer.write(head)
            down = asyncio.create_task(self.down(index, up_reader, writer))
            gone = asyncio.create_task(quietly(reader.read()))  # the client hung up
            try:
                await asyncio.wait({down, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pending in (down, gone):
                    pending.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                        await pending
        finally:
            for stream in (up_writer, writer):
                stream.close()
                with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                    await stream.wait_closed()
            self.handlers.discard(task)

    async def close(self) -> None:
        """End the connections still open (the client's idle keep-alive ones)."""
        for task in list(self.handlers):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def down(
        self, index: int, up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while chunk := await up_reader.read(65536):
            self.carried[index].extend(int(i) for i in _ID.findall(chunk))
            writer.write(chunk)
            await writer.drain()
            if index < self.cuts and len(self.carried[index]) >= self.after:
                await asyncio.sleep(0.2)  # let the client read what it was sent...
                writer.transport.abort()  # ...then a reset, mid-stream
                return

    def last_event_id(self, index: int) -> str | None:
        match = re.search(rb"(?im)^last-event-id: *(\S+)\r$", self.heads[index])
        return match[1].decode() if match else None


async def quietly(pending: Awaitable[bytes]) -> None:
    with contextlib.suppress(ConnectionError):
        await pending


@contextlib.asynccontextmanager
async def proxy(live: Live, cuts: int, after: int) -> AsyncIterator[CuttingProxy]:
    host, port = live.url.removeprefix("http://").split(":")
    p = CuttingProxy((host, int(port)), cuts, after)
    server = await asyncio.start_server(p.handle, "127.0.0.1", 0)
    p.port = server.sockets[0].getsockname()[1]
    async with server:
        try:
            yield p
        finally:
            await p.close()


def check(events: list[Event[Job]], p: CuttingProxy, cuts: int) -> None:
    ids = [e.data.version for e in events]
    assert all(e.id == e.data.version for e in events)
    assert len(p.heads) == cuts + 1, p.heads
    assert ids == [i for carried in p.carried for i in carried]  # all of them, once, in order
    assert ids == sorted(set(ids))
    for n in range(cuts):  # each reconnection resumed after the last event it had
        assert p.last_event_id(n + 1) == str(p.carried[n][-1])
        assert p.carried[n + 1] and p.carried[n + 1][0] > p.carried[n][-1]
    assert p.last_event_id(0) is None
    assert events[-1].event == "completed" and events[-1].data.status == "completed"
    assert events[-1].data.result == {"steps": 20}


@pytest.mark.parametrize("cuts", [1, 2])
async def test_async_client_resumes_after_the_connection_is_cut(live: Live, cuts: int) -> None:
    async with AsyncClient(live.url, live.api_key) as direct:
        job = await direct.submit("ticker", {"steps": 20, "step_seconds": 0.25})
        async with (
            proxy(live, cuts, after=2) as p,
            AsyncClient(f"http://127.0.0.1:{p.port}", live.api_key) as client,
        ):
            events = [e async for e in client.events(job.id)]
        final = await direct.get(job.id)
    check(events, p, cuts)
    assert events[-1].id == final.version


async def test_sync_client_resumes_after_the_connection_is_cut(live: Live) -> None:
    with Client(live.url, live.api_key) as direct:
        job = direct.submit("ticker", {"steps": 20, "step_seconds": 0.25})
    async with proxy(live, cuts=1, after=2) as p:

        def follow() -> list[Event[Job]]:  # blocking: off the loop that runs the proxy
            with Client(f"http://127.0.0.1:{p.port}", live.api_key) as client:
                return list(client.events(job.id))

        events = await asyncio.to_thread(follow)
    check(events, p, 1)
