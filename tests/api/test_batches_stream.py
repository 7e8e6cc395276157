"""The two streams of a batch: its results as JSONL (one line per item, in item order, at any
size) and its changes as Server-Sent Events (until the terminal event; resumable)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

import apps
from api.batching import NDJSON, action, bad, get_batch, items_of, ndjson, ok, submit_batch
from api.conftest import JSON, Api, Headers, assert_problem, background_worker
from api.test_events import parse


async def _results(api: Api, headers: Headers, batch_id: str) -> list[JSON]:
    response = await api.client.get(f"/v1/batches/{batch_id}/results", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert response.headers["x-request-id"].startswith("req_")
    assert response.text.endswith("\n")
    return [orjson.loads(line) for line in response.text.splitlines()]


# -- results ----------------------------------------------------------------------------------
async def test_results_are_one_line_per_item_in_item_order(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0), bad(1, apps.FORMAT_ERROR), ok(2)])
    await api.run_worker()
    ids = [item["id"] for item in await items_of(api, auth_a, batch["id"])]

    lines = await _results(api, auth_a, batch["id"])

    assert [line["id"] for line in lines] == ids
    assert [line["status"] for line in lines] == ["completed", "failed", "completed"]
    assert [line["result"]["index"] for line in (lines[0], lines[2])] == [0, 2]
    assert "error" not in lines[0]
    assert "result" not in lines[1]
    error = lines[1]["error"]
    assert error["code"] == apps.FORMAT_ERROR
    assert error["message"] == "item 1 failed on purpose"
    assert error["details"] == {"index": 1}
    assert error["retryable"] is False


async def test_results_while_items_are_still_queued(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0), ok(1)])

    lines = await _results(api, auth_a, batch["id"])

    assert [set(line) for line in lines] == [{"id", "status"}] * 2
    assert {line["status"] for line in lines} == {"queued"}


async def test_results_of_a_partly_run_and_cancelled_batch(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0), ok(1), ok(2)])
    (running,) = await api.storage.jobs_claim("wrk_test", ["batch_item"], 1, 60.0)
    await action(api, auth_a, batch["id"], "cancel")

    lines = await _results(api, auth_a, batch["id"])

    assert [line["status"] for line in lines] == ["running", "cancelled", "cancelled"]
    assert lines[0]["id"] == running.id
    assert all("result" not in line for line in lines)


async def test_results_of_more_items_than_one_read_chunk(api: Api, auth_a: Headers) -> None:
    count = 1200  # the service reads 500 at a time
    response = await api.client.post(
        "/v1/batches",
        content=ndjson([ok(i, n=str(i)) for i in range(count)]),
        headers={**auth_a, **NDJSON},
    )
    assert response.status_code == 202, response.text
    batch_id = response.json()["id"]
    items = await items_of(api, auth_a, batch_id)
    assert [item["metadata"]["n"] for item in items] == [str(i) for i in range(count)]

    lines = await _results(api, auth_a, batch_id)

    assert len(lines) == count
    assert [line["id"] for line in lines] == [item["id"] for item in items]
    assert len({line["id"] for line in lines}) == count


async def test_results_need_a_read_key_of_the_tenant(
    api: Api, auth_a: Headers, auth_b: Headers, auth_read: Headers
) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])
    url = f"/v1/batches/{batch['id']}/results"

    anonymous = await api.client.get(url)
    other = await api.client.get(url, headers=auth_b)
    read_only = await api.client.get(url, headers=auth_read)

    assert_problem(anonymous, 401, "UNAUTHORIZED")
    assert_problem(other, 404, "BATCH_NOT_FOUND")
    assert read_only.status_code == 200


# -- events -----------------------------------------------------------------------------------
async def _events(api: Api, headers: Headers, batch_id: str, **extra: str) -> list[dict[str, Any]]:
    response = await api.client.get(f"/v1/batches/{batch_id}/events", headers={**headers, **extra})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"].startswith("req_")
    assert response.headers["cache-control"] == "no-cache"
    return parse(response.text)


async def test_events_follow_the_batch_until_it_completes(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0), bad(1, "X"), ok(2)])

    async def finish_later() -> None:
        await asyncio.sleep(0.2)
        await api.run_worker()

    finisher = asyncio.create_task(finish_later())
    events = await asyncio.wait_for(_events(api, auth_a, batch["id"]), 15)
    await finisher

    assert events[0]["event"] == "status"
    assert events[0]["data"]["status"] == "queued"
    assert events[0]["data"]["id"] == batch["id"]
    assert events[-1]["event"] == "completed"
    final = events[-1]["data"]
    assert final["status"] == "completed"
    assert (final["progress"]["completed"], final["progress"]["failed"]) == (2, 1)
    versions = [int(event["id"]) for event in events]
    assert versions == sorted(set(versions))
    assert [event["data"]["version"] for event in events] == versions
    assert versions[-1] == (await get_batch(api, auth_a, batch["id"]))["version"]
    assert all(event["event"] in ("status", "progress", "completed") for event in events)


async def test_events_end_with_cancelled_when_the_batch_is_cancelled(
    api: Api, auth_a: Headers
) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])

    async def cancel_later() -> None:
        await asyncio.sleep(0.2)
        await action(api, auth_a, batch["id"], "cancel", reason="enough")

    canceller = asyncio.create_task(cancel_later())
    events = await asyncio.wait_for(_events(api, auth_a, batch["id"]), 15)
    await canceller

    assert [event["event"] for event in events] == ["status", "cancelled"]
    assert events[-1]["data"]["status_reason"] == "enough"


async def test_resuming_after_the_last_version_of_a_finished_batch_sends_nothing(
    api: Api, auth_a: Headers
) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])
    await api.run_worker()
    final = await get_batch(api, auth_a, batch["id"])

    events = await _events(api, auth_a, batch["id"], **{"Last-Event-ID": str(final["version"])})

    assert events == []


async def test_resuming_from_an_older_version_sends_the_current_state(
    api: Api, auth_a: Headers
) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])
    await api.run_worker()

    events = await _events(api, auth_a, batch["id"], **{"Last-Event-ID": str(batch["version"])})

    (event,) = events
    assert event["event"] == "completed"
    assert int(event["id"]) > batch["version"]
    assert event["data"]["progress"]["completed"] == 1


async def test_events_report_pause_and_resume_as_status_events(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])

    async def steer() -> None:
        for verb in ("pause", "resume", "cancel"):
            await asyncio.sleep(0.2)
            await action(api, auth_a, batch["id"], verb)

    steering = asyncio.create_task(steer())
    events = await asyncio.wait_for(_events(api, auth_a, batch["id"]), 15)
    await steering

    assert [(event["event"], event["data"]["status"]) for event in events] == [
        ("status", "queued"),
        ("status", "paused"),
        ("status", "queued"),
        ("cancelled", "cancelled"),
    ]


async def test_events_go_on_until_the_running_items_of_a_cancelled_batch_stopped(
    api: Api, auth_a: Headers
) -> None:
    batch = await submit_batch(api, auth_a, [ok(i, seconds=10) for i in range(3)], max_concurrent=1)

    async def cancel_once_running() -> None:
        url = f"/v1/batches/{batch['id']}"
        while (await api.client.get(url, headers=auth_a)).json()["status"] != "running":
            await asyncio.sleep(0.05)
        response = await api.client.post(f"{url}/cancel", headers=auth_a)
        assert response.status_code == 202, response.text

    async with background_worker(api):
        canceller = asyncio.create_task(cancel_once_running())
        events = await asyncio.wait_for(_events(api, auth_a, batch["id"]), 15)
        await canceller

    stopping = [e for e in events if e["data"]["cancel_requested"] and e["event"] != "cancelled"]
    assert stopping and {e["data"]["status"] for e in stopping} == {"running"}
    assert events[-1]["event"] == "cancelled"
    final = events[-1]["data"]["progress"]
    assert (final["processing"], final["cancelled"], final["total"]) == (0, 3, 3)
