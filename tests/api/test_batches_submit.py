"""POST /v1/batches accepted in its three body forms (JSON, JSONL, multipart) with the 202 and
its options; refused over the size limits, with options out of range, or without the scope
(bad items and bodies: test_batches_invalid.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

import apps
from api.batching import (
    NDJSON,
    PROGRESS_KEYS,
    assert_consistent,
    assert_nothing_created,
    assert_validation_error,
    items_of,
    ndjson,
    ok,
    submit_batch,
)
from api.conftest import JSON, SETTINGS, Api, Headers, assert_problem, serve
from joblane.api.context import ApiSettings
from joblane.app import Joblane
from joblane.storage.base import Storage

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
OPTIONS: JSON = {
    "name": "Monthly reports",
    "max_concurrent": 5,
    "priority": 7,
    "timeout": 3600,
    "callback_url": "https://example.com/hooks/batches",
    "notification_enabled": True,
}


def assert_accepted(response: httpx.Response, total: int) -> JSON:
    """A 202 for a fresh batch of `total` queued items, with its Location and read headers."""
    assert response.status_code == 202, response.text
    batch: JSON = response.json()
    assert response.headers["location"] == f"/v1/batches/{batch['id']}"
    assert response.headers["content-type"] == "application/json"
    assert response.headers["etag"] == f'"{batch["version"]}"'
    assert int(response.headers["retry-after"]) >= 1
    assert re.match(r"^bat_[0-9A-HJKMNP-TV-Z]{26}$", batch["id"])
    assert batch["object"] == "batch"
    assert batch["status"] == "queued"
    assert batch["progress"] == {
        "percentage": 0.0,
        **dict.fromkeys(PROGRESS_KEYS, 0),
        "pending": total,
        "total": total,
    }
    assert_consistent(batch)
    timing = batch["timing"]
    assert RFC3339_Z.match(timing["created_at"]) and RFC3339_Z.match(timing["updated_at"])
    assert timing["started_at"] is None and timing["completed_at"] is None
    assert timing["average_item_time"] is None
    assert batch["metadata"]["request_id"] == response.headers["x-request-id"]
    return batch


async def test_json_submission_is_202_and_echoes_its_options(api: Api, auth_a: Headers) -> None:
    jobs = [ok(0, customer="A-1"), ok(1), ok(2, customer="A-3")]

    response = await api.client.post("/v1/batches", json={**OPTIONS, "jobs": jobs}, headers=auth_a)

    batch = assert_accepted(response, 3)
    assert batch["name"] == "Monthly reports"
    expected = {key: value for key, value in OPTIONS.items() if key != "name"}
    assert batch["batch_configuration"] == expected
    assert batch["timing"]["deadline"] is not None
    items = await items_of(api, auth_a, batch["id"])
    assert [item["metadata"] for item in items] == [{"customer": "A-1"}, {}, {"customer": "A-3"}]
    assert {(item["batch_id"], item["priority"], item["status"]) for item in items} == {
        (batch["id"], 7, "queued")
    }
    listed = await api.client.get("/v1/jobs", params={"batch_id": batch["id"]}, headers=auth_a)
    assert {job["id"] for job in listed.json()["data"]} == {item["id"] for item in items}


async def test_options_default_when_left_out(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(0)])

    assert batch["name"] is None
    assert batch["batch_configuration"] == {
        "max_concurrent": None,
        "priority": 0,
        "timeout": None,
        "callback_url": None,
        "notification_enabled": False,
    }
    assert batch["timing"]["deadline"] is None


@pytest.mark.parametrize("content_type", ["application/x-ndjson", "application/jsonl"])
async def test_jsonl_body_takes_its_options_from_the_query(
    api: Api, auth_a: Headers, content_type: str
) -> None:
    body = ndjson([ok(0), ok(1)]) + b"\n   \n" + orjson.dumps(ok(2))  # blank lines, no final \n
    params = {"name": "from jsonl", "max_concurrent": "2", "notification_enabled": "true"}

    response = await api.client.post(
        "/v1/batches",
        content=body,
        params=params,
        headers={**auth_a, "Content-Type": f"{content_type}; charset=utf-8"},
    )

    batch = assert_accepted(response, 3)
    assert batch["name"] == "from jsonl"
    assert batch["batch_configuration"]["max_concurrent"] == 2
    assert batch["batch_configuration"]["notification_enabled"] is True
    assert len(await items_of(api, auth_a, batch["id"])) == 3


async def test_jsonl_body_may_arrive_in_chunks_without_a_length(api: Api, auth_a: Headers) -> None:
    lines = ndjson([ok(i) for i in range(300)])

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(lines), 1000):  # cuts lines in the middle
            yield lines[start : start + 1000]

    response = await api.client.post("/v1/batches", content=chunks(), headers={**auth_a, **NDJSON})

    assert_accepted(response, 300)


async def test_multipart_takes_options_from_form_fields_and_items_from_the_file(
    api: Api, auth_a: Headers
) -> None:
    response = await api.client.post(
        "/v1/batches",
        data={"name": "uploaded", "priority": "-3", "timeout": "60"},
        files={"file": ("items.jsonl", ndjson([ok(0), ok(1)]), "application/x-ndjson")},
        headers=auth_a,
    )

    batch = assert_accepted(response, 2)
    assert batch["name"] == "uploaded"
    assert batch["batch_configuration"]["priority"] == -3
    assert batch["batch_configuration"]["timeout"] == 60.0


async def test_multipart_without_a_file_part_is_422(api: Api, auth_a: Headers) -> None:
    form = b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n'

    response = await api.client.post(
        "/v1/batches",
        content=form,
        headers={**auth_a, "Content-Type": "multipart/form-data; boundary=b"},
    )

    assert_validation_error(response, "file", ["body", "file"])
    await assert_nothing_created(api, auth_a)


async def test_the_item_order_is_the_submission_order(api: Api, auth_a: Headers) -> None:
    batch = await submit_batch(api, auth_a, [ok(i, n=str(i)) for i in range(25)])

    items = await items_of(api, auth_a, batch["id"])

    assert [item["metadata"]["n"] for item in items] == [str(i) for i in range(25)]
    assert [item["id"] for item in items] == sorted(item["id"] for item in items)


async def test_a_disabled_job_type_in_a_batch_is_501_and_nothing_is_created(
    storage: Storage,
) -> None:
    registry = Joblane("disabled")
    registry.job_type("noop", input=apps.Empty)(apps.noop)
    registry.job_type("echo", input=apps.Echo)(apps.echo)
    registry.disable("echo")
    async with serve(storage, registry) as api:
        headers = await api.headers_for("tenant-a")
        jobs = [{"type": "noop", "input": {}}, {"type": "echo", "input": {}}]

        response = await api.client.post("/v1/batches", json={"jobs": jobs}, headers=headers)

        assert_problem(response, 501, "NOT_IMPLEMENTED", detail="jobs[1]")
        await assert_nothing_created(api, headers)


async def test_bodies_over_the_limit_are_413_and_create_nothing(storage: Storage) -> None:
    settings = ApiSettings(max_body_bytes=SETTINGS.max_body_bytes, max_wait=5, max_batch_bytes=4000)
    async with serve(storage, settings=settings) as api:
        headers = await api.headers_for("tenant-a")
        items = [ok(i) for i in range(100)]  # ~5 KB as JSON, as JSONL or as a file
        big = ndjson(items)

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
            for start in range(0, len(big), 500):
                yield big[start : start + 500]

        responses = [
            await api.client.post("/v1/batches", json={"jobs": items}, headers=headers),
            await api.client.post("/v1/batches", content=big, headers={**headers, **NDJSON}),
            await api.client.post("/v1/batches", content=chunked(), headers={**headers, **NDJSON}),
            await api.client.post(
                "/v1/batches", files={"file": ("items.jsonl", big)}, headers=headers
            ),
        ]

        for response in responses:
            assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
        await assert_nothing_created(api, headers)


async def test_a_line_longer_than_the_body_limit_is_413(api: Api, auth_a: Headers) -> None:
    huge = {"type": "batch_item", "input": {"index": 1}, "metadata": {"x": "y" * 400}}
    lines = ndjson([ok(0)]) + orjson.dumps({**huge, "pad": "z" * SETTINGS.max_body_bytes})

    response = await api.client.post("/v1/batches", content=lines, headers={**auth_a, **NDJSON})

    assert_problem(response, 413, "PAYLOAD_TOO_LARGE", detail="line 2")
    await assert_nothing_created(api, auth_a)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_concurrent", 0),
        ("max_concurrent", 10_001),
        ("priority", 101),
        ("timeout", 0),
        ("name", "x" * 201),
        ("callback_url", "not a url"),
        ("colour", "blue"),
    ],
)
async def test_options_out_of_range_are_422_in_every_form(
    api: Api, auth_a: Headers, option: str, value: object
) -> None:
    text = str(value)
    as_json = await api.client.post(
        "/v1/batches", json={option: value, "jobs": [ok(0)]}, headers=auth_a
    )
    as_query = await api.client.post(
        "/v1/batches", params={option: text}, content=ndjson([ok(0)]), headers={**auth_a, **NDJSON}
    )
    as_form = await api.client.post(
        "/v1/batches",
        data={option: text},
        files={"file": ("items.jsonl", ndjson([ok(0)]))},
        headers=auth_a,
    )

    assert_validation_error(as_json, "options", ["body", option])
    assert_validation_error(as_query, "options", ["query", option])
    assert_validation_error(as_form, "options", ["body", option])
    await assert_nothing_created(api, auth_a)


async def test_query_options_with_a_json_or_multipart_body_are_refused_not_ignored(
    api: Api, auth_a: Headers
) -> None:
    as_json = await api.client.post(
        "/v1/batches", params={"max_concurrent": "2"}, json={"jobs": [ok(0)]}, headers=auth_a
    )
    as_form = await api.client.post(
        "/v1/batches",
        params={"name": "x"},
        files={"file": ("items.jsonl", ndjson([ok(0)]))},
        headers=auth_a,
    )

    assert_validation_error(as_json, "query", ["query", "max_concurrent"])
    assert_validation_error(as_form, "query", ["query", "name"])
    await assert_nothing_created(api, auth_a)


async def test_no_key_is_401_and_a_read_only_key_is_403(
    api: Api, auth_a: Headers, auth_read: Headers
) -> None:
    anonymous = await api.client.post("/v1/batches", json={"jobs": [ok(0)]})
    read_only = await api.client.post("/v1/batches", json={"jobs": [ok(0)]}, headers=auth_read)
    read_only_jsonl = await api.client.post(
        "/v1/batches", content=ndjson([ok(0)]), headers={**auth_read, **NDJSON}
    )

    assert_problem(anonymous, 401, "UNAUTHORIZED")
    body = assert_problem(read_only, 403, "FORBIDDEN")
    assert body["details"] == {"scope": "jobs:write"}
    assert_problem(read_only_jsonl, 403, "FORBIDDEN")
    await assert_nothing_created(api, auth_a)


async def test_a_read_only_key_is_403_even_with_a_bad_body(
    api: Api, auth_a: Headers, auth_read: Headers
) -> None:
    response = await api.client.post(
        "/v1/batches", json={"max_concurrent": 0, "jobs": []}, headers=auth_read
    )

    assert_problem(response, 403, "FORBIDDEN")
