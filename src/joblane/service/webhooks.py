"""Webhook endpoints, their deliveries and the tenant's callback secret (`/v1/webhooks`,
`/v1/webhook-events`, `/v1/callback-secret`).

A tenant sees and manages its own endpoints and events only (admin keys: every tenant's);
another tenant's ids answer exactly as unknown ones. A secret appears in exactly the responses
that make it: an endpoint's creation or rotation, and the callback secret's own calls.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass

from joblane.core import ids
from joblane.core.errors import (
    Conflict,
    InvalidEventId,
    InvalidWebhookId,
    ValidationFailed,
    WebhookEventNotFound,
    WebhookNotFound,
)
from joblane.core.job import Job
from joblane.core.principal import Principal
from joblane.core.targets import TargetPolicy
from joblane.core.webhooks import (
    CALLBACK,
    Delivery,
    EndpointChanges,
    SigningSecret,
    WebhookEndpoint,
    WebhookEvent,
    check_events,
)
from joblane.storage.base import Storage

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 bytes
MAX_ENDPOINTS = 50  # per tenant: every event fans out to each subscribed one
DEFAULT_GRACE = 24 * 3600.0
EVENT_SLACK = 5.0  # seconds around a job's lifetime where its events are looked for


def new_secret() -> str:
    """`whsec_` + base64 of random bytes, the form Standard Webhooks libraries read."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def _refuse(loc: list[str | int], message: str) -> ValidationFailed:
    return ValidationFailed(message, [{"loc": loc, "msg": message, "type": "value_error"}])


@dataclass(frozen=True, slots=True)
class EndpointPage:
    endpoints: list[WebhookEndpoint]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    deliveries: list[Delivery]
    next_cursor: str | None


