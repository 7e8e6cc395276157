"""The sync client's I/O: send with retries, follow an event stream, run a wait loop. All
decisions are made by the pure helpers the async transport shares (retry, waiting, sse)."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
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
Body = Callable[[], Iterator[bytes]]


class SyncTransport:
    def __init__(
        self,
        connection: Connection,
        policy: RetryPolicy,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.connection = connection
        self.policy = policy
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic
        self.rng = rng or random.Random()
        self.http = httpx.Client(
            base_url=connection.url,
            headers=connection.headers(),
            timeout=connection.httpx_timeout(),
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

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

    def send(
        self, call: Call, body: Body | None = None, *, replayable: bool = True, stream: bool = False
    ) -> httpx.Response:
        """The answer to `call`, after waiting out what may be waited out (see retry.py)."""
        retrier = Retrier(self.policy, self.rng, idempotent=call.idempotent, replayable=replayable)
        while True:
            try:
                response = self.http.send(self.build(call, body), stream=stream)
            except httpx.TransportError as exc:
                delay = retrier.after_transport_error(exc)
                if delay is None:
                    raise responses.transport_error(self.connection.url, call, exc) from exc
                self.sleep(delay)
                continue
            delay = retrier.after_status(response.status_code, retry_after_of(response.headers))
            if delay is None:
                if stream and response.status_code >= 400:
                    response.read()
                return response
            response.close()
            self.sleep(delay)

    def follow(self, path: str, model: type[R], last_event_id: str | None) -> Iterator[Event[R]]:
        """Events of one resource until its terminal one, reconnecting with `Last-Event-ID`."""
        follower = Follower(model, self.policy, self.rng, last_event_id)
        call = Call("GET", path, idempotent=True, read_timeout=READ_TIMEOUT)
        while not follower.done:
            response = self.send(replace(call, headers=follower.headers()), stream=True)
            cause: Exception | None = None
            with contextlib.closing(response):
                responses.checked(response)
                decoder = follower.connected()
                try:
                    for line in response.iter_lines():
                        message = decoder.line(line)
                        if message is not None and (event := follower.accept(message, decoder)):
                            yield event
                            if follower.done:
                                return
                except httpx.TransportError as exc:
                    cause = exc
            self.sleep(follower.reconnect_delay(cause))

    def lines(self, call: Call) -> Iterator[str]:
        response = self.send(call, stream=True)
        with contextlib.closing(response):
            responses.checked(response)
            try:
                yield from (line for line in response.iter_lines() if line)
            except httpx.TransportError as exc:
                raise responses.transport_error(self.connection.url, call, exc) from exc

    def wait(self, plan: WaitPlan[R]) -> R:
        target = plan.target
        while (poll := plan.next_poll()) is not None:
            call = Call("GET", target.path, target.params, headers=poll.headers,
                        read_timeout=poll.read_timeout)  # fmt: skip
            try:
                response = self.http.send(self.build(call))
            except httpx.TransportError as exc:
                delay = plan.on_transport_error(exc)
            else:
                delay = plan.on_response(response)
            if delay > 0:
                self.sleep(plan.capped(delay))
        assert plan.last is not None
        return plan.last
