"""The wait loop's decisions, step by step, on a fake clock (no server: see
test_wait_scripted.py for the same against a real one)."""

from __future__ import annotations

import random
from typing import Any

import httpx
import orjson
import pytest

from joblane.client.errors import RateLimited, TransportError, WaitTimeout
from joblane.client.models import Job
from joblane.client.retry import RetryPolicy
from joblane.client.waiting import WaitPlan, job_target

PATH = "/v1/jobs/job_1"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def answer(status: int, body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    content = orjson.dumps(body) if body is not None else b""
    request = httpx.Request("GET", f"http://127.0.0.1{PATH}")
    named = {k.replace("_", "-"): v for k, v in headers.items()}
    return httpx.Response(status, headers=named, content=content, request=request)


def job(version: int, status: str = "running", **extra: Any) -> dict[str, Any]:
    return {"id": "job_1", "version": version, "status": status, **extra}


def plan(
    clock: Clock, timeout: float | None = 60.0, seen: list[Job] | None = None, **policy: Any
) -> WaitPlan[Job]:
    return WaitPlan(
        job_target(PATH),
        timeout=timeout,
        policy=RetryPolicy(**policy),
        clock=clock,
        rng=random.Random(5),
        on_progress=None if seen is None else seen.append,
    )


def test_reads_once_then_long_polls_on_the_known_version() -> None:
    clock, seen = Clock(), list[Job]()
    p = plan(clock, seen=seen, long_poll=25.0)
    first = p.next_poll()
    assert first is not None and first.headers == {}  # the current state, at once
    assert p.on_response(answer(200, job(3))) == 0.0
    poll = p.next_poll()
    assert poll is not None
    assert poll.headers == {"Prefer": "wait=25.0", "If-None-Match": '"3"'}
    assert poll.read_timeout == 40.0
    clock.now += 2.0
    assert p.on_response(answer(200, job(4), preference_applied="wait=25")) == 0.0
    assert p.long_poll is True
    clock.now += 25.0
    assert p.on_response(answer(304)) == 0.0  # the server held it: no change, ask again
    clock.now += 1.0
    assert p.on_response(answer(200, job(5, "completed", result={"ok": 1}))) == 0.0
    assert p.next_poll() is None and p.finished
    assert [j.version for j in seen] == [3, 4, 5]


def test_the_last_long_poll_asks_for_no_more_than_the_time_left() -> None:
    clock = Clock()
    p = plan(clock, timeout=10.0, long_poll=25.0)
    p.next_poll()
    p.on_response(answer(200, job(1)))
    clock.now += 4.0
    poll = p.next_poll()
    assert poll is not None and poll.headers["Prefer"] == "wait=6.0"


def test_a_server_that_does_not_hold_the_request_is_polled_with_its_retry_after() -> None:
    clock = Clock()
    p = plan(clock, long_poll=25.0)
    p.next_poll()
    p.on_response(answer(200, job(1)))
    p.next_poll()
    clock.now += 0.01  # no Preference-Applied, no change, back at once: not a long-poll
    assert p.on_response(answer(200, job(1), retry_after="3")) == 3.0
    assert p.long_poll is False
    poll = p.next_poll()
    assert poll is not None and "Prefer" not in poll.headers
    assert poll.headers["If-None-Match"] == '"1"'
    assert p.on_response(answer(304, retry_after="2")) == 2.0
    assert p.on_response(answer(200, job(2, retry_after=4))) == 4.0  # the body's hint


def test_without_any_hint_polls_back_off_with_full_jitter_up_to_the_cap() -> None:
    clock = Clock()
    p = plan(clock, timeout=None, long_poll=0, backoff_base=1.0, backoff_cap=4.0)
    rng = random.Random(5)
    delays = []
    for _ in range(6):
        p.next_poll()
        delays.append(p.on_response(answer(200, job(1))))
    assert delays == [rng.uniform(0, min(4.0, 1.0 * 2**n)) for n in range(6)]


def test_429_and_503_are_waited_out_with_retry_after_then_given_up() -> None:
    clock = Clock()
    p = plan(clock, max_attempts=3)
    p.next_poll()
    assert p.on_response(answer(429, retry_after="1")) == 1.0
    assert p.on_response(answer(503, retry_after="2")) == 2.0
    with pytest.raises(RateLimited):
        p.on_response(answer(429, {"code": "RATE_LIMITED", "detail": "slow down"}))


def test_a_success_resets_the_failure_count() -> None:
    clock = Clock()
    p = plan(clock, max_attempts=3)
    p.next_poll()
    p.on_response(answer(503, retry_after="1"))
    p.on_response(answer(429, retry_after="1"))
    p.on_response(answer(200, job(1)))
    p.on_response(answer(503, retry_after="1"))  # the count starts again
    assert p.on_transport_error(httpx.ConnectError("refused")) >= 0
    with pytest.raises(TransportError):  # the third failure in a row
        p.on_transport_error(httpx.ConnectError("refused"))


def test_the_deadline_ends_the_wait_with_the_last_state_seen() -> None:
    clock = Clock()
    p = plan(clock, timeout=5.0)
    p.next_poll()
    p.on_response(answer(200, job(2, "queued"), retry_after="30"))
    assert p.capped(30.0) == 5.0  # never sleeps past the deadline
    clock.now += 5.0
    with pytest.raises(WaitTimeout, match=r"not finished after 5 s \(still queued\)") as caught:
        p.next_poll()
    assert isinstance(caught.value.last, Job) and caught.value.last.version == 2