class WebhookService:
    def __init__(self, storage: Storage, targets: TargetPolicy | None = None) -> None:
        self.storage = storage
        self.targets = targets or TargetPolicy()

    def check_target(self, url: str, loc: list[str | int]) -> None:
        """422 for a URL webhooks may not go to (judged without DNS; the dispatcher checks
        what its host resolves to before each attempt)."""
        problem = self.targets.url_problem(url)
        if problem is not None:
            raise _refuse(loc, f"{loc[-1]} refused: {problem}")

    # -- endpoints ---------------------------------------------------------------------------
    async def create(
        self,
        who: Principal,
        url: str,
        events: list[str],
        description: str | None = None,
        enabled: bool = True,
    ) -> WebhookEndpoint:
        self.check_target(url, ["body", "url"])
        _check_event_filter(events)
        existing = await self.storage.webhooks_list(who.tenant_id, None, MAX_ENDPOINTS)
        if len(existing) >= MAX_ENDPOINTS:
            raise Conflict(f"a tenant has at most {MAX_ENDPOINTS} webhook endpoints")
        now = self.storage.now()
        endpoint = WebhookEndpoint(
            id=ids.new_id(ids.WEBHOOK),
            tenant_id=who.tenant_id,
            url=url,
            events=tuple(dict.fromkeys(events)),
            enabled=enabled,
            signing=SigningSecret(new_secret(), created_at=now, updated_at=now),
            created_at=now,
            updated_at=now,
            description=description or None,
        )
        await self.storage.webhook_insert(endpoint)
        return await self.get(who, endpoint.id)

    async def get(self, who: Principal, webhook_id: str) -> WebhookEndpoint:
        _check_id(webhook_id, ids.WEBHOOK, InvalidWebhookId)
        endpoint = await self.storage.webhook_get(webhook_id, who.visible_tenant)
        if endpoint is None:
            raise WebhookNotFound(f"Webhook '{webhook_id}' not found")
        return endpoint

    async def list(self, who: Principal, before: str | None, limit: int) -> EndpointPage:
        found = await self.storage.webhooks_list(who.visible_tenant, before, limit + 1)
        more = len(found) > limit
        found = found[:limit]
        return EndpointPage(found, found[-1].id if more and found else None)

    async def update(
        self, who: Principal, webhook_id: str, changes: EndpointChanges
    ) -> WebhookEndpoint:
        await self.get(who, webhook_id)
        if changes.url is not None:
            self.check_target(changes.url, ["body", "url"])
        if changes.events is not None:
            _check_event_filter(list(changes.events))
            changes = EndpointChanges(
                changes.url,
                tuple(dict.fromkeys(changes.events)),
                changes.enabled,
                changes.description,
            )
        updated = await self.storage.webhook_update(webhook_id, who.visible_tenant, changes)
        if updated is None:  # deleted in between
            raise WebhookNotFound(f"Webhook '{webhook_id}' not found")
        return updated

    async def delete(self, who: Principal, webhook_id: str) -> None:
        await self.get(who, webhook_id)
        if not await self.storage.webhook_delete(webhook_id, who.visible_tenant):
            raise WebhookNotFound(f"Webhook '{webhook_id}' not found")

    async def rotate(self, who: Principal, webhook_id: str, grace: float) -> WebhookEndpoint:
        """A new secret signs from now on; the old one signs too for `grace` seconds (the
        receiver accepts either signature meanwhile)."""
        await self.get(who, webhook_id)
        expires = self.storage.now() + grace
        rotated = await self.storage.webhook_set_secret(
            webhook_id, who.visible_tenant, new_secret(), expires
        )
        if rotated is None:
            raise WebhookNotFound(f"Webhook '{webhook_id}' not found")
        return rotated

    # -- deliveries and events ---------------------------------------------------------------
    async def deliveries(
        self,
        who: Principal,
        webhook_id: str,
        before: str | None,
        state: str | None,
        limit: int,
    ) -> DeliveryPage:
        await self.get(who, webhook_id)
        found = await self.storage.webhook_deliveries(webhook_id, before, state, limit + 1)
        more = len(found) > limit
        found = found[:limit]
        return DeliveryPage(found, found[-1].event_id if more and found else None)

    async def of_job(self, who: Principal, job: Job, limit: int = 50) -> Sequence[Delivery]:
        """A job's deliveries, newest first (found through the job: `JobService.get` first, so
        tenancy is the job's). Its events were written within its lifetime; the slack covers
        the clocks of two statements."""
        since, until = job.created_at - EVENT_SLACK, job.updated_at + EVENT_SLACK
        return await self.storage.webhook_deliveries_of_subject(
            job.id, who.visible_tenant, since, until, limit
        )

    async def event(self, who: Principal, event_id: str) -> WebhookEvent:
        _check_id(event_id, ids.EVENT, InvalidEventId)
        event = await self.storage.webhook_event_get(event_id, who.visible_tenant)
        if event is None:
            raise WebhookEventNotFound(f"Webhook event '{event_id}' not found")
        return event

    async def redeliver(
        self, who: Principal, event_id: str, webhook_id: str | None
    ) -> WebhookEvent:
        """The event's deliveries (or its one to `webhook_id`) are due again now, on a fresh
        retry schedule, with the same `webhook-id` and body."""
        event = await self.event(who, event_id)
        if webhook_id is not None:
            targets = {d.target for d in event.deliveries if d.target != CALLBACK}
            if webhook_id not in targets:
                raise _refuse(
                    ["body", "webhook_id"], "webhook_id: this event has no delivery to it"
                )
            endpoint = await self.storage.webhook_get(webhook_id, event.tenant_id)
            if endpoint is not None and not endpoint.enabled:
                raise Conflict(f"webhook '{webhook_id}' is disabled: enable it first")
        await self.storage.webhook_redeliver(event_id, webhook_id)
        return await self.event(who, event_id)

    # -- the tenant's callback secret (signs deliveries to callback_url) ---------------------
    async def callback_secret(self, who: Principal) -> SigningSecret:
        return await self.storage.callback_secret(who.tenant_id, new_secret())

    async def rotate_callback_secret(self, who: Principal, grace: float) -> SigningSecret:
        expires = self.storage.now() + grace
        return await self.storage.callback_secret_rotate(who.tenant_id, new_secret(), expires)


def _check_event_filter(events: list[str]) -> None:
    problem = check_events(events)
    if problem is not None:
        raise _refuse(["body", "events"], f"events: {problem}")


def _check_id(value: str, prefix: str, error: type[InvalidWebhookId | InvalidEventId]) -> None:
    problem = ids.id_problem(value, prefix)
    if problem is not None:
        what = "webhook" if prefix == ids.WEBHOOK else "webhook event"
        raise error(f"'{value}' is not a valid {what} id: {problem}", details={"reason": problem})
