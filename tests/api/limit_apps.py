"""An API with the limits the hostile-input tests probe (1 MiB bodies, 8 levels of JSON, 20
items per batch) and a job type that stores any input and returns it as its result."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from api.conftest import JSON, Api, Headers
from joblane import JobContext, Joblane
from joblane.api.app import create_app
from joblane.api.context import ApiContext, ApiSettings
from joblane.service.batches import BatchService
from joblane.service.changes import ChangeFeed
from joblane.service.jobs import JobService
from joblane.service.keys import KeyService
from joblane.storage.base import Storage

MB = 1024 * 1024
RTL = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: shows "txt.exe" as "exe.txt"
MAX_ITEMS = 20
LIMITS = ApiSettings(max_body_bytes=MB, max_wait=1, max_batch_bytes=MB, max_json_depth=8)

registry = Joblane("hostile")


class Anything(BaseModel):
    model_config = ConfigDict(extra="allow")


@registry.job_type("store", input=Anything)
def store(inp: Anything, ctx: JobContext) -> dict[str, Any]:
    return inp.model_dump(mode="json")


def item(index: int, **extra: Any) -> JSON:
    """A batch item of the `store` type."""
    return {"type": "store", "input": {"index": index, **extra}}


def nested(depth: int) -> Any:
    """Objects nested `depth` levels: {"a": {"a": … {}}}."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


async def inputs(api: Api, headers: Headers) -> list[Any]:
    """The inputs of the tenant's jobs, newest first."""
    listed = await api.client.get("/v1/jobs", params={"include": "input"}, headers=headers)
    assert listed.status_code == 200, listed.text
    return [job["input"] for job in listed.json()["data"]]


@contextlib.asynccontextmanager
async def hostile_api(storage: Storage, settings: ApiSettings = LIMITS) -> AsyncIterator[Api]:
    """As `api.conftest.serve`, with these limits and this registry."""
    changes = ChangeFeed(storage.jobs_versions)
    batch_changes = ChangeFeed(storage.batches_versions, interval=0.05)
    jobs = JobService(storage, registry, changes)
    keys = KeyService(storage)
    batches = BatchService(storage, registry, batch_changes, max_items=MAX_ITEMS)
    app = create_app(ApiContext(storage, jobs, keys, settings, batches))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, storage, registry, changes, jobs, keys, batches)
    finally:
        await changes.close()
        await batch_changes.close()
