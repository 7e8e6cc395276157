"""The limits on what one submission may hold, the same in every body form: metadata (key
count, key pattern, value length, total size) and the number of items in a batch. Each is a 422
naming the field (and the item), and nothing is created."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from api.batching import NDJSON, ndjson
from api.conftest import JSON, Api, Headers, assert_problem
from api.limit_apps import MAX_ITEMS, hostile_api, item
from joblane.api.schemas import MAX_METADATA_BYTES, MAX_METADATA_KEYS
from joblane.storage.base import Storage


@pytest.fixture
async def api(storage: Storage) -> AsyncIterator[Api]:
    async with hostile_api(storage) as built:
        yield built


WIDE = "\u00e9" * 500  # 500 characters, 1,000 bytes of UTF-8
BAD_METADATA: dict[str, tuple[dict[str, Any], list[str]]] = {  # metadata, loc under metadata
    "too-many-keys": ({f"k{i}": "v" for i in range(MAX_METADATA_KEYS + 1)}, []),
    "key-pattern": ({"no spaces": "v"}, ["no spaces"]),
    "key-too-long": ({"k" * 65: "v"}, ["k" * 65]),
    "key-final-newline": ({"key\n": "v"}, ["key\n"]),
    "value-too-long": ({"k": "v" * 501}, ["k"]),
    "value-not-a-string": ({"k": {"nested": "v"}}, ["k"]),
    "total-size": ({f"k{i}": WIDE for i in range(MAX_METADATA_BYTES // 1000 + 1)}, []),
}


def _metadata_ok(loc: list[Any], prefix: list[Any], under: list[str]) -> bool:
    """pydantic names the failing constraint's location a little differently per kind."""
    return loc[: len(prefix) + 1 + len(under)] == [*prefix, "metadata", *under]


async def _post(api: Api, headers: Headers, form: str, metadata: JSON) -> httpx.Response:
    if form == "job":
        body = {"type": "store", "input": {}, "metadata": metadata}
        return await api.client.post("/v1/jobs", json=body, headers=headers)
    items = [item(0), {**item(1), "metadata": metadata}]
    if form == "batch-json":
        return await api.client.post("/v1/batches", json={"jobs": items}, headers=headers)
    return await api.client.post(
        "/v1/batches", content=ndjson(items), headers={**headers, **NDJSON}
    )


PREFIX: dict[str, list[Any]] = {
    "job": ["body"],
    "batch-json": ["body", "jobs", 1],
    "batch-jsonl": ["line", 2],
}


@pytest.mark.parametrize("form", PREFIX)
@pytest.mark.parametrize("case", BAD_METADATA)
async def test_metadata_over_a_limit_is_422_naming_it(
    api: Api, auth_a: Headers, form: str, case: str
) -> None:
    metadata, under = BAD_METADATA[case]

    response = await _post(api, auth_a, form, metadata)

    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert any(_metadata_ok(e["loc"], PREFIX[form], under) for e in problem["errors"]), problem
    listed = await api.client.get("/v1/jobs", headers=auth_a)
    assert listed.json()["data"] == []


@pytest.mark.parametrize("form", PREFIX)
async def test_metadata_at_every_limit_is_accepted_and_returned_exactly(
    api: Api, auth_a: Headers, form: str
) -> None:
    metadata = {f"k{i:02}": WIDE for i in range(11)}  # 500 characters, 1,000 bytes each
    metadata |= {f"{'x' * 62}{i:02}": "v" * 500 for i in range(8)}  # 64-character keys
    metadata |= {f"z.{i}:-_": "" for i in range(MAX_METADATA_KEYS - 19)}
    left = MAX_METADATA_BYTES - sum(len(k) + len(v.encode()) for k, v in metadata.items())
    metadata["z.0:-_"] = "\u00e9" * (left // 2) + "v" * (left % 2)  # exactly the total limit
    size = sum(len(k) + len(v.encode()) for k, v in metadata.items())
    assert len(metadata) == MAX_METADATA_KEYS and size == MAX_METADATA_BYTES

    response = await _post(api, auth_a, form, metadata)

    assert response.status_code == 202, response.text
    listed = await api.client.get("/v1/jobs", headers=auth_a)
    assert listed.json()["data"][0]["metadata"] == metadata


@pytest.mark.parametrize("form", ["json", "jsonl", "multipart"])
async def test_a_batch_over_the_item_limit_is_422_naming_the_first_item_too_many(
    api: Api, auth_a: Headers, form: str
) -> None:
    items = [item(i) for i in range(MAX_ITEMS + 1)]
    if form == "json":
        response = await api.client.post("/v1/batches", json={"jobs": items}, headers=auth_a)
        loc: list[Any] = ["body", "jobs", MAX_ITEMS]
    elif form == "jsonl":
        headers = {**auth_a, **NDJSON}
        response = await api.client.post("/v1/batches", content=ndjson(items), headers=headers)
        loc = ["line", MAX_ITEMS + 1]
    else:
        files = {"file": ("items.jsonl", ndjson(items))}
        response = await api.client.post("/v1/batches", files=files, headers=auth_a)
        loc = ["line", MAX_ITEMS + 1]

    problem = assert_problem(response, 422, "VALIDATION_ERROR", detail=str(MAX_ITEMS))
    assert problem["errors"][0]["loc"] == loc
    assert (await api.client.get("/v1/batches", headers=auth_a)).json()["data"] == []


async def test_a_batch_at_the_item_limit_is_accepted(api: Api, auth_a: Headers) -> None:
    body = orjson.dumps({"jobs": [item(i) for i in range(MAX_ITEMS)]})
    headers = {**auth_a, "Content-Type": "application/json"}

    response = await api.client.post("/v1/batches", content=body, headers=headers)

    assert response.status_code == 202, response.text
    assert response.json()["progress"]["total"] == MAX_ITEMS
