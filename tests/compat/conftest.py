"""Profiles in-process (over the `storage` fixture, so every backend runs them): every profile
mounted under /compat/<name>/, keys for two tenants, and a `Driver` that moves a job through
queued -> running (with progress) -> completed / failed the way a worker would.

    async def test_x(compat: Compat) -> None:
        job = await compat.submit("enrichment", {"transactions": [...]})
        await compat.drive.start(job["id"], processed=45, total=100)
        response = await compat.client.get(f"/compat/walkerst/v1/jobs/{...}/status",
                                           headers={"x-api-key": compat.key_a})
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

import apps
from acceptance.procs import Processes, free_port, wait_ready
from api.conftest import SETTINGS, Api
from joblane import examples
from joblane.api.app import create_app
from joblane.api.context import ApiContext
from joblane.app import Joblane
from joblane.compat import registry
from joblane.compat.mount import CompatConfig
from joblane.core import ids
from joblane.core.job import Job, JobErrorInfo, Lease, Progress
from joblane.core.principal import READ, WRITE
from joblane.core.states import JobState
from joblane.service.artifact_store import ArtifactStore
from joblane.service.artifacts import ArtifactService
from joblane.service.batches import BatchService
from joblane.service.changes import ChangeFeed
from joblane.service.jobs import JobService
from joblane.service.keys import KeyService
from joblane.storage.base import Storage
from joblane.storage.params import Outcome, ProgressUpdate

JSON = dict[str, Any]
FIXTURES = Path(__file__).parent / "fixtures"
WORKER_ID = "wrk_compat"


def compat_registry() -> Joblane:
    """The bundled example types (the seed domains) and the test suite's own."""
    registry_ = Joblane("compat-tests")
    registry_.include(examples.app)
    registry_.include(apps.app)
    return registry_


REGISTRY = compat_registry()


def fixture(profile: str, name: str) -> Any:
    """A seed document's example, as copied to tests/compat/fixtures/<profile>/<name>.json."""
    return json.loads((FIXTURES / profile / f"{name}.json").read_text())


@dataclass
class Driver:
    """Moves chosen jobs through their states with real storage writes (leases and all)."""

    storage: Storage
    changes: ChangeFeed
    leases: dict[str, Lease] = field(default_factory=dict)

    async def start(
        self, job_id: str, processed: int = 0, total: int | None = None, message: str = ""
    ) -> Job:
        """Claim `job_id` (others claimed with it go back to the queue), then report progress."""
        job = await self.storage.job_get(job_id, None)
        assert job is not None and job.state is JobState.QUEUED, job
        claimed = await self.storage.jobs_claim(WORKER_ID, [job.type], 1000, 60.0)
        others = [
            Outcome(Lease(j.id, j.lease_token or ""), JobState.QUEUED, release=True)
            for j in claimed
            if j.id != job_id
        ]
        if others:
            await self.storage.jobs_finish(others)
        mine = next((j for j in claimed if j.id == job_id), None)
        assert mine is not None, f"{job_id} was not claimable (a limited batch's later item?)"
        self.leases[job_id] = Lease(job_id, mine.lease_token or "")
        self.changes.notify(job_id, mine.version)
        if processed or total is not None or message:
            return await self.progress(job_id, processed, total, message)
        return mine

    async def progress(
        self, job_id: str, processed: int, total: int | None = None, message: str = ""
    ) -> Job:
        progress = Progress(processed=processed, total=total, message=message or None)
        await self.storage.jobs_progress([ProgressUpdate(self.leases[job_id], progress)])
        return await self._notified(job_id)

    async def complete(self, job_id: str, result: Any, progress: Progress | None = None) -> Job:
        outcome = Outcome(self._lease(job_id), JobState.COMPLETED, result=result, progress=progress)
        await self.storage.jobs_finish([outcome])
        return await self._notified(job_id)

    async def fail(
        self,
        job_id: str,
        code: str,
        message: str,
        details: JSON | None = None,
        *,
        retryable: bool = False,
        resolution: str | None = None,
        progress: Progress | None = None,
    ) -> Job:
        error = JobErrorInfo(code, message, details or {}, retryable, resolution)
        outcome = Outcome(self._lease(job_id), JobState.FAILED, error=error, progress=progress)
        await self.storage.jobs_finish([outcome])
        return await self._notified(job_id)

    def _lease(self, job_id: str) -> Lease:
        return self.leases.pop(job_id)

    async def _notified(self, job_id: str) -> Job:
        job = await self.storage.job_get(job_id, None)
        assert job is not None
        self.changes.notify(job.id, job.version)
        return job


