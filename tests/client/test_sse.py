"""The event-stream decoder (WHATWG rules) and the follower's resume logic."""

from __future__ import annotations

import random

import orjson
import pytest

from joblane.client.errors import ClientError, TransportError
from joblane.client.models import Job
from joblane.client.retry import RetryPolicy
from joblane.client.sse import Decoder, Follower, Message


def feed(decoder: Decoder, text: str) -> list[Message]:
    return [m for line in text.split("\n") if (m := decoder.line(line)) is not None]


def test_fields_comments_and_multi_line_data() -> None:
    d = Decoder()
    messages = feed(
        d,
        "retry: 2000\n\n"
        ": keep-alive\n\n"
        'id: 3\nevent: progress\ndata: {"a":\ndata:  1}\n\n'
        "data\n\n"  # a field name alone: empty data
        "id: 4\ndata:x\n\n",
    )
    assert d.retry_ms == 2000
    assert messages == [
        Message("3", "progress", '{"a":\n 1}'),
        Message("3", "message", ""),  # the last event id carries over; the default name
        Message("4", "message", "x"),
    ]


def test_a_message_without_data_is_not_dispatched_and_odd_fields_are_ignored() -> None:
    d = Decoder()
    assert feed(d, "id: 9\nevent: status\n\nfoo: bar\nretry: soon\n\n") == []
    assert d.last_id == "9" and d.retry_ms is None
    assert feed(d, "id: a\x00b\ndata: 1\n\n") == [Message("9", "message", "1")]  # NUL id ignored


def event_data(version: int, status: str) -> str:
    return orjson.dumps({"id": "job_1", "version": version, "status": status}).decode()


def follower(last: str | None = None, attempts: int = 3) -> Follower[Job]:
    return Follower(Job, RetryPolicy(max_attempts=attempts), random.Random(0), last)


def test_follower_resumes_from_the_last_event_and_skips_what_it_has_seen() -> None:
    f = follower("2")
    assert f.headers()["Last-Event-ID"] == "2"
    d = f.connected()
    assert f.accept(Message("2", "status", event_data(2, "running")), d) is None
    event = f.accept(Message("3", "progress", event_data(3, "running")), d)
    assert event is not None and (event.id, event.event, event.data.version) == (3, "progress", 3)
    assert f.headers()["Last-Event-ID"] == "3" and not f.done
    final = f.accept(Message("4", "completed", event_data(4, "completed")), d)
    assert final is not None and final.data.status == "completed" and f.done


def test_reconnect_waits_the_servers_retry_then_backs_off_and_gives_up() -> None:
    f = follower(attempts=3)
    d = f.connected()
    d.line("retry: 1500")
    f.accept(Message("1", "status", event_data(1, "queued")), d)
    assert f.reconnect_delay(None) == 1.5
    second = f.reconnect_delay(None)
    assert 0 <= second <= 3.0  # jitter over at least the server's retry
    with pytest.raises(TransportError, match="3 tries"):
        f.reconnect_delay(ConnectionResetError("reset"))


def test_an_event_brings_the_failure_count_back_to_zero() -> None:
    f = follower(attempts=2)
    d = f.connected()
    f.accept(Message("1", "status", event_data(1, "queued")), d)
    f.reconnect_delay(None)
    f.accept(Message("2", "status", event_data(2, "running")), d)
    f.reconnect_delay(None)  # would raise had the count not been reset


def test_undecodable_event_data_is_an_error() -> None:
    f = follower()
    with pytest.raises(ClientError, match="unexpected event data"):
        f.accept(Message("1", "status", "not json"), f.connected())
