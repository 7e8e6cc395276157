"""Artifacts on the wire: a job's result reference with a fresh signed link, its files, and the
ETag of a job whose body carries a link."""

from __future__ import annotations

from typing import Any

from joblane.api.http import etag
from joblane.core.artifact import Artifact, reference_of
from joblane.core.clock import to_rfc3339
from joblane.core.job import Job
from joblane.core.states import JobState
from joblane.service.artifacts import LinkSigner


def result_body(job_id: str, result: Any, links: LinkSigner | None, now: float) -> Any:
    """A stored result as the contract shows it: inline as it is; a result file as
    `{"artifact": {url, size, sha256, content_type, expires_at}, "preview": …}`. Without a
    signer (a process that serves no links) the url is the authenticated result endpoint."""
    ref = reference_of(result)
    if ref is None:
        return result
    url, expires_at = f"/v1/jobs/{job_id}/result", None
    if links is not None:
        link = links.link(job_id, ref.name, ref.attempt, now)
        url, expires_at = link.url, to_rfc3339(link.expires_at)
    artifact = {
        "url": url,
        "size": ref.size,
        "sha256": ref.sha256,
        "content_type": ref.content_type,
        "expires_at": expires_at,
    }
    return {"artifact": artifact, "preview": ref.preview}


def artifact_body(artifact: Artifact, links: LinkSigner | None, now: float) -> dict[str, Any]:
    url, expires_at = f"/v1/jobs/{artifact.job_id}/artifacts/{artifact.name}", None
    if links is not None:
        link = links.link(artifact.job_id, artifact.name, artifact.attempt, now)
        url, expires_at = link.url, to_rfc3339(link.expires_at)
    return {
        "object": "artifact",
        "name": artifact.name,
        "size": artifact.size,
        "sha256": artifact.sha256,
        "content_type": artifact.content_type,
        "attempt": artifact.attempt,
        "created_at": to_rfc3339(artifact.created_at),
        "url": url,
        "expires_at": expires_at,
    }


def job_etag(job: Job, links: LinkSigner | None, now: float) -> str:
    """`"version"`; for a job whose body carries a signed link, `"version.epoch"`: the link
    (and so the body) changes once per link step while the version stays, and a 304 must only
    confirm a body whose link is still good (each lives a step longer than the link's ttl)."""
    if links is None or job.state is not JobState.COMPLETED or reference_of(job.result) is None:
        return etag(job.version)
    return f'"{job.version}.{links.policy.epoch(now)}"'
