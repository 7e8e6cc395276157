"""Pause, resume, cancel and retry-failed (each legal change and the 409 for every illegal one),
items that cannot be deleted one by one, and the two listings: batches and a batch's jobs."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

import pytest

from api.batching import (
    action,
    bad,
    get_batch,
    items_of,
    ok,
    submit_batch,
)
from api.conftest import JSON, Api, Headers, assert_problem, background_worker
from joblane.core import ids
from joblane.storage.params import WorkerRecord


async def _live_worker(api: Api, *types: str) -> None:
    """A worker record serving `types`, so a queued item's waiting_reason says more than
    `no_worker_for_type`."""
    now = api.storage.now()
    record = WorkerRecord(ids.new_id("wrk"), socket.gethostname(), os.getpid(), types, 1, now, now)
    await api.storage.worker_upsert(record)


async def _item(api: Api, headers: Headers, job_id: str) -> JSON:
    response = await api.client.get(f"/v1/jobs/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    job: JSON = response.json()
    return job


# -- pause / resume ---------------------------------------------------------------------------
async def test_a_paused_batch_runs_nothing_until_resumed(api: Api, auth_a: Headers) -> None:
    await _live_worker(api, "batch_item", "noop")
    batch = await submit_batch(api, auth_a, [ok(i) for i in range(3)])

    paused = await action(api, auth_a, batch["id"], "pause")
    unbatched = await api.submit(auth_a, "noop")

    assert paused["status"] == "paused"
    assert paused["version"] > batch["version"]
    assert await api.run_worker() == 1  # only the unbatched job
    assert (await _item(api, auth_a, unbatched["id"]))["status"] == "completed"
    items = await items_of(api, auth_a, batch["id"])
    assert {item["status"] for item in items} == {"queued"}
    waiting = await _item(api, auth_a, items[0]["id"])
    assert waiting["waiting_reason"] == "batch_paused"
    assert (await get_batch(api, auth_a, batch["id"]))["status"] == "paused"

    resumed = await action(api, auth_a, batch["id"], "resume")

    assert resumed["status"] == "queued"
    assert resumed["version"] > paused["version"]
    assert await api.run_worker() == 3
    done = await get_batch(api, auth_a, batch["id"])
    assert done["status"] == "completed"
    assert done["progress"]["completed"] == 3
    assert {item["status"] for item in await items_of(api, auth_a, batch["id"])} == {"completed"}


async def test_pausing_or_resuming_twice_answers_the_same(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])

    resumed_while_active = await action(api, auth_a, batch["id"], "resume")
    first = await action(api, auth_a, batch["id"], "pause")
    second = await action(api, auth_a, batch["id"], "pause")
    resumed = await action(api, auth_a, batch["id"], "resume")
    again = await action(api, auth_a, batch["id"], "resume")

    assert resumed_while_active["version"] == batch["version"]
    assert (first["status"], first["version"]) == (second["status"], second["version"])
    assert first["status"] == "paused"
    assert (resumed["status"], resumed["version"]) == (again["status"], again["version"])


# -- cancel -----------------------------------------------------------------------------------
async def test_cancel_cancels_every_unfinished_item_with_the_reason(
    api: Api, auth_a: Headers
) -> None:
    batch = await submit_batch(api, auth_a, [ok(i) for i in range(4)])

    cancelled = await action(api, auth_a, batch["id"], "cancel", reason="wrong input file")

    assert cancelled["status"] == "cancelled"
    assert cancelled["status_reason"] == "wrong input file"
    assert cancelled["progress"]["cancelled"] == cancelled["progress"]["total"] == 4
    assert cancelled["timing"]["completed_at"] is not None
    items = await items_of(api, auth_a, batch["id"])
    assert {(item["status"], item["cancel_reason"]) for item in items} == {
        ("cancelled", "wrong input file")
    }
    assert await api.run_worker() == 0

    again = await api.client.post(f"/v1/batches/{batch['id']}/cancel", headers=auth_a)
    body = assert_problem(again, 409, "CONFLICT")
    assert body["details"] == {"batch_id": batch["id"], "status": "cancelled"}
    for verb in ("pause", "resume", "retry-failed"):
        response = await api.client.post(f"/v1/batches/{batch['id']}/{verb}", headers=auth_a)
        assert_problem(response, 409, "CONFLICT")


async def test_cancel_a_paused_batch_without_a_reason(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])
    await action(api, auth_a, batch["id"], "pause")

    response = await api.client.post(f"/v1/batches/{batch['id']}/cancel", headers=auth_a)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["status_reason"] is None


async def _until(api: Api, headers: Headers, batch_id: str, done: Callable[[JSON], bool]) -> JSON:
    """Long-poll the batch until `done(batch)` (at most 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        response = await api.client.get(
            f"/v1/batches/{batch_id}", headers={**headers, "Prefer": "wait=1"}
        )
        batch: JSON = response.json()
        if done(batch) or time.monotonic() > deadline:
            return batch


async def test_cancel_with_a_running_item_is_202_until_it_stopped(
    api: Api, auth_a: Headers
) -> None:
    jobs = [ok(i, seconds=10) for i in range(3)]
    batch = await submit_batch(api, auth_a, jobs, max_concurrent=1)
    url = f"/v1/batches/{batch['id']}"

    async with background_worker(api):
        started = await _until(api, auth_a, batch["id"], lambda b: b["status"] == "running")
        response = await api.client.post(f"{url}/cancel", json={"reason": "stop"}, headers=auth_a)
        assert response.status_code == 202, response.text
        stopping = response.json()
        (running,) = await items_of(api, auth_a, batch["id"], status="running")
        refused = [
            (await api.client.post(f"{url}/{verb}", headers=auth_a)).status_code
            for verb in ("pause", "resume", "retry-failed")
        ]
        final = await _until(api, auth_a, batch["id"], lambda b: b["status"] == "cancelled")

    assert started["progress"]["processing"] == 1
    assert (stopping["status"], stopping["cancel_requested"]) == ("running", True)
    assert stopping["status_reason"] == "stop"
    assert (stopping["progress"]["processing"], stopping["progress"]["cancelled"]) == (1, 2)
    assert "retry-after" in response.headers
    assert (running["cancel_requested"], running["cancel_reason"]) == (True, "stop")
    assert refused == [409, 409, 409]
    assert final["status"] == "cancelled"
    assert final["progress"]["cancelled"] == final["progress"]["total"] == 3
    assert final["timing"]["completed_at"] is not None
    again = await api.client.post(f"{url}/cancel", headers=auth_a)
    assert_problem(again, 409, "CONFLICT")


@pytest.mark.parametrize("verb", ["pause", "resume", "cancel"])
async def test_a_finished_batch_cannot_be_paused_resumed_or_cancelled(
    api: Api, auth_a: Headers, verb: str
) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])
    await api.run_worker()

    response = await api.client.post(f"/v1/batches/{batch['id']}/{verb}", headers=auth_a)

    body = assert_problem(response, 409, "CONFLICT")
    assert body["details"]["status"] == "completed"
    assert (await get_batch(api, auth_a, batch["id"]))["status"] == "completed"


