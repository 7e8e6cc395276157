"""GET /v1/batches/{id}: counts, timing and error summary after a run, the views the query picks,
the response metadata, ETags and long-polls (ids on every endpoint: test_batches_ids.py)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

import apps
from api.batching import (
    assert_validation_error,
    bad,
    get_batch,
    items_of,
    ok,
    submit_batch,
)
from api.conftest import JSON, Api, Headers, background_worker, serve
from joblane.app import Joblane
from joblane.core.job import Lease
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.storage.params import Outcome

BASE_KEYS = {
    *("id", "object", "name", "status", "status_reason", "cancel_requested", "version"),
    *("progress", "timing"),
}
# item 1 and 4: resolution from the handler's error; 3: from the type's registered hints
MIXED = [
    ok(0),
    bad(1, apps.FORMAT_ERROR),
    ok(2),
    bad(3, apps.LOOKUP_FAILED),
    bad(4, apps.FORMAT_ERROR),
    bad(5, "UNHINTED"),
    ok(6),
]


def _when(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


async def _ran(api: Api, headers: Headers, jobs: list[JSON]) -> tuple[JSON, list[str]]:
    """Submit `jobs` as a batch, run every item; the batch id's body and its item ids."""
    batch = await submit_batch(api, headers, jobs)
    assert await api.run_worker() == len(jobs)
    items = await items_of(api, headers, batch["id"])
    return batch, [item["id"] for item in items]


async def test_counts_status_timing_and_error_summary_after_a_run(
    api: Api, auth_a: Headers
) -> None:
    submitted, ids = await _ran(api, auth_a, MIXED)

    response = await api.client.get(f"/v1/batches/{submitted['id']}", headers=auth_a)

    assert response.status_code == 200
    batch = response.json()
    assert batch["status"] == "completed"
    assert batch["progress"] == {
        "percentage": 100.0,
        "completed": 3,
        "failed": 4,
        "pending": 0,
        "processing": 0,
        "cancelled": 0,
        "total": 7,
    }
    assert batch["version"] > submitted["version"]
    timing = batch["timing"]
    created, started = _when(timing["created_at"]), _when(timing["started_at"])
    completed = _when(timing["completed_at"])
    assert created <= started <= completed
    assert timing["estimated_completion"] is None
    assert timing["elapsed_time"] == pytest.approx(completed - created, abs=0.01)
    assert isinstance(timing["average_item_time"], float)
    assert 0 <= timing["average_item_time"] <= completed - started + 0.01
    groups = batch["error_summary"]
    assert groups[0] == {
        "error_type": apps.FORMAT_ERROR,
        "count": 2,
        "affected_jobs": [ids[1], ids[4]],
        "affected_jobs_total": 2,
        "resolution": apps.ERROR_RESOLUTIONS[apps.FORMAT_ERROR],
    }
    rest = sorted(groups[1:], key=lambda group: str(group["error_type"]))
    assert rest == [
        {
            "error_type": apps.LOOKUP_FAILED,
            "count": 1,
            "affected_jobs": [ids[3]],
            "affected_jobs_total": 1,
            "resolution": apps.BATCH_ITEM_HINTS[apps.LOOKUP_FAILED],
        },
        {
            "error_type": "UNHINTED",
            "count": 1,
            "affected_jobs": [ids[5]],
            "affected_jobs_total": 1,
            "resolution": None,
        },
    ]
    assert response.headers["cache-control"] == "private, max-age=60"
    assert "retry-after" not in response.headers
    assert batch["metadata"]["cache_ttl"] == 60


async def test_a_registered_hint_comes_from_the_failing_items_own_type(
    storage: Storage,
) -> None:
    registry = Joblane("hints")
    for name in ("alpha", "beta"):  # both register a hint for the same code
        hints = {"BAD": f"what {name} suggests"}
        registry.job_type(name, input=apps.Fail, max_attempts=1, resolutions=hints)(apps.fail)
    async with serve(storage, registry) as api:
        headers = await api.headers_for("tenant-a")
        batch = await submit_batch(api, headers, [{"type": "beta", "input": {"code": "BAD"}}])
        await api.run_worker()

        after = await get_batch(api, headers, batch["id"])

    assert after["error_summary"][0]["resolution"] == "what beta suggests"


