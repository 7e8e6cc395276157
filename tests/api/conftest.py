"""The HTTP API in-process over the `storage` fixture (so every backend runs it), API keys for
two tenants and every kind of broken credential, and helpers to drive jobs through states."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import apps
from joblane.api.app import create_app
from joblane.api.context import ApiContext, ApiSettings
from joblane.app import Joblane
from joblane.core import ids
from joblane.core.job import Job, JobStamp
from joblane.core.principal import ADMIN, READ, WRITE
from joblane.service.artifact_store import ArtifactStore
from joblane.service.artifacts import ArtifactService
from joblane.service.batches import BatchService
from joblane.service.changes import ChangeFeed
from joblane.service.jobs import JobService
from joblane.service.keys import KeyService
from joblane.service.webhooks import WebhookService
from joblane.storage.base import Storage
from joblane.worker.runtime import Worker, WorkerSettings

SETTINGS = ApiSettings(max_body_bytes=64 * 1024, max_wait=5)
FAST_WORKER = WorkerSettings(
    concurrency=4, lease_seconds=30.0, idle_poll=0.05, shutdown_grace=0.5, cancel_grace=0.5
)
JSON = dict[str, Any]
Headers = dict[str, str]


@dataclass(frozen=True, slots=True)
class Api:
    """The app under test, its client and the services behind it."""

    client: httpx.AsyncClient
    storage: Storage
    registry: Joblane
    changes: ChangeFeed
    jobs: JobService
    keys: KeyService
    batches: BatchService
    artifacts: ArtifactService | None = None

    async def submit(self, headers: Headers, type_: str = "noop", **body: Any) -> JSON:
        """POST /v1/jobs and return the job (asserting the 202)."""
        body.setdefault("input", {})
        response = await self.client.post("/v1/jobs", json={"type": type_, **body}, headers=headers)
        assert response.status_code == 202, response.text
        job: JSON = response.json()
        return job

    async def run_worker(self) -> int:
        """Run every claimable job to its end in-process; how many ran."""
        worker = Worker(self.storage, self.registry, FAST_WORKER, on_change=self.notify)
        return await worker.run_until_empty()

    async def claim(self, *types: str) -> list[Job]:
        """Make queued jobs `running` (claimed by a worker that never finishes them)."""
        jobs = await self.storage.jobs_claim("wrk_test", list(types) or ["nap"], 100, 60.0)
        for job in jobs:
            self.notify(job)
        return jobs

    def notify(self, job: Job | JobStamp) -> None:
        self.changes.notify(job.id, job.version)

    async def headers_for(
        self, tenant: str, *scopes: str, expires_at: float | None = None
    ) -> Headers:
        created = await self.keys.create(tenant, scopes or (READ, WRITE), expires_at=expires_at)
        return {"X-API-Key": created.secret}


@contextlib.asynccontextmanager
async def serve(
    storage: Storage,
    registry: Joblane = apps.app,
    settings: ApiSettings = SETTINGS,
    store: ArtifactStore | None = None,
    webhooks: WebhookService | None = None,
) -> AsyncIterator[Api]:
    """Wire the app as production does (see `joblane.server.runtime`), minus the lifespan.
    Artifacts go to `store` (default: a memory:// store of this app's own)."""
    changes = ChangeFeed(storage.jobs_versions)
    batch_changes = ChangeFeed(storage.batches_versions, interval=0.05)
    jobs = JobService(storage, registry, changes)
    keys = KeyService(storage)
    batches = BatchService(storage, registry, batch_changes, max_items=100_000)
    own_store = store is None
    store = store or ArtifactStore.from_url(f"memory://joblane-tests/{ids.ulid()}")
    artifacts = ArtifactService(storage, store)
    await artifacts.open()
    app = create_app(
        ApiContext(storage, jobs, keys, settings, batches, artifacts=artifacts, webhooks=webhooks)
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(client, storage, registry, changes, jobs, keys, batches, artifacts)
    finally:
        await changes.close()
        await batch_changes.close()
        if own_store:
            with contextlib.suppress(FileNotFoundError):
                store.fs.rm(store.root, recursive=True)


@contextlib.asynccontextmanager
async def background_worker(api: Api) -> AsyncIterator[Worker]:
    """A real `Worker.run(stop)` loop for the duration of the block."""
    worker = Worker(api.storage, api.registry, FAST_WORKER, on_change=api.notify)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def api(storage: Storage) -> AsyncIterator[Api]:
    async with serve(storage) as built:
        yield built


@pytest.fixture
def client(api: Api) -> httpx.AsyncClient:
    return api.client


@pytest.fixture
async def auth_a(api: Api) -> Headers:
    """Tenant A, read and write."""
    return await api.headers_for("tenant-a")


@pytest.fixture
async def auth_b(api: Api) -> Headers:
    """Tenant B, read and write."""
    return await api.headers_for("tenant-b")


@pytest.fixture
async def auth_read(api: Api) -> Headers:
    """Tenant A, read only."""
    return await api.headers_for("tenant-a", READ)


@pytest.fixture
async def auth_admin(api: Api) -> Headers:
    return await api.headers_for("ops", ADMIN)


@pytest.fixture
async def auth_revoked(api: Api) -> Headers:
    created = await api.keys.create("tenant-a", (READ, WRITE))
    await api.keys.revoke(created.record.id)
    return {"X-API-Key": created.secret}


@pytest.fixture
async def auth_expired(api: Api) -> Headers:
    return await api.headers_for("tenant-a", READ, WRITE, expires_at=api.storage.now() - 60)


def assert_problem(
    response: httpx.Response, status: int, code: str, *, detail: str | None = None
) -> JSON:
    """An RFC 9457 problem with the contract's members and the request id of the response."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: JSON = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith("/errors/" + code.lower().replace("_", "-"))
    assert body["type"].startswith(("https://", "http://"))
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    if detail is not None:
        assert detail in body["detail"]
    return body


UNKNOWN_ID = "job_" + "0" * 26


def job_endpoints(job_id: str) -> list[tuple[str, str]]:
    """Every endpoint that takes a job id: (method, path)."""
    base = f"/v1/jobs/{job_id}"
    return [
        ("GET", base),
        ("DELETE", base),
        ("POST", f"{base}/cancel"),
        ("POST", f"{base}/retry"),
        ("GET", f"{base}/result"),
    ]