async def test_actions_need_the_write_scope(api: Api, auth_a: Headers, auth_read: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])

    for verb in ("pause", "resume", "cancel", "retry-failed"):
        response = await api.client.post(f"/v1/batches/{batch['id']}/{verb}", headers=auth_read)
        assert_problem(response, 403, "FORBIDDEN")
    assert (await get_batch(api, auth_read, batch["id"]))["version"] == batch["version"]


# -- retry-failed -----------------------------------------------------------------------------
async def test_retry_failed_requeues_only_the_failed_items(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0), bad(1, "X"), ok(2), bad(3, "Y")])
    await api.run_worker()
    before = {item["id"]: item for item in await items_of(api, auth_a, batch["id"])}

    response = await api.client.post(f"/v1/batches/{batch['id']}/retry-failed", headers=auth_a)

    assert response.status_code == 202, response.text
    assert response.headers["joblane-retried-items"] == "2"
    retried = response.json()
    assert retried["status"] == "running"
    assert retried["progress"]["pending"] == 2
    assert retried["progress"]["completed"] == 2 and retried["progress"]["failed"] == 0
    after = {item["id"]: item for item in await items_of(api, auth_a, batch["id"])}
    for job_id, item in after.items():
        if before[job_id]["status"] == "completed":
            assert item == before[job_id] | {"retry_after": item["retry_after"]}
        else:
            assert (item["status"], item["attempt"]) == ("queued", 2)
    summary = await get_batch(api, auth_a, batch["id"])
    assert summary["error_summary"] == []

    assert await api.run_worker() == 2
    final = await get_batch(api, auth_a, batch["id"])
    assert final["status"] == "completed"
    assert final["progress"]["failed"] == 2
    assert sum(group["count"] for group in final["error_summary"]) == 2


async def test_retry_failed_without_failed_items_is_409(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])
    queued = await api.client.post(f"/v1/batches/{batch['id']}/retry-failed", headers=auth_a)
    await api.run_worker()

    done = await api.client.post(f"/v1/batches/{batch['id']}/retry-failed", headers=auth_a)

    assert_problem(queued, 409, "CONFLICT", detail="no failed items")
    assert_problem(done, 409, "CONFLICT", detail="no failed items")