async def test_error_summary_samples_ten_ids_and_shows_twenty_codes(
    api: Api, auth_a: Headers
) -> None:
    jobs = [bad(i, "COMMON") for i in range(12)] + [bad(i, f"RARE_{i:02}") for i in range(21)]
    batch, ids = await _ran(api, auth_a, jobs)

    groups = (await get_batch(api, auth_a, batch["id"]))["error_summary"]

    assert len(groups) == 20
    common = groups[0]
    assert (common["error_type"], common["count"], common["affected_jobs_total"]) == (
        "COMMON",
        12,
        12,
    )
    assert common["affected_jobs"] == ids[:10]
    assert all(group["count"] == 1 for group in groups[1:])


async def test_a_batch_whose_every_item_failed_is_failed(api: Api, auth_a: Headers) -> None:
    batch, _ = await _ran(api, auth_a, [bad(0, "X"), bad(1, "X")])

    after = await get_batch(api, auth_a, batch["id"])

    assert after["status"] == "failed"
    assert after["progress"]["failed"] == after["progress"]["total"] == 2
    assert after["error_summary"][0]["count"] == 2


async def test_a_claimed_item_makes_the_batch_running(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0), ok(1)])
    await api.claim("batch_item")

    after = await get_batch(api, auth_a, batch["id"])

    assert after["status"] == "running"
    assert after["progress"]["processing"] == 2
    assert after["timing"]["started_at"] is not None
    assert after["timing"]["completed_at"] is None


async def test_a_running_batch_estimates_its_completion(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(i) for i in range(6)])
    claimed = await api.storage.jobs_claim("wrk_test", ["batch_item"], 3, 60.0)
    await asyncio.sleep(0.05)
    outcomes = []
    for job in claimed[:2]:
        assert job.lease_token is not None
        lease = Lease(job.id, job.lease_token)
        outcomes.append(Outcome(lease, JobState.COMPLETED, result={"index": 0}))
    await api.storage.jobs_finish(outcomes)

    response = await api.client.get(f"/v1/batches/{batch['id']}", headers=auth_a)

    body = response.json()
    assert body["status"] == "running"
    assert body["progress"]["completed"] == 2 and body["progress"]["processing"] == 1
    eta = body["timing"]["estimated_completion"]
    assert eta is not None and _when(eta) >= _when(body["timing"]["started_at"])
    assert body["timing"]["completed_at"] is None
    assert isinstance(body["timing"]["average_item_time"], float)
    assert 1 <= body["metadata"]["cache_ttl"] <= 30
    assert int(response.headers["retry-after"]) == body["metadata"]["cache_ttl"]


async def test_job_details_page_through_the_items_in_order(api: Api, auth_a: Headers) -> None:
    batch, ids = await _ran(api, auth_a, MIXED)
    pages: list[list[JSON]] = []
    cursor: str | None = None

    while True:
        params: JSON = {"include_job_details": "true", "job_details_limit": 3}
        if cursor:
            params["job_details_cursor"] = cursor
        body = await get_batch(api, auth_a, batch["id"], **params)
        pages.append(body["job_details"])
        cursor = body["job_details_next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [3, 3, 1]
    details = [detail for page in pages for detail in page]
    assert [detail["job_id"] for detail in details] == ids
    assert [detail["status"] for detail in details] == [
        "completed", "failed", "completed", "failed", "failed", "failed", "completed"
    ]  # fmt: skip
    first, second = details[0], details[1]
    assert first["error"] is None and first["progress"]["percentage"] == 100.0
    assert first["started_at"] is not None and first["completed_at"] is not None
    assert second["error"]["code"] == apps.FORMAT_ERROR
    assert second["error"]["resolution"] == apps.ERROR_RESOLUTIONS[apps.FORMAT_ERROR]
    assert {"metadata", "attempt", "progress"} <= set(first)


async def test_views_chosen_by_the_query(api: Api, auth_a: Headers) -> None:
    batch, _ = await _ran(api, auth_a, MIXED)
    url = batch["id"]

    full = await get_batch(api, auth_a, url)
    metrics = await get_batch(api, auth_a, url, metrics_only="true", include_job_details="true")
    no_errors = await get_batch(api, auth_a, url, include_errors="false")
    some = await get_batch(api, auth_a, url, fields="status,progress")

    assert set(full) == BASE_KEYS | {"error_summary", "batch_configuration", "metadata"}
    assert "job_details" not in full
    assert set(metrics) == BASE_KEYS | {"metadata"}
    assert set(no_errors) == BASE_KEYS | {"batch_configuration", "metadata"}
    assert set(some) == {"id", "status", "progress"}
    assert some["progress"] == full["progress"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"include_job_details": "maybe"}, "include_job_details"),
        ({"metrics_only": "2"}, "metrics_only"),
        ({"job_details_limit": "0"}, "job_details_limit"),
        ({"job_details_limit": "1001"}, "job_details_limit"),
        ({"job_details_cursor": "abc"}, "job_details_cursor"),
    ],
)
async def test_bad_query_parameters_are_422(
    api: Api, auth_a: Headers, params: dict[str, str], field: str
) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])

    response = await api.client.get(f"/v1/batches/{batch['id']}", params=params, headers=auth_a)

    assert_validation_error(response, "query", ["query", field])


