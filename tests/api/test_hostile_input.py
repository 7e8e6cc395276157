"""Hostile input on every backend, part 1: oversized bodies (with and without Content-Length),
JSON nested 10,000 deep, malformed ids. Each is a fast 4xx problem, never a 5xx; what is within
the limits is stored and returned exactly. Hostile text (NUL, lone surrogates, bidi controls) is
in `test_hostile_text.py`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import orjson
import pytest

from api.batching import NDJSON, batch_endpoints, ndjson
from api.conftest import Api, Headers, assert_problem, job_endpoints
from api.limit_apps import LIMITS, MB, RTL, hostile_api, inputs, item, nested
from joblane.storage.base import Storage

FAST = 2.0  # seconds: a hostile request is refused quickly, not after chewing on it


@pytest.fixture
async def api(storage: Storage) -> AsyncIterator[Api]:
    async with hostile_api(storage) as built:
        yield built


class Counted:
    """A request body of `size` bytes in 64 KiB chunks that counts what the server read."""

    def __init__(self, head: bytes, size: int) -> None:
        self.head, self.size, self.read = head, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = b"x" * (64 * 1024)
        self.read = len(self.head)
        yield self.head
        while self.read < self.size:
            self.read += len(chunk)
            yield chunk


BIG_BODIES: dict[str, tuple[str, bytes, str]] = {  # url, start of the body, content type
    "job": ("/v1/jobs", b'{"type": "store", "input": {"blob": "', "application/json"),
    "batch-json": (
        "/v1/batches",
        b'{"jobs": [{"type": "store", "input": {"b": "',
        "application/json",
    ),
    "batch-jsonl": ("/v1/batches", b'{"type": "store", "input": {"b": "', NDJSON["Content-Type"]),
    "batch-multipart": (
        "/v1/batches",
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\n\r\n',
        "multipart/form-data; boundary=b",
    ),
    "cancel": (f"/v1/jobs/job_{'0' * 26}/cancel", b'{"reason": "', "application/json"),
}


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("form", BIG_BODIES)
async def test_a_10_mb_body_over_a_1_mb_limit_is_413_without_reading_it_all(
    api: Api, auth_a: Headers, form: str, declared: bool
) -> None:
    url, head, content_type = BIG_BODIES[form]
    body = Counted(head, 10 * MB)
    headers = {**auth_a, "Content-Type": content_type}
    if declared:
        headers["Content-Length"] = str(body.size)

    started = time.monotonic()
    response = await api.client.post(url, content=body, headers=headers)

    assert_problem(response, 413, "PAYLOAD_TOO_LARGE", detail=str(MB))
    assert time.monotonic() - started < FAST
    assert body.read <= (64 * 1024 if declared else MB + 64 * 1024)  # refused, not read
    assert (await api.client.get("/v1/jobs", headers=auth_a)).json()["data"] == []


def _deep_body(where: str, depth: int) -> tuple[str, bytes, str]:
    """A submission nesting `depth` levels at `where`: (url, body, content type)."""
    deep = b'{"a": ' * (depth - 1) + b"{}" + b"}" * (depth - 1)  # = nested(depth)
    deep_item = b'{"type": "store", "input": ' + deep + b"}"
    if where == "body":
        return "/v1/jobs", b"[" * depth + b"]" * depth, "application/json"
    if where == "input":
        return "/v1/jobs", deep_item, "application/json"
    if where == "cancel":
        return BIG_BODIES["cancel"][0], b'{"reason": ' + deep + b"}", "application/json"
    if where == "batch-json":
        body = b'{"jobs": [' + orjson.dumps(item(0)) + b", " + deep_item + b"]}"
        return "/v1/batches", body, "application/json"
    return "/v1/batches", ndjson([item(0)]) + deep_item + b"\n", NDJSON["Content-Type"]


DEEP_PLACES = ["body", "input", "cancel", "batch-json", "batch-jsonl"]


@pytest.mark.parametrize("where", DEEP_PLACES)
async def test_json_10_000_levels_deep_is_422_quickly(
    api: Api, auth_a: Headers, where: str
) -> None:
    url, body, content_type = _deep_body(where, 10_000)

    started = time.monotonic()
    response = await api.client.post(
        url, content=body, headers={**auth_a, "Content-Type": content_type}
    )

    problem = assert_problem(response, 422, "VALIDATION_ERROR", detail="nest too deeply")
    assert time.monotonic() - started < FAST
    assert problem["errors"][0]["type"] == "too_deep"
    assert (await api.client.get("/v1/jobs", headers=auth_a)).json()["data"] == []


EXPECTED_LOC: dict[str, list[Any]] = {  # where one level too many is reported
    "input": ["body", "input"],
    "batch-json": ["body", "jobs", 1, "input"],
    "batch-jsonl": ["line", 2, "input"],
}


@pytest.mark.parametrize("where", EXPECTED_LOC)
async def test_one_level_over_the_limit_is_422_naming_where(
    api: Api, auth_a: Headers, where: str
) -> None:
    url, body, content_type = _deep_body(where, LIMITS.max_json_depth + 1)

    response = await api.client.post(
        url, content=body, headers={**auth_a, "Content-Type": content_type}
    )

    problem = assert_problem(response, 422, "VALIDATION_ERROR", detail=str(LIMITS.max_json_depth))
    (error,) = problem["errors"]
    assert error["loc"] == [*EXPECTED_LOC[where], *["a"] * LIMITS.max_json_depth]


@pytest.mark.parametrize("where", EXPECTED_LOC)
async def test_input_at_the_depth_limit_is_accepted_and_returned_exactly(
    api: Api, auth_a: Headers, where: str
) -> None:
    url, body, content_type = _deep_body(where, LIMITS.max_json_depth)

    response = await api.client.post(
        url, content=body, headers={**auth_a, "Content-Type": content_type}
    )

    assert response.status_code == 202, response.text
    stored = await inputs(api, auth_a)
    assert nested(LIMITS.max_json_depth) in stored


HOSTILE_IDS = {
    "nul": "job_0000000000000000000000000\x00",
    "rtl": "job_" + RTL + "0" * 25,
    "newline": "job_" + "0" * 26 + "\n",
    "fullwidth-digits": "job_" + "\uff10" * 26,
    "huge": "job_" + "0" * 10_000,
    "sql": "job_0' OR '1'='1",
    "percent": "job_%00%2e%2e",
}


@pytest.mark.parametrize("bad", HOSTILE_IDS.values(), ids=HOSTILE_IDS.keys())
async def test_hostile_ids_are_400_on_every_route(api: Api, auth_a: Headers, bad: str) -> None:
    batch_bad = "bat_" + bad.removeprefix("job_")
    routes = [
        *[(m, u, "INVALID_JOB_ID") for m, u in job_endpoints(bad)],
        ("GET", f"/v1/jobs/{bad}/events", "INVALID_JOB_ID"),
        *[(m, u, "INVALID_BATCH_ID") for m, u in batch_endpoints(batch_bad)],
    ]
    for method, url, code in routes:
        response = await api.client.request(method, quote(url), headers=auth_a)

        problem = assert_problem(response, 400, code)
        assert problem["details"]["reason"], (method, url)