async def test_retry_failed_brings_a_failed_batch_back(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [bad(0, "X")])
    await api.run_worker()
    assert (await get_batch(api, auth_a, batch["id"]))["status"] == "failed"

    retried = await action(api, auth_a, batch["id"], "retry-failed")

    assert retried["status"] == "running"  # it started before: not `queued` again
    assert retried["progress"]["pending"] == 1
    assert retried["timing"]["completed_at"] is None


# -- items are managed through their batch ----------------------------------------------------
@pytest.mark.parametrize("finished", [False, True])
async def test_deleting_a_batch_item_is_409(api: Api, auth_a: Headers, finished: bool) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])
    if finished:
        await api.run_worker()
    (item,) = await items_of(api, auth_a, batch["id"])

    response = await api.client.delete(f"/v1/jobs/{item['id']}", headers=auth_a)

    body = assert_problem(response, 409, "CONFLICT")
    if finished:
        assert body["details"] == {"job_id": item["id"], "batch_id": batch["id"]}
    assert (await _item(api, auth_a, item["id"]))["batch_id"] == batch["id"]


async def test_an_item_of_a_cancelled_batch_cannot_be_retried_one_by_one(
    api: Api, auth_a: Headers
) -> None:
    batch = await submit_batch(api, auth_a, [ok(0), ok(1)])
    cancelled = await action(api, auth_a, batch["id"], "cancel")
    first = (await items_of(api, auth_a, batch["id"]))[0]

    response = await api.client.post(f"/v1/jobs/{first['id']}/retry", headers=auth_a)
    await api.run_worker()

    assert_problem(response, 409, "CONFLICT")
    after = await get_batch(api, auth_a, batch["id"])
    assert (after["status"], after["progress"]) == ("cancelled", cancelled["progress"])


# -- listings ---------------------------------------------------------------------------------
async def test_batches_list_newest_first_in_pages_per_tenant(
    api: Api, auth_a: Headers, auth_b: Headers
) -> None:
    mine = [(await submit_batch(api, auth_a, [ok(0)], name=f"a{i}"))["id"] for i in range(5)]
    theirs = await submit_batch(api, auth_b, [ok(0)])
    seen: list[JSON] = []
    cursor: str | None = None

    while True:
        params: JSON = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await api.client.get("/v1/batches", params=params, headers=auth_a)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["object"] == "list" and len(page["data"]) <= 2
        seen.extend(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert [batch["id"] for batch in seen] == mine[::-1]
    assert [batch["name"] for batch in seen] == ["a4", "a3", "a2", "a1", "a0"]
    assert {"status", "progress", "timing"} <= set(seen[0])
    other = await api.client.get("/v1/batches", headers=auth_b)
    assert [batch["id"] for batch in other.json()["data"]] == [theirs["id"]]


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "1001"}, {"cursor": "job_" + "0" * 26}, {"x": "1"}]
)
async def test_batches_list_refuses_bad_parameters(
    api: Api, auth_a: Headers, params: dict[str, str]
) -> None:
    response = await api.client.get("/v1/batches", params=params, headers=auth_a)

    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_batch_jobs_in_item_order_filtered_and_paged(api: Api, auth_a: Headers) -> None:
    jobs = [ok(0), bad(1, "X"), ok(2), bad(3, "X"), ok(4)]
    batch = await submit_batch(api, auth_a, jobs)
    await submit_batch(api, auth_a, [ok(9)])  # another batch's items never show
    await api.run_worker()
    url = f"/v1/batches/{batch['id']}/jobs"

    everything = await items_of(api, auth_a, batch["id"])
    failed = await items_of(api, auth_a, batch["id"], status="failed")
    both = await items_of(api, auth_a, batch["id"], status="failed,completed")
    first = (await api.client.get(url, params={"limit": 2}, headers=auth_a)).json()
    second = (
        await api.client.get(
            url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth_a
        )
    ).json()
    unknown = await api.client.get(url, params={"status": "sleeping"}, headers=auth_a)

    ids_ = [item["id"] for item in everything]
    assert ids_ == sorted(ids_) and len(ids_) == 5
    assert [item["status"] for item in everything] == [
        "completed", "failed", "completed", "failed", "completed"
    ]  # fmt: skip
    assert {item["batch_id"] for item in everything} == {batch["id"]}
    assert [item["id"] for item in failed] == [ids_[1], ids_[3]]
    assert [item["id"] for item in both] == ids_
    assert [item["id"] for item in first["data"] + second["data"]] == ids_[:4]
    assert first["object"] == "list"
    assert_problem(unknown, 422, "VALIDATION_ERROR")
