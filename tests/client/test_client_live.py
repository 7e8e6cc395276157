"""`joblane.Client` against a real `joblane serve` process, on every backend."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from apps import FORMAT_ERROR
from client.live import Live
from joblane.client import (
    ApiError,
    BadRequest,
    Client,
    Conflict,
    Forbidden,
    Job,
    JobCancelledError,
    JobFailed,
    NotFound,
    TransportError,
    Unauthorized,
    ValidationError,
)

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(90)]
UNKNOWN = "job_" + "0" * 26


@pytest.fixture
def client(live: Live) -> Iterator[Client]:
    with Client(live.url, live.api_key) as c:
        yield c


def test_submit_get_wait_and_result(client: Client) -> None:
    job = client.submit("nap", {"seconds": 0.3}, metadata={"ref": "A-17"}, priority=5)
    assert job.id.startswith("job_") and job.status == "queued"
    assert (job.type, job.metadata, job.priority) == ("nap", {"ref": "A-17"}, 5)
    assert client.get(job.id).id == job.id
    seen: list[Job] = []
    done = client.wait(job, timeout=30, on_progress=seen.append)
    assert done.status == "completed" and done.result == {"slept": 0.3}
    versions = [j.version for j in seen]
    assert versions == sorted(set(versions)) and seen[-1].status == "completed"
    assert client.result(job.id) == {"slept": 0.3}
    assert client.get(job.id, include_input=True).input == {"seconds": 0.3}


def test_wait_raises_job_failed_with_the_jobs_error(client: Client) -> None:
    job = client.submit("fail", {"code": "OCR_FAILED"})
    with pytest.raises(JobFailed) as caught:
        client.wait(job.id, timeout=30)
    error = caught.value.error
    assert error is not None and error.code == "OCR_FAILED"
    assert (error.message, error.details, error.retryable) == ("failed on purpose", {"n": 1}, False)
    assert caught.value.job.status == "failed" and "OCR_FAILED" in str(caught.value)

    again = client.retry(job.id)  # a new attempt, which fails the same way
    assert again.status == "queued" and again.attempt == job.attempt + 1
    with pytest.raises(JobFailed):
        client.wait(again, timeout=30)


def test_wait_raises_job_cancelled_error(client: Client) -> None:
    job = client.submit("nap", {"seconds": 30})
    cancelled = client.cancel(job.id, reason="changed my mind")
    assert cancelled.status in ("cancelled", "running") and cancelled.cancel_requested
    with pytest.raises(JobCancelledError) as caught:
        client.wait(job.id, timeout=30)
    assert caught.value.job.cancel_reason == "changed my mind"
    with pytest.raises(Conflict) as conflict:  # cancelling a finished job is a 409
        client.cancel(job.id)
    assert conflict.value.code == "CONFLICT" and conflict.value.request_id


def test_delete_then_the_job_is_not_found(client: Client) -> None:
    job = client.wait(client.submit("noop", {}), timeout=30)
    client.delete(job.id)
    with pytest.raises(NotFound) as caught:
        client.get(job.id)
    assert (caught.value.status, caught.value.code) == (404, "JOB_NOT_FOUND")
    assert job.id in caught.value.detail


def test_list_pages_and_iterates_every_page(client: Client, live: Live) -> None:
    tag = live.tag()
    ids = [client.submit("noop", {}, metadata=tag).id for _ in range(5)]
    page = client.list(metadata=tag, limit=2)
    assert [j.id for j in page.data] == ids[::-1][:2] and page.next_cursor
    assert [j.id for j in client.iter_jobs(metadata=tag, page_size=2)] == ids[::-1]
    for job_id in ids:
        client.wait(job_id, timeout=30)
    completed = client.list(metadata=tag, status=["completed", "failed"], type="noop")
    assert sorted(j.id for j in completed.data) == sorted(ids) and completed.next_cursor is None
    assert client.list(metadata=tag, status="queued").data == []


def test_submissions_are_idempotent(client: Client) -> None:
    first = client.submit("noop", {}, idempotency_key="order-42")
    assert client.submit("noop", {}, idempotency_key="order-42").id == first.id
    a, b = client.submit("noop", {}), client.submit("noop", {})
    assert a.id != b.id and a.idempotency_key and a.idempotency_key != b.idempotency_key


def test_api_errors_are_typed_with_code_and_request_id(client: Client, live: Live) -> None:
    cases: list[tuple[Callable[[], object], type[ApiError], int, str]] = [
        (lambda: client.get("job_nope"), BadRequest, 400, "INVALID_JOB_ID"),
        (lambda: client.get(UNKNOWN), NotFound, 404, "JOB_NOT_FOUND"),
        (lambda: client.submit("nap", {"seconds": "x"}), ValidationError, 422, "VALIDATION_ERROR"),
        (lambda: client.result(client.submit("nap", {"seconds": 5}).id), Conflict, 409, "CONFLICT"),
        (lambda: client.get_batch("bat_" + "0" * 26), NotFound, 404, "BATCH_NOT_FOUND"),
    ]
    for call, kind, status, code in cases:
        with pytest.raises(kind) as caught:
            call()
        error = caught.value
        assert (error.status, error.code) == (status, code), error
        assert error.request_id and error.request_id.startswith("req_") and error.detail
    with pytest.raises(ValidationError) as invalid:
        client.submit("nap", {"seconds": "x"})
    assert invalid.value.errors and invalid.value.errors[0]["loc"][:2] == ["body", "input"]

    with Client(live.url, "jlk_" + "x" * 38) as stranger, pytest.raises(Unauthorized) as bad:
        stranger.get(UNKNOWN)
    assert bad.value.code == "INVALID_API_KEY"
    reader = live.key("client-tests", "jobs:read")
    with Client(live.url, reader) as read_only, pytest.raises(Forbidden) as forbidden:
        read_only.submit("noop", {})
    assert forbidden.value.code == "FORBIDDEN"


def test_an_unreachable_server_is_a_transport_error() -> None:
    with Client("http://127.0.0.1:9", "k") as client, pytest.raises(TransportError) as caught:
        client.get(UNKNOWN)
    assert "127.0.0.1:9" in str(caught.value)


def test_events_stream_every_version_until_the_terminal_one(client: Client) -> None:
    job = client.submit("ticker", {"steps": 8, "step_seconds": 0.15})
    events = list(client.events(job.id))
    versions = [e.data.version for e in events]
    assert versions == sorted(set(versions)) and all(e.id == e.data.version for e in events)
    assert events[0].event == "status" and events[-1].event == "completed"
    assert events[-1].data.result == {"steps": 8} and events[-1].id == events[-1].data.version
    assert any(e.event == "progress" for e in events)
    processed = [e.data.progress.processed for e in events]
    assert processed == sorted(processed)
    resumed = list(client.events(job.id, last_event_id=str(events[-2].id)))
    assert [e.id for e in resumed] == [events[-1].id]


def item(index: int, fail: str | None = None, seconds: float = 0.02) -> dict[str, object]:
    return {"type": "batch_item", "input": {"index": index, "seconds": seconds, "fail": fail}}


def test_batch_from_a_list_waited_with_progress_and_its_results(client: Client) -> None:
    batch = client.submit_batch([item(i) for i in range(6)], name="six", max_concurrent=2)
    assert batch.id.startswith("bat_") and batch.progress.total == 6 and batch.name == "six"
    seen: list[int] = []
    done = client.wait_batch(batch, timeout=60, on_progress=lambda b: seen.append(b.version))
    assert done.status == "completed" and done.progress.completed == 6
    assert seen == sorted(set(seen)) and done.error_summary == []
    results = list(client.iter_results(batch.id))
    assert [r.status for r in results] == ["completed"] * 6
    assert sorted(r.result["index"] for r in results) == list(range(6))
    page = client.batch_jobs(batch.id, status="completed", limit=4)
    assert len(page.data) == 4 and page.next_cursor
    assert any(b.id == batch.id for b in client.list_batches(limit=100).data)


def test_batch_from_a_file_and_from_a_generator_with_failures(
    client: Client, tmp_path: Path
) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(item(i)) + "\n" for i in range(3)))
    from_file = client.wait_batch(client.submit_batch(path), timeout=60)
    assert from_file.progress.completed == 3

    items = (item(i, FORMAT_ERROR if i % 2 else None) for i in range(4))  # streamed, once
    done = client.wait_batch(client.submit_batch(items), timeout=60)
    assert (done.progress.completed, done.progress.failed) == (2, 2)
    assert done.error_summary and done.error_summary[0].error_type == FORMAT_ERROR
    retried = client.retry_failed(done.id)
    assert retried.status in ("queued", "running")
    assert client.wait_batch(retried, timeout=60).progress.failed == 2


def test_batch_pause_resume_cancel_and_events(client: Client) -> None:
    batch = client.submit_batch([item(i, seconds=0.3) for i in range(6)], max_concurrent=1)
    assert client.pause_batch(batch.id).status == "paused"
    assert client.resume_batch(batch.id).status in ("queued", "running")
    events = client.batch_events(batch.id)
    first = next(events)
    assert first.data.id == batch.id and first.event == "status"
    cancelled = client.cancel_batch(batch.id, reason="enough")
    assert cancelled.cancel_requested
    rest = list(events)
    assert rest[-1].event == "cancelled" and rest[-1].data.status == "cancelled"
    versions = [e.data.version for e in [first, *rest]]
    assert versions == sorted(set(versions))
    with pytest.raises(Conflict):
        client.pause_batch(batch.id)
