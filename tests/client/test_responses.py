"""Answers become models or typed errors; requests are built from the contract."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import orjson
import pytest

from joblane.client import calls, responses
from joblane.client.errors import (
    ApiError,
    BadRequest,
    Gone,
    IdempotencyKeyMismatch,
    JobCancelledError,
    JobFailed,
    RateLimited,
    ServerError,
    Unavailable,
    ValidationError,
)
from joblane.client.models import Job


def answer(status: int, body: object = None, text: str = "", **headers: str) -> httpx.Response:
    content = orjson.dumps(body) if body is not None else text.encode()
    request = httpx.Request("GET", "http://127.0.0.1/v1/jobs/x")
    return httpx.Response(status, headers=headers, content=content, request=request)


def problem(status: int, code: str, **extra: object) -> dict[str, object]:
    return {"type": "t", "title": "T", "status": status, "detail": f"d{status}", "code": code,
            "request_id": "req_1", **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "INVALID_JOB_ID", BadRequest),
        (410, "JOB_EXPIRED", Gone),
        (422, "VALIDATION_ERROR", ValidationError),
        (422, "IDEMPOTENCY_KEY_MISMATCH", IdempotencyKeyMismatch),
        (429, "RATE_LIMITED", RateLimited),
        (503, "UNAVAILABLE", Unavailable),
        (500, "INTERNAL_ERROR", ServerError),
        (418, "TEAPOT", ApiError),
    ],
)
def test_problems_become_their_class(status: int, code: str, kind: type[ApiError]) -> None:
    error = responses.api_error(answer(status, problem(status, code, future_field=1)))
    assert type(error) is kind
    assert (error.status, error.code, error.detail, error.request_id) == (
        status, code, f"d{status}", "req_1",
    )  # fmt: skip
    assert error.body["future_field"] == 1


def test_a_non_problem_answer_is_still_an_error_with_what_there_is() -> None:
    error = responses.api_error(answer(502, text="Bad gateway", **{"X-Request-Id": "req_9"}))
    assert isinstance(error, ServerError) and error.code == "HTTP_502"
    assert error.request_id == "req_9" and "Bad gateway" in error.detail
    limited = responses.api_error(answer(429, problem(429, "RATE_LIMITED"), **{"Retry-After": "3"}))
    assert limited.retry_after == 3.0


def test_models_keep_unknown_fields_and_tolerate_missing_ones() -> None:
    job = responses.job(answer(200, {"id": "job_1", "status": "paused_by_v2", "shiny": [1]}))
    assert job.status == "paused_by_v2" and not job.terminal
    assert job.model_extra == {"shiny": [1]} and job.progress.processed == 0


def test_finished_raises_for_failed_and_cancelled_jobs() -> None:
    error = {"code": "E", "message": "m", "details": {}, "retryable": True}
    with pytest.raises(JobFailed, match=r"failed \(E: m\)") as failed:
        responses.finished(Job(id="job_1", status="failed", error=error))
    assert failed.value.error is not None and failed.value.error.retryable
    with pytest.raises(JobCancelledError, match="cancelled: no longer needed"):
        responses.finished(Job(id="job_1", status="cancelled", cancel_reason="no longer needed"))
    assert responses.finished(Job(id="job_1", status="completed")).id == "job_1"


def test_submit_call_always_carries_an_idempotency_key() -> None:
    when = datetime(2026, 1, 31, 12, tzinfo=timezone(timedelta(hours=1)))
    a = calls.submit("t", {"x": 1}, metadata={"k": "v"}, run_at=when, priority=0)
    b = calls.submit("t", {"x": 1})
    assert a.headers["Idempotency-Key"] != b.headers["Idempotency-Key"] and a.idempotent
    assert a.json == {"type": "t", "input": {"x": 1}, "metadata": {"k": "v"}, "priority": 0,
                      "run_at": "2026-01-31T11:00:00Z"}  # fmt: skip
    assert calls.submit("t", {}, idempotency_key="mine").headers["Idempotency-Key"] == "mine"
    with pytest.raises(ValueError, match="time zone"):
        calls.submit("t", {}, run_at=datetime(2026, 1, 1))


def test_list_filters_and_ids_in_paths() -> None:
    call = calls.listing(status=["queued", "running"], type="a", metadata={"ref": "A-1"},
                         limit=5, created_after="2026-01-01T00:00:00Z")  # fmt: skip
    assert call.params == {"status": "queued,running", "type": "a", "metadata.ref": "A-1",
                           "limit": "5", "created_after": "2026-01-01T00:00:00Z"}  # fmt: skip
    assert calls.job("../admin/keys").path == "/v1/jobs/..%2Fadmin%2Fkeys"
    assert calls.cancel("job_1").json is None and calls.cancel("job_1", "r").json == {"reason": "r"}
    assert not calls.cancel("job_1").idempotent and calls.delete("job_1").idempotent
