"""A job's files: `GET /v1/jobs/{id}/artifacts` (list), `GET /v1/jobs/{id}/artifacts/{name}`
(download), the result file behind `GET /v1/jobs/{id}/result`, and signed links
(`GET /v1/artifacts/{job_id}/{name}?attempt=&expires=&signature=`, no API key).

Every keyed route finds the job first (`JobService.get`): another tenant's job answers exactly
like one that does not exist, before anything about its files is looked at."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from joblane.api.context import ApiContext, api_context, caller
from joblane.api.downloads import serve_file
from joblane.api.http import json_response
from joblane.api.present_artifact import artifact_body
from joblane.core.errors import ArtifactLinkInvalid, NotImplementedType
from joblane.core.job import Job
from joblane.service.artifacts import ArtifactService


def service_of(ctx: ApiContext) -> ArtifactService:
    if ctx.artifacts is None:
        raise NotImplementedType("this server keeps no artifacts (no artifact store is set)")
    return ctx.artifacts


def attachment(name: str) -> str:
    return f'attachment; filename="{name}"'  # names are [A-Za-z0-9._-]: nothing to escape


async def list_artifacts(request: Request) -> Response:
    ctx, who = await caller(request)
    job = await ctx.jobs.get(who, request.path_params["job_id"])
    service = service_of(ctx)
    now = ctx.storage.now()
    data = [artifact_body(a, service.signer, now) for a in await service.listing(job)]
    return json_response({"object": "list", "data": data})


async def download(request: Request) -> Response:
    ctx, who = await caller(request)
    job = await ctx.jobs.get(who, request.path_params["job_id"])
    service = service_of(ctx)
    artifact = await service.find(job, request.path_params["name"])
    return await serve_file(request, service, artifact, disposition=attachment(artifact.name))


async def result_file(request: Request, ctx: ApiContext, job: Job) -> Response:
    """`GET /v1/jobs/{id}/result` of a job whose result is a file (jobs.py asks)."""
    service = service_of(ctx)
    return await serve_file(request, service, await service.result_file(job))


async def signed(request: Request) -> Response:
    """No API key: the signature is the credential (and is checked before anything else)."""
    service = service_of(api_context(request))
    job_id, name = request.path_params["job_id"], request.path_params["name"]
    query = request.query_params
    attempt, expires = query.get("attempt", ""), query.get("expires", "")
    signature = query.get("signature", "")
    if not (attempt.isascii() and attempt.isdigit() and expires.isascii() and expires.isdigit()):
        raise ArtifactLinkInvalid(
            "this artifact link is not valid: attempt and expires are missing"
        )
    artifact = await service.by_link(job_id, name, int(attempt), int(expires), signature)
    disposition = None if artifact.name.startswith("_") else attachment(artifact.name)
    return await serve_file(request, service, artifact, disposition=disposition)


routes = [
    Route("/v1/jobs/{job_id}/artifacts", list_artifacts, methods=["GET"]),
    Route("/v1/jobs/{job_id}/artifacts/{name}", download, methods=["GET"]),
    Route("/v1/artifacts/{job_id}/{name}", signed, methods=["GET"]),
]
