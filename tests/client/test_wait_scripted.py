"""The client against a real HTTP server on 127.0.0.1 that answers 429 / 503 as scripted:
`Retry-After` is waited exactly (an injected sleep records it; one check on the wall clock),
backoff without it is capped full jitter, and long-polls are used when the server holds them.
"""

from __future__ import annotations

import random
import time
from collections import deque

import pytest
from starlette.responses import JSONResponse

from client.scripted import JOB_ID, LongPollJob, Script, job, problem, serve
from joblane.client import (
    AsyncClient,
    Client,
    Job,
    JobFailed,
    RateLimited,
    RetryPolicy,
    Unavailable,
    WaitTimeout,
)

pytestmark = pytest.mark.timeout(60)


def script(*answers: object) -> Script:
    return Script(deque(answers))  # type: ignore[arg-type]


def test_wait_sleeps_what_retry_after_says_through_429s_and_a_503() -> None:
    s = script(
        problem(429, "RATE_LIMITED", "1"),
        problem(429, "RATE_LIMITED", "1"),
        problem(503, "UNAVAILABLE", "2"),
        job(5, "completed"),
    )
    sleeps: list[float] = []
    with serve(s.app()) as url, Client(url, "k", sleep=sleeps.append) as client:
        done = client.wait(JOB_ID, timeout=30)
    assert (done.id, done.status, done.result) == (JOB_ID, "completed", {"ok": True})
    assert sleeps == [1.0, 1.0, 2.0]
    assert [seen.path for seen in s.seen] == [f"/v1/jobs/{JOB_ID}"] * 4


def test_a_single_read_waits_out_429_and_503_too() -> None:
    s = script(
        problem(429, "RATE_LIMITED", "1"),
        problem(503, "UNAVAILABLE", "3"),
        job(2, "running", headers={"Retry-After": "1"}),
    )
    sleeps: list[float] = []
    with serve(s.app()) as url, Client(url, "k", sleep=sleeps.append) as client:
        got = client.get(JOB_ID)
    assert got.status == "running" and sleeps == [1.0, 3.0]


def test_retry_after_is_really_waited_on_the_wall_clock() -> None:
    s = script(problem(429, "RATE_LIMITED", "1"), problem(429, "RATE_LIMITED", "1"),
               job(3, "completed"))  # fmt: skip
    with serve(s.app()) as url, Client(url, "k") as client:
        started = time.monotonic()
        client.wait(JOB_ID, timeout=30)
        elapsed = time.monotonic() - started
    assert 2.0 <= elapsed < 5.0, elapsed
    gaps = [b.at - a.at for a, b in zip(s.seen, s.seen[1:], strict=False)]
    assert all(0.95 <= gap < 2.5 for gap in gaps), gaps


def test_without_retry_after_the_backoff_is_capped_full_jitter() -> None:
    s = script(*[problem(503, "UNAVAILABLE")] * 4, job(1, "completed"))
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=6, backoff_base=1.0, backoff_cap=1.5)
    with (
        serve(s.app()) as url,
        Client(url, "k", retry=policy, sleep=sleeps.append, rng=random.Random(11)) as client,
    ):
        client.wait(JOB_ID, timeout=30)
    replay = random.Random(11)
    bounds = [1.0, 1.5, 1.5, 1.5]  # min(cap, base * 2**n)
    assert sleeps == [replay.uniform(0, bound) for bound in bounds]
    assert all(0 <= slept <= bound for slept, bound in zip(sleeps, bounds, strict=True))


def test_too_many_refusals_in_a_row_raise_the_typed_error() -> None:
    s = script(problem(503, "UNAVAILABLE", "1"))
    with (
        serve(s.app()) as url,
        Client(url, "k", retry=RetryPolicy(max_attempts=3), sleep=lambda _: None) as client,
    ):
        with pytest.raises(Unavailable) as caught:
            client.wait(JOB_ID, timeout=30)
        assert (caught.value.status, caught.value.code) == (503, "UNAVAILABLE")
        assert caught.value.request_id == "req_scripted" and caught.value.retry_after == 1.0
        with pytest.raises(Unavailable):
            client.get(JOB_ID)
    assert len(s.seen) == 6  # three tries each


def test_submit_is_retried_with_the_same_idempotency_key() -> None:
    s = script(problem(503, "UNAVAILABLE", "1"), problem(429, "RATE_LIMITED", "1"),
               job(1, "queued", 202))  # fmt: skip
    sleeps: list[float] = []
    with serve(s.app()) as url, Client(url, "k", sleep=sleeps.append) as client:
        submitted = client.submit("nap", {"seconds": 1})
    assert submitted.status == "queued" and sleeps == [1.0, 1.0]
    keys = {seen.headers["idempotency-key"] for seen in s.seen}
    assert len(s.seen) == 3 and len(keys) == 1 and next(iter(keys))


def test_a_request_unsafe_to_repeat_is_not_retried_after_a_503_but_is_after_a_429() -> None:
    s = script(problem(503, "UNAVAILABLE", "1"))
    with serve(s.app()) as url, Client(url, "k", sleep=lambda _: None) as client:
        with pytest.raises(Unavailable):
            client.cancel(JOB_ID)
        assert len(s.seen) == 1
        s.answers = deque([problem(429, "RATE_LIMITED", "1"), job(2, "cancelled")])
        assert client.cancel(JOB_ID).status == "cancelled"  # refused before anything happened
    assert len(s.seen) == 3


