"""The dashboard in-process (the whole app, as `create_app` builds it) over the `storage`
fixture: API keys for an admin and two tenants, a browser-like client per signed-in key, and
the API itself to make jobs and batches to look at."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import apps
from joblane.api.app import create_app
from joblane.api.context import ApiContext, ApiSettings
from joblane.core import ids
from joblane.core.job import Job, JobStamp
from joblane.core.principal import ADMIN, READ, WRITE
from joblane.service.artifact_store import ArtifactStore
from joblane.service.artifacts import ArtifactService
from joblane.service.batches import BatchService
from joblane.service.changes import ChangeFeed
from joblane.service.jobs import JobService
from joblane.service.keys import KeyService
from joblane.storage.base import Storage
from joblane.worker.runtime import Worker, WorkerSettings

JSON = dict[str, Any]
FAST_WORKER = WorkerSettings(concurrency=4, lease_seconds=30.0, idle_poll=0.05)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Dash:
    transport: httpx.ASGITransport
    storage: Storage
    changes: ChangeFeed
    keys: KeyService
    secrets: dict[str, str]  # "admin", "a", "b" -> API key
    key_ids: dict[str, str]

    def client(self, base_url: str = "http://test") -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, base_url=base_url)

    @contextlib.asynccontextmanager
    async def signed_in(
        self, who: str, base_url: str = "http://test"
    ) -> AsyncIterator[httpx.AsyncClient]:
        """A client (its own cookie jar) signed in with `who`'s key."""
        async with self.client(base_url) as client:
            response = await client.post("/dashboard/login", data={"api_key": self.secrets[who]})
            assert response.status_code == 303, response.text
            yield client

    async def api(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with self.client() as client:
            headers = {"X-API-Key": self.secrets[who]}
            return await client.request(method, path, headers=headers, **kwargs)

    async def submit(self, who: str, type_: str = "noop", **body: Any) -> JSON:
        body.setdefault("input", {})
        response = await self.api(who, "POST", "/v1/jobs", json={"type": type_, **body})
        assert response.status_code == 202, response.text
        job: JSON = response.json()
        return job

    async def submit_batch(self, who: str, items: list[JSON], **options: Any) -> JSON:
        response = await self.api(who, "POST", "/v1/batches", json={**options, "jobs": items})
        assert response.status_code == 202, response.text
        batch: JSON = response.json()
        return batch

    def notify(self, job: Job | JobStamp) -> None:
        self.changes.notify(job.id, job.version)

    async def run_worker(self) -> int:
        worker = Worker(self.storage, apps.app, FAST_WORKER, on_change=self.notify)
        return await worker.run_until_empty()


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@contextlib.asynccontextmanager
async def serve(storage: Storage) -> AsyncIterator[Dash]:
    changes = ChangeFeed(storage.jobs_versions)
    batch_changes = ChangeFeed(storage.batches_versions, interval=0.05)
    keys = KeyService(storage)
    store = ArtifactStore.from_url(f"memory://joblane-dash-tests/{ids.ulid()}")
    artifacts = ArtifactService(storage, store)
    await artifacts.open()
    ctx = ApiContext(
        storage,
        JobService(storage, apps.app, changes),
        keys,
        ApiSettings(max_body_bytes=64 * 1024, max_wait=5),
        BatchService(storage, apps.app, batch_changes, max_items=10_000),
        artifacts=artifacts,
    )
    made = {
        "admin": await keys.create("ops", (ADMIN,)),
        "a": await keys.create("tenant-a", (READ, WRITE)),
        "b": await keys.create("tenant-b", (READ, WRITE)),
    }
    transport = httpx.ASGITransport(app=create_app(ctx), raise_app_exceptions=True)
    try:
        yield Dash(
            transport,
            storage,
            changes,
            keys,
            {name: c.secret for name, c in made.items()},
            {name: c.record.id for name, c in made.items()},
        )
    finally:
        await changes.close()
        await batch_changes.close()


@pytest.fixture
async def dash(storage: Storage) -> AsyncIterator[Dash]:
    async with serve(storage) as built:
        yield built
