"""The API with a local artifact store, the job types of `artifact_apps`, and a worker that
stores files: shared by the artifact API tests."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import artifact_apps
from api.conftest import JSON, Api, Headers, serve
from joblane.core.retry import RetryPolicy
from joblane.maintenance.artifacts import ArtifactSweep
from joblane.service.artifact_store import ArtifactStore
from joblane.storage.base import Storage
from joblane.worker.artifacts import ArtifactLimits, ArtifactWriter
from joblane.worker.runtime import Worker
from worker import FAST

INLINE_LIMIT = 2048


@dataclass
class FilesApi:
    api: Api
    store: ArtifactStore
    a: Headers
    b: Headers

    def writer(self) -> ArtifactWriter:
        return ArtifactWriter(self.api.storage, self.store, ArtifactLimits(INLINE_LIMIT, 10**8))

    async def run(self, headers: Headers, type_: str, **input: Any) -> JSON:
        """Submit a job, run every job to its end, return the job as the API shows it."""
        job = await self.api.submit(headers, type_, input=input)
        policy = RetryPolicy(base=0.0, jitter=False)
        worker = Worker(
            self.api.storage, self.api.registry, FAST, policy=policy, artifacts=self.writer()
        )
        await worker.run_until_empty()
        response = await self.api.client.get(f"/v1/jobs/{job['id']}", headers=headers)
        assert response.status_code == 200, response.text
        body: JSON = response.json()
        return body

    async def sweep(self) -> int:
        return await ArtifactSweep(self.api.storage, self.store).run()

    def files(self) -> list[Path]:
        root = Path(self.store.root)
        return sorted(p for p in root.rglob("*") if p.is_file())


@contextlib.asynccontextmanager
async def files_api(storage: Storage, tmp_path: Path) -> AsyncIterator[FilesApi]:
    store = ArtifactStore.from_url(str(tmp_path / "artifacts"))
    async with serve(storage, artifact_apps.app, store=store) as api:
        a = await api.headers_for("tenant-a")
        b = await api.headers_for("tenant-b")
        yield FilesApi(api, store, a, b)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