def test_long_poll_is_used_when_the_server_holds_the_request() -> None:
    server = LongPollJob(finish_after=1.5, honour=True)
    with serve(server.app()) as url, Client(url, "k") as client:
        started = time.monotonic()
        done = client.wait(JOB_ID, timeout=30)
        elapsed = time.monotonic() - started
    assert done.status == "completed" and 1.4 <= elapsed < 3.0
    assert len(server.seen) == 2  # one read, then one long-poll answered when it finished
    assert "prefer" not in server.seen[0].headers
    assert server.seen[1].headers["prefer"].startswith("wait=")
    assert server.seen[1].headers["if-none-match"] == '"1"'


def test_a_server_that_ignores_prefer_wait_is_polled_at_its_retry_after() -> None:
    server = LongPollJob(finish_after=1.5, honour=False, hint="0.4")
    with serve(server.app()) as url, Client(url, "k") as client:
        done = client.wait(JOB_ID, timeout=30)
    assert done.status == "completed"
    assert 4 <= len(server.seen) <= 8  # 1.5 s at one poll per 0.4 s
    assert all("prefer" not in seen.headers for seen in server.seen[2:])  # learned, not asked
    gaps = [b.at - a.at for a, b in zip(server.seen[2:], server.seen[3:], strict=False)]
    assert all(gap >= 0.38 for gap in gaps), gaps


def test_a_wait_that_runs_out_raises_wait_timeout() -> None:
    server = LongPollJob(finish_after=30, honour=True)
    with serve(server.app()) as url, Client(url, "k") as client:
        started = time.monotonic()
        with pytest.raises(WaitTimeout) as caught:
            client.wait(JOB_ID, timeout=1.0)
    assert 0.9 <= time.monotonic() - started < 3.0
    assert isinstance(caught.value.last, Job) and caught.value.last.status == "running"


def test_failed_jobs_raise_job_failed_with_the_error() -> None:
    failed = {"code": "OCR_FAILED", "message": "page 3", "details": {"page": 3},
              "retryable": True}  # fmt: skip
    body = {"id": JOB_ID, "version": 4, "status": "failed", "error": failed}
    s = script(lambda request: JSONResponse(body))
    with serve(s.app()) as url, Client(url, "k") as client, pytest.raises(JobFailed) as caught:
        client.wait(JOB_ID)
    error = caught.value.error
    assert error is not None and (error.code, error.message) == ("OCR_FAILED", "page 3")
    assert error.details == {"page": 3} and error.retryable is True


async def test_async_client_waits_out_refusals_the_same_way() -> None:
    s = script(
        problem(429, "RATE_LIMITED", "1"),
        problem(503, "UNAVAILABLE", "2"),
        job(5, "completed"),
    )
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    with serve(s.app()) as url:
        async with AsyncClient(url, "k", sleep=record) as client:
            done = await client.wait(JOB_ID, timeout=30)
            s.answers = deque([problem(429, "RATE_LIMITED", "1")])
            with pytest.raises(RateLimited):
                await client.get(JOB_ID)
    assert done.status == "completed"
    assert sleeps == [1.0, 2.0, 1.0, 1.0, 1.0, 1.0]  # then four retries of the get


async def test_async_client_long_polls() -> None:
    server = LongPollJob(finish_after=1.0, honour=True)
    with serve(server.app()) as url:
        async with AsyncClient(url, "k") as client:
            done = await client.wait(JOB_ID, timeout=30)
    assert done.status == "completed" and len(server.seen) == 2


def batch_answer(request: object) -> JSONResponse:
    body = {"id": "bat_01JD6X3K4M5N6P7Q8R9S0T1V2W", "object": "batch", "status": "queued",
            "version": 1, "progress": {"total": 3}}  # fmt: skip
    return JSONResponse(body, 202)


def test_batch_bodies_are_streamed_and_a_one_shot_body_is_never_sent_twice() -> None:
    s = script(problem(429, "RATE_LIMITED", "1"), batch_answer)
    sleeps: list[float] = []
    items = [{"type": "t", "input": {"i": i}} for i in range(3)]
    with serve(s.app()) as url, Client(url, "k", sleep=sleeps.append) as client:
        batch = client.submit_batch(items, name="b", max_concurrent=2)  # a list: sent again
        assert batch.progress.total == 3 and sleeps == [1.0] and len(s.seen) == 2
        for seen in s.seen:
            assert seen.headers["transfer-encoding"] == "chunked"  # streamed, no length
            assert "content-length" not in seen.headers
            assert seen.headers["content-type"] == "application/x-ndjson"
            assert seen.body.count(b"\n") == 3 and seen.path == "/v1/batches"
        s.answers = deque([problem(429, "RATE_LIMITED", "1"), batch_answer])
        with pytest.raises(RateLimited):  # a generator cannot be replayed: the 429 is raised
            client.submit_batch(item for item in items)
    assert len(s.seen) == 3 and sleeps == [1.0]