@dataclass
class Compat:
    """The app with every profile mounted, keys of tenants A and B, and the driver."""

    api: Api
    drive: Driver
    key_a: str
    key_b: str

    @property
    def client(self) -> httpx.AsyncClient:
        return self.api.client

    @property
    def headers_a(self) -> dict[str, str]:
        return {"X-API-Key": self.key_a}

    @property
    def headers_b(self) -> dict[str, str]:
        return {"X-API-Key": self.key_b}

    async def submit(self, type_: str, input_: JSON, key: str | None = None, **body: Any) -> JSON:
        """POST /v1/jobs (the canonical API) as tenant A (or `key`); the job's canonical body."""
        headers = {"X-API-Key": key or self.key_a}
        response = await self.client.post(
            "/v1/jobs", json={"type": type_, "input": input_, **body}, headers=headers
        )
        assert response.status_code == 202, response.text
        job: JSON = response.json()
        return job

    async def canonical(self, job_id: str, key: str | None = None) -> JSON:
        """GET /v1/jobs/{id}: the same job through the canonical API."""
        response = await self.client.get(
            f"/v1/jobs/{job_id}", headers={"X-API-Key": key or self.key_a}
        )
        assert response.status_code == 200, response.text
        body: JSON = response.json()
        return body


@contextlib.asynccontextmanager
async def serve_compat(
    storage: Storage, config: CompatConfig | None = None, registry_: Joblane = REGISTRY
) -> AsyncIterator[Compat]:
    """The API as production wires it (minus lifespan and rate limits), profiles included."""
    config = config or CompatConfig(registry.available())
    changes = ChangeFeed(storage.jobs_versions)
    batch_changes = ChangeFeed(storage.batches_versions, interval=0.05)
    jobs = JobService(storage, registry_, changes)
    keys = KeyService(storage)
    batches = BatchService(storage, registry_, batch_changes, max_items=100_000)
    store = ArtifactStore.from_url(f"memory://joblane-compat/{ids.ulid()}")
    artifacts = ArtifactService(storage, store)
    await artifacts.open()
    ctx = ApiContext(storage, jobs, keys, SETTINGS, batches, artifacts=artifacts)
    app = create_app(ctx, compat=config)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            api = Api(client, storage, registry_, changes, jobs, keys, batches, artifacts)
            key_a = (await keys.create("tenant-a", (READ, WRITE))).secret
            key_b = (await keys.create("tenant-b", (READ, WRITE))).secret
            yield Compat(api, Driver(storage, changes), key_a, key_b)
    finally:
        await changes.close()
        await batch_changes.close()
        with contextlib.suppress(FileNotFoundError):
            store.fs.rm(store.root, recursive=True)


@contextlib.contextmanager
def real_server(tmp_path: Path, profile: str, *app: str) -> Iterator[tuple[str, str]]:
    """A real `joblane serve [APP] --profile NAME` on SQLite: (base URL, a tenant's API key);
    killed when the block ends. Readiness may take a while on a busy machine."""
    procs = Processes(workdir=tmp_path, database=str(tmp_path / "joblane.db"))
    try:
        procs.run("migrate")
        key = procs.run("keys", "create", "--tenant", f"{profile}-client")
        port = free_port()
        proc = procs.start(
            "serve", *app, "--profile", profile, "--port", str(port), log_name="serve"
        )
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, proc, timeout=90)
        yield url, key
    finally:
        procs.stop_all()


@pytest.fixture
async def compat(storage: Storage) -> AsyncIterator[Compat]:
    async with serve_compat(storage) as built:
        yield built
