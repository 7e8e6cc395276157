"""The async client's I/O: the sync transport's twin, line for line (the decisions are in
the pure helpers both share: retry, waiting, sse)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

import httpx

from joblane.client import responses
from joblane.client.calls import Call
from joblane.client.config import Connection
from joblane.client.models import Batch, Event, Job
from joblane.client.retry import Retrier, RetryPolicy, retry_after_of
from joblane.client.sse import READ_TIMEOUT, Follower
from joblane.client.waiting import WaitPlan

R = TypeVar("R", Job, Batch)
Body = Callable[[], AsyncIterator[bytes]]


class AsyncTransport:
    def __init__(
        self,
        connection: Connection,
        policy: RetryPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.connection = connection
        self.policy = policy
        self.sleep = sleep or asyncio.sleep
        self.clock = clock or time.monotonic
        self.rng = rng or random.Random()
        self.http = httpx.AsyncClient(
            base_url=connection.url,
            headers=connection.headers(),
            timeout=connection.httpx_timeout(),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    def build(self, call: Call, body: Body | None = None) -> httpx.Request:
        read = call.read_timeout
        timeout = (
            httpx.USE_CLIENT_DEFAULT
            if read is None
            else httpx.Timeout(self.connection.timeout, read=read)
        )
        return self.http.build_request(
            call.method,
            call.path,
            params=call.params or None,
            json=call.json,
            content=body() if body is not None else None,
            headers=call.headers,
            timeout=timeout,
        )

    async def send(
        self, call: Call, body: Body | None = None, *, replayable: bool = True, stream: bool = False
    ) -> httpx.Response:
        """The answer to `call`, after waiting out what may be waited out (see retry.py)."""
        retrier = Retrier(self.policy, self.rng, idempotent=call.idempotent, replayable=replayable)
        while True:
            try:
                response = await self.http.send(self.build(call, body), stream=stream)
            except httpx.TransportError as exc:
                delay = retrier.after_transport_error(exc)
                if delay is None:
                    raise responses.transport_error(self.connection.url, call, exc) from exc
                await self.sleep(delay)
                continue
            delay = retrier.after_status(response.status_code, retry_after_of(response.headers))
            if delay is None:
                if stream and response.status_code >= 400:
                    await response.aread()
                return response
            await response.aclose()
            await self.sleep(delay)

    async def follow(
        self, path: str, model: type[R], last_event_id: str | None
    ) -> AsyncIterator[Event[R]]:
        """Events of one resource until its terminal one, reconnecting with `Last-Event-ID`."""
        follower = Follower(model, self.policy, self.rng, last_event_id)
        call = Call("GET", path, idempotent=True, read_timeout=READ_TIMEOUT)
        while not follower.done:
            response = await self.send(replace(call, headers=follower.headers()), stream=True)
            cause: Exception | None = None
            async with contextlib.aclosing(response):
                responses.checked(response)
                decoder = follower.connected()
                try:
                    async for line in response.aiter_lines():
                        message = decoder.line(line)
                        if message is not None and (event := follower.accept(message, decoder)):
                            yield event
                            if follower.done:
                                return
                except httpx.TransportError as exc:
                    cause = exc
            await self.sleep(follower.reconnect_delay(cause))

    async def lines(self, call: Call) -> AsyncIterator[str]:
        response = await self.send(call, stream=True)
        async with contextlib.aclosing(response):
            responses.checked(response)
            try:
                async for line in response.aiter_lines():
                    if line:
                        yield line
            except httpx.TransportError as exc:
                raise responses.transport_error(self.connection.url, call, exc) from exc

    async def wait(self, plan: WaitPlan[R]) -> R:
        target = plan.target
        while (poll := plan.next_poll()) is not None:
            call = Call("GET", target.path, target.params, headers=poll.headers,
                        read_timeout=poll.read_timeout)  # fmt: skip
            try:
                response = await self.http.send(self.build(call))
            except httpx.TransportError as exc:
                delay = plan.on_transport_error(exc)
            else:
                delay = plan.on_response(response)
            if delay > 0:
                await self.sleep(plan.capped(delay))
        assert plan.last is not None
        return plan.last
