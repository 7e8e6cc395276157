"""POST /v1/jobs: the 202 and its headers, validation, limits, disabled types, idempotency and
`Prefer: wait=N`."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

import apps
from api.conftest import Api, Headers, assert_problem, background_worker, serve
from joblane.app import Joblane
from joblane.storage.base import Storage

JOB_ID = re.compile(r"^job_[0-9A-HJKMNP-TV-Z]{26}$")
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


async def test_submit_answers_202_with_location_retry_after_and_the_job(
    client: httpx.AsyncClient, auth_a: Headers
) -> None:
    response = await client.post(
        "/v1/jobs",
        json={"type": "nap", "input": {"seconds": 0.5}, "metadata": {"customer_ref": "A-17"}},
        headers=auth_a,
    )

    assert response.status_code == 202
    job = response.json()
    assert JOB_ID.match(job["id"])
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["content-type"] == "application/json"
    assert job["object"] == "job"
    assert job["type"] == "nap"
    assert job["status"] == "queued"
    assert (job["version"], job["attempt"]) == (1, 1)
    assert (job["max_attempts"], job["timeout"], job["priority"]) == (3, 600.0, 0)
    assert isinstance(job["timeout"], float)
    assert job["metadata"] == {"customer_ref": "A-17"}
    assert job["result"] is None and job["error"] is None
    assert "input" not in job
    assert job["idempotency_key"] is None
    assert RFC3339_Z.match(job["created_at"]) and RFC3339_Z.match(job["scheduled_at"])
    assert job["started_at"] is None and job["completed_at"] is None
    assert job["retry_after"] == int(response.headers["retry-after"])
    assert job["waiting_reason"] == "no_worker_for_type"


async def test_defaults_come_from_the_job_type_and_can_be_overridden(
    api: Api, auth_a: Headers
) -> None:
    fail = await api.submit(auth_a, "fail")
    crash = await api.submit(auth_a, "crash")
    custom = await api.submit(auth_a, "nap", max_attempts=7, timeout=12.5, priority=9)

    assert fail["max_attempts"] == 2
    assert crash["max_attempts"] == 1
    assert (custom["max_attempts"], custom["timeout"], custom["priority"]) == (7, 12.5, 9)


async def test_include_input_returns_the_validated_input(
    client: httpx.AsyncClient, auth_a: Headers
) -> None:
    response = await client.post(
        "/v1/jobs?include=input", json={"type": "echo", "input": {"value": 7}}, headers=auth_a
    )

    assert response.status_code == 202
    assert response.json()["input"] == {"value": 7}


async def test_run_at_in_the_future_schedules_the_job(api: Api, auth_a: Headers) -> None:
    run_at = datetime.now(UTC) + timedelta(seconds=20)

    job = await api.submit(auth_a, "noop", run_at=run_at.isoformat().replace("+00:00", "Z"))

    scheduled = datetime.fromisoformat(job["scheduled_at"].replace("Z", "+00:00"))
    assert abs((scheduled - run_at).total_seconds()) < 0.01
    assert job["waiting_reason"] == "scheduled"
    assert 15 <= job["retry_after"] <= 20


async def test_input_is_validated_against_the_job_types_model(
    client: httpx.AsyncClient, auth_a: Headers
) -> None:
    response = await client.post(
        "/v1/jobs", json={"type": "echo", "input": {"value": "not a number"}}, headers=auth_a
    )

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["loc"] == ["body", "input", "value"]
    assert error["msg"] and error["type"] == "int_parsing"


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"type": "nosuchtype", "input": {}}, ["body", "type"]),
        ({"type": "noop", "input": {}, "colour": "red"}, ["body", "colour"]),
        ({"type": "noop"}, ["body", "input"]),
        ({"type": "noop", "input": {}, "priority": 1000}, ["body", "priority"]),
        ({"type": "noop", "input": {}, "metadata": {"n": 1}}, ["body", "metadata", "n"]),
        ({"type": "noop", "input": {}, "callback_url": "not a url"}, ["body", "callback_url"]),
        ({"type": "noop", "input": [1, 2]}, ["body", "input"]),
        ({"type": "noop", "input": {}, "priority": True}, ["body", "priority"]),
        ({"type": "noop", "input": {}, "max_attempts": "3"}, ["body", "max_attempts"]),
    ],
    ids=[
        "unknown-type",
        "extra-field",
        "no-input",
        "priority",
        "metadata",
        "callback",
        "list",
        "boolean-number",
        "string-number",
    ],
)
async def test_invalid_bodies_are_422_with_the_failing_field(
    client: httpx.AsyncClient, auth_a: Headers, payload: dict[str, object], loc: list[str]
) -> None:
    response = await client.post("/v1/jobs", json=payload, headers=auth_a)

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [error["loc"] for error in body["errors"]] == [loc]
    assert all(error["msg"] for error in body["errors"])


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[]", b'"noop"', b"\xff\xfe"])
async def test_a_body_that_is_not_a_json_object_is_422(
    client: httpx.AsyncClient, auth_a: Headers, raw: bytes
) -> None:
    headers = {**auth_a, "Content-Type": "application/json"}

    response = await client.post("/v1/jobs", content=raw, headers=headers)

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"] and all(error["loc"][0] == "body" for error in body["errors"])


async def test_a_body_over_the_limit_is_413(client: httpx.AsyncClient, auth_a: Headers) -> None:
    big = {"type": "noop", "input": {}, "metadata": {"blob": "x" * (64 * 1024)}}

    response = await client.post("/v1/jobs", json=big, headers=auth_a)

    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    listed = await client.get("/v1/jobs", headers=auth_a)
    assert listed.json()["data"] == []


async def test_a_streamed_body_without_content_length_is_cut_at_the_limit(
    client: httpx.AsyncClient, auth_a: Headers
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"type": "noop", "input": {}, "metadata": {"blob": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}}'

    headers = {**auth_a, "Content-Type": "application/json"}
    response = await client.post("/v1/jobs", content=chunks(), headers=headers)

    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")


async def test_a_disabled_job_type_is_501(storage: Storage) -> None:
    registry = Joblane("disabled")
    registry.job_type("noop", input=apps.Empty)(apps.noop)
    registry.job_type("echo", input=apps.Echo)(apps.echo)
    registry.disable("echo")
    async with serve(storage, registry) as api:
        headers = await api.headers_for("tenant-a")

        response = await api.client.post(
            "/v1/jobs", json={"type": "echo", "input": {}}, headers=headers
        )
        enabled = await api.client.post(
            "/v1/jobs", json={"type": "noop", "input": {}}, headers=headers
        )

    assert_problem(response, 501, "NOT_IMPLEMENTED", detail="echo")
    assert enabled.status_code == 202


async def test_idempotency_key_replays_the_same_job(
    client: httpx.AsyncClient, auth_a: Headers
) -> None:
    payload = {"type": "echo", "input": {"value": 3}, "metadata": {"k": "v"}}
    headers = {**auth_a, "Idempotency-Key": "order-17"}

    first = await client.post("/v1/jobs", json=payload, headers=headers)
    second = await client.post("/v1/jobs", json=payload, headers=headers)

    assert first.status_code == second.status_code == 202
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["location"] == first.headers["location"]
    assert first.json()["idempotency_key"] == "order-17"
    listed = await client.get("/v1/jobs", headers=auth_a)
    assert [job["id"] for job in listed.json()["data"]] == [first.json()["id"]]


async def test_idempotency_key_with_a_different_body_is_422(
    client: httpx.AsyncClient, auth_a: Headers
) -> None:
    headers = {**auth_a, "Idempotency-Key": "order-18"}
    first = await client.post(
        "/v1/jobs", json={"type": "echo", "input": {"value": 1}}, headers=headers
    )

    second = await client.post(
        "/v1/jobs", json={"type": "echo", "input": {"value": 2}}, headers=headers
    )

    assert first.status_code == 202
    assert_problem(second, 422, "IDEMPOTENCY_KEY_MISMATCH")


async def test_idempotency_keys_are_per_tenant(
    client: httpx.AsyncClient, auth_a: Headers, auth_b: Headers
) -> None:
    payload = {"type": "noop", "input": {}}

    a = await client.post("/v1/jobs", json=payload, headers={**auth_a, "Idempotency-Key": "k"})
    b = await client.post("/v1/jobs", json=payload, headers={**auth_b, "Idempotency-Key": "k"})

    assert a.status_code == b.status_code == 202
    assert "idempotent-replayed" not in b.headers
    assert a.json()["id"] != b.json()["id"]


async def test_prefer_wait_answers_200_with_the_finished_job(api: Api, auth_a: Headers) -> None:
    headers = {**auth_a, "Prefer": "wait=4"}
    async with background_worker(api):
        started = time.monotonic()
        response = await api.client.post(
            "/v1/jobs", json={"type": "echo", "input": {"value": 41}}, headers=headers
        )
        elapsed = time.monotonic() - started

    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "completed"
    assert job["result"] == {"value": 41}
    assert response.headers["preference-applied"] == "wait=4"
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert "retry-after" not in response.headers
    assert elapsed < 3


async def test_prefer_wait_answers_202_when_the_job_is_not_done_in_time(
    api: Api, auth_a: Headers
) -> None:
    headers = {**auth_a, "Prefer": "wait=0.3"}
    async with background_worker(api):
        started = time.monotonic()
        response = await api.client.post(
            "/v1/jobs", json={"type": "nap", "input": {"seconds": 5}}, headers=headers
        )
        elapsed = time.monotonic() - started
        await api.client.post(f"/v1/jobs/{response.json()['id']}/cancel", headers=auth_a)

    assert response.status_code == 202
    assert response.json()["status"] in ("queued", "running")
    assert response.headers["preference-applied"] == "wait=0.3"
    assert "retry-after" in response.headers
    assert 0.25 <= elapsed < 2


@pytest.mark.parametrize("key", ['quo"te', "", "x" * 65, "with space"])
async def test_metadata_keys_must_be_plain(api: Api, auth_a: Headers, key: str) -> None:
    response = await api.client.post(
        "/v1/jobs", json={"type": "noop", "input": {}, "metadata": {key: "v"}}, headers=auth_a
    )

    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_values_storage_cannot_hold_are_refused_up_front(api: Api, auth_a: Headers) -> None:
    nul = await api.client.post(
        "/v1/jobs",
        json={"type": "noop", "input": {}, "metadata": {"k": "a\u0000b"}},
        headers=auth_a,
    )
    huge = await api.client.post(
        "/v1/jobs", json={"type": "echo", "input": {"value": 2**70}}, headers=auth_a
    )

    assert_problem(nul, 422, "VALIDATION_ERROR")
    assert huge.status_code == 422


async def test_a_write_only_key_may_wait_for_what_it_submitted(api: Api) -> None:
    headers = {**await api.headers_for("tenant-a", "jobs:write"), "Prefer": "wait=4"}
    async with background_worker(api):
        response = await api.client.post(
            "/v1/jobs", json={"type": "echo", "input": {"value": 7}}, headers=headers
        )

    assert response.status_code == 200, response.text
    assert response.json()["result"] == {"value": 7}
