"""Artifacts as the API serves them: a job's files and its result file, found through the job
(so tenancy is the job's), and signed links that work without an API key until they expire.

Links are HMACs (SHA-256) over the job id, the file's name, the attempt that wrote it and the
expiry, under a secret kept in storage (`server_secret("artifact_links")`, made once, shared by
every process). A link names the attempt: once a later attempt replaced the file, the old link
answers 404 instead of serving other bytes than its reference described.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote, urlencode

from joblane.core.artifact import (
    RESULT_NAME,
    Artifact,
    LinkPolicy,
    check_name,
    reference_of,
    sign,
    signature_valid,
)
from joblane.core.errors import (
    ArtifactLinkExpired,
    ArtifactLinkInvalid,
    ArtifactNotFound,
    JobExpired,
)
from joblane.core.job import Job
from joblane.service.artifact_store import ArtifactStore
from joblane.storage.base import Storage

SECRET_NAME = "artifact_links"
LINK_PREFIX = "/v1/artifacts"


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    expires_at: int


class LinkSigner:
    def __init__(self, secret: bytes, policy: LinkPolicy) -> None:
        self._secret = secret
        self.policy = policy

    def link(self, job_id: str, name: str, attempt: int, now: float) -> Link:
        expires = self.policy.expires_at(now)
        signature = sign(self._secret, job_id, name, attempt, expires)
        query = urlencode({"attempt": attempt, "expires": expires, "signature": signature})
        return Link(f"{LINK_PREFIX}/{job_id}/{quote(name)}?{query}", expires)

    def verify(
        self, job_id: str, name: str, attempt: int, expires: int, signature: str, now: float
    ) -> None:
        """Raise unless the link is genuine and still valid (the signature is checked first:
        a forged link is told it is invalid, whatever its expiry says)."""
        if not signature_valid(self._secret, job_id, name, attempt, expires, signature):
            raise ArtifactLinkInvalid(
                "this artifact link is not valid: its signature does not match"
            )
        if expires <= now:
            raise ArtifactLinkExpired(
                "this artifact link has expired: read the job again for a fresh one",
                details={"expired_at": expires},
            )


class ArtifactService:
    def __init__(
        self, storage: Storage, store: ArtifactStore, policy: LinkPolicy | None = None
    ) -> None:
        self.storage = storage
        self.store = store
        self.policy = policy or LinkPolicy()
        self.signer: LinkSigner | None = None

    async def open(self) -> None:
        """Load (or make, once for every process) the links' secret."""
        secret = await self.storage.server_secret(SECRET_NAME, secrets.token_hex(32))
        self.signer = LinkSigner(secret.encode(), self.policy)

    async def listing(self, job: Job) -> list[Artifact]:
        """The job's files (its result file is its `result`, not listed here)."""
        files = await self.storage.artifacts_list(job.id)
        return [artifact for artifact in files if artifact.name != RESULT_NAME]

    async def find(self, job: Job, name: str) -> Artifact:
        check_name(name)
        return await self._get(job.id, name, None)

    async def result_file(self, job: Job) -> Artifact:
        ref = reference_of(job.result)
        if ref is None:
            raise ArtifactNotFound(f"Job '{job.id}' has its result inline")
        return await self._get(job.id, RESULT_NAME, ref.attempt)

    async def by_link(
        self, job_id: str, name: str, attempt: int, expires: int, signature: str
    ) -> Artifact:
        if self.signer is None:
            raise ArtifactLinkInvalid("artifact links are not served by this process")
        self.signer.verify(job_id, name, attempt, expires, signature, self.storage.now())
        try:
            return await self._get(job_id, name, attempt)
        except ArtifactNotFound:  # the link was genuine: say so if retention took the job
            purged_at = await self.storage.tombstone_get(job_id, None)
            if purged_at is None:
                raise
            message = f"Job '{job_id}' expired: its record and files were purged by retention"
            raise JobExpired(message, purged_at=purged_at, details={"job_id": job_id}) from None

    async def open_file(self, artifact: Artifact) -> BinaryIO:
        return await asyncio.to_thread(self.store.open_read, artifact.path)

    async def _get(self, job_id: str, name: str, attempt: int | None) -> Artifact:
        artifact = await self.storage.artifact_get(job_id, name)
        if artifact is None or (attempt is not None and artifact.attempt != attempt):
            shown = "its result file" if name == RESULT_NAME else f"a file named '{name}'"
            raise ArtifactNotFound(
                f"Job '{job_id}' has no {shown}", details={"job_id": job_id, "name": name}
            )
        return artifact