async def test_response_metadata_and_polling_hints(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])

    response = await api.client.get(f"/v1/batches/{batch['id']}", headers=auth_a)
    echoed = await api.client.get(
        f"/v1/batches/{batch['id']}", headers={**auth_a, "X-Request-Id": "trace-42"}
    )

    metadata = response.json()["metadata"]
    assert metadata["request_id"] == response.headers["x-request-id"]
    assert metadata["request_id"].startswith("req_")
    assert echoed.json()["metadata"]["request_id"] == "trace-42"
    assert metadata["api_version"] == "1.0.0"
    assert isinstance(metadata["cache_ttl"], int) and metadata["cache_ttl"] >= 1
    assert 0 <= metadata["cache_remaining"] <= metadata["cache_ttl"]
    assert int(response.headers["retry-after"]) == metadata["cache_ttl"]
    assert response.headers["cache-control"] == "no-cache"


async def test_if_none_match_is_304_until_the_batch_changes(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])
    url, tag = f"/v1/batches/{batch['id']}", f'"{batch["version"]}"'

    fresh = await api.client.get(url, headers={**auth_a, "If-None-Match": tag})
    weak = await api.client.get(url, headers={**auth_a, "If-None-Match": f"W/{tag}"})
    await api.claim("batch_item")
    changed = await api.client.get(url, headers={**auth_a, "If-None-Match": tag})

    assert fresh.status_code == weak.status_code == 304
    assert fresh.content == b""
    assert fresh.headers["etag"] == tag
    assert changed.status_code == 200
    assert changed.json()["version"] > batch["version"]
    assert changed.headers["etag"] == f'"{changed.json()["version"]}"'


async def test_prefer_wait_returns_as_soon_as_an_item_changes(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0, seconds=0.2)])
    url = f"/v1/batches/{batch['id']}"

    started = time.monotonic()
    waiting = asyncio.create_task(api.client.get(url, headers={**auth_a, "Prefer": "wait=2"}))
    await asyncio.sleep(0.2)
    async with background_worker(api):
        response = await waiting
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.json()["version"] > batch["version"]
    assert response.headers["preference-applied"] == "wait=2"
    assert 0.2 <= elapsed < 1.8


async def test_prefer_wait_without_a_change_answers_after_the_wait(
    api: Api, auth_a: Headers
) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])

    started = time.monotonic()
    response = await api.client.get(
        f"/v1/batches/{batch['id']}", headers={**auth_a, "Prefer": "wait=1"}
    )

    assert 0.9 <= time.monotonic() - started < 3
    assert response.status_code == 200
    assert response.json()["version"] == batch["version"]


async def test_prefer_wait_on_a_finished_batch_answers_at_once(api: Api, auth_a: Headers) -> None:
    batch, _ = await _ran(api, auth_a, [ok(0)])

    started = time.monotonic()
    response = await api.client.get(
        f"/v1/batches/{batch['id']}", headers={**auth_a, "Prefer": "wait=3"}
    )

    assert time.monotonic() - started < 1
    assert response.json()["status"] == "completed"


async def test_a_long_poll_that_times_out_says_it_waited(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])
    url = f"/v1/batches/{batch['id']}"
    tag = f'"{batch["version"]}"'

    response = await api.client.get(
        url, headers={**auth_a, "Prefer": "wait=0.3", "If-None-Match": tag}
    )

    assert response.status_code == 304
    assert response.headers["preference-applied"] == "wait=0.3"
