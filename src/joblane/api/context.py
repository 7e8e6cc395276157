"""What route handlers need, stored once on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from joblane.api.auth import authenticate, authorize
from joblane.api.ratelimit import RateLimits
from joblane.core.principal import Principal
from joblane.service.artifacts import ArtifactService, LinkSigner
from joblane.service.batches import BatchService
from joblane.service.jobs import JobService
from joblane.service.keys import KeyService
from joblane.service.webhooks import WebhookService
from joblane.storage.base import Storage


@dataclass(frozen=True, slots=True)
class ApiSettings:
    max_body_bytes: int = 1024 * 1024
    max_wait: float = 60.0
    max_batch_bytes: int = 256 * 1024 * 1024
    max_json_depth: int = 32  # levels of arrays and objects in a job's input


@dataclass(frozen=True, slots=True)
class ApiContext:
    storage: Storage
    jobs: JobService
    keys: KeyService
    settings: ApiSettings
    batches: BatchService
    limits: RateLimits | None = None  # None: no rate limits (tests)
    artifacts: ArtifactService | None = None  # None: no artifact store (results stay inline)
    webhooks: WebhookService | None = None  # None: one with the default target policy

    @property
    def webhook_service(self) -> WebhookService:
        """Webhook endpoints and events, and the check of callback_url targets."""
        return self.webhooks or WebhookService(self.storage)

    @property
    def links(self) -> LinkSigner | None:
        """Mints the signed links of artifacts in job bodies (None: none are minted)."""
        return None if self.artifacts is None else self.artifacts.signer


def api_context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


async def caller(request: Request) -> tuple[ApiContext, Principal]:
    ctx = api_context(request)
    who = await authenticate(request, ctx.keys)
    if ctx.limits is not None:
        await ctx.limits.charge(request, who)
    authorize(request, who)  # after the charge: a refused request costs a unit too
    return ctx, who
