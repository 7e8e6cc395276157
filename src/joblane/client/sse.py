"""Server-Sent Events: a line decoder (WHATWG HTML, "event stream interpretation") and the
follower that resumes a dropped stream with `Last-Event-ID` (pure; the shells do the I/O).

A small parser rather than `httpx-sse`: the stream's lines come from httpx already split (it
handles CR, LF and CRLF), the field rules are a dozen lines, and the same decoder serves the
sync and async clients, which share the reconnect logic below. One dependency fewer for a
library that users install into their own applications.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import ValidationError as ModelError

from joblane.client.errors import ClientError, TransportError
from joblane.client.models import Batch, Event, Job
from joblane.client.retry import RetryPolicy, full_jitter

R = TypeVar("R", Job, Batch)
READ_TIMEOUT = 45.0  # three missed heartbeats (the server sends one every 15 s)


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    event: str
    data: str


class Decoder:
    """Feed it the stream's lines; it returns each complete message."""

    def __init__(self) -> None:
        self.last_id = ""
        self.retry_ms: int | None = None
        self._data: list[str] = []
        self._event = ""

    def line(self, line: str) -> Message | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> Message | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return Message(self.last_id, event or "message", "\n".join(data))


class Follower(Generic[R]):
    """One logical stream across reconnections: what to resume from, which events are new,
    when it is over, and how long to wait before reconnecting."""

    def __init__(
        self,
        model: type[R],
        policy: RetryPolicy,
        rng: random.Random,
        last_event_id: str | None = None,
    ) -> None:
        self.model: type[R] = model
        self.policy = policy
        self.rng = rng
        self.last_id = last_event_id or ""
        self.retry_ms: int | None = None
        self.done = False
        self.connections = 0
        self._failures = 0  # connections in a row that brought no event

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.last_id:
            headers["Last-Event-ID"] = self.last_id
        return headers

    def connected(self) -> Decoder:
        self.connections += 1
        return Decoder()

    def accept(self, message: Message, decoder: Decoder) -> Event[R] | None:
        """The event in `message`, or None if it is not a new version of the resource."""
        self.retry_ms = decoder.retry_ms if decoder.retry_ms is not None else self.retry_ms
        version = int(message.id) if message.id.isdigit() else None
        if version is not None and self.last_id.isdigit() and version <= int(self.last_id):
            return None  # already seen (a server that resent it)
        try:
            item = self.model.model_validate_json(message.data)
        except ModelError as exc:
            raise ClientError(f"unexpected event data ({message.event}): {exc}") from None
        self.last_id = message.id or self.last_id
        self._failures = 0
        self.done = item.terminal
        return Event(version, message.event, item)

    def reconnect_delay(self, cause: Exception | None) -> float:
        """How long to wait before reconnecting (the server's `retry:` first); raises once
        `max_attempts` connections in a row brought nothing."""
        self._failures += 1
        if self._failures >= self.policy.max_attempts:
            why = f"{type(cause).__name__}: {cause}" if cause else "the stream kept ending"
            raise TransportError(f"event stream lost after {self._failures} tries ({why})")
        if self.retry_ms is not None and self._failures == 1:
            return self.retry_ms / 1000
        base = max(self.policy.backoff_base, (self.retry_ms or 0) / 1000)
        return full_jitter(self._failures - 1, base, self.policy.backoff_cap, self.rng)
