"""The Webhooks section: tenant endpoints (`/v1/webhooks`), their delivery logs, events and
redelivery (`/v1/webhook-events`), and the tenant's callback secret (`/v1/callback-secret`).

Scopes as everywhere: `jobs:read` to read, `jobs:write` for the rest. Secrets are only ever in
the responses of POSTs (creation, rotation, the callback secret), never in a GET.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from joblane.api.batch_query import parse_query
from joblane.api.context import caller
from joblane.api.http import json_response, parse_json_body
from joblane.api.openapi_webhooks import (
    CreateWebhookBody,
    RedeliverBody,
    RotateSecretBody,
    UpdateWebhookBody,
)
from joblane.api.present_webhook import (
    callback_secret_body,
    created_webhook_body,
    delivery_body,
    event_body,
    webhook_body,
)
from joblane.core import ids
from joblane.core.webhooks import DeliveryState, EndpointChanges

MAX_PAGE = 100


def _cursor(value: str | None, prefix: str) -> str | None:
    if not value:
        return None
    if not ids.is_valid(value, prefix):
        raise ValueError("not a cursor returned by this API")
    return value


class WebhooksQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    cursor: str | None = None

    @field_validator("cursor")
    @classmethod
    def _webhook_cursor(cls, value: str | None) -> str | None:
        return _cursor(value, ids.WEBHOOK)


class DeliveriesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: DeliveryState | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    cursor: str | None = None

    @field_validator("cursor")
    @classmethod
    def _event_cursor(cls, value: str | None) -> str | None:
        return _cursor(value, ids.EVENT)


class NoQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- endpoints --------------------------------------------------------------------------------
async def create(request: Request) -> Response:
    ctx, who = await caller(request)
    body = await parse_json_body(request, CreateWebhookBody, ctx.settings.max_body_bytes)
    endpoint = await ctx.webhook_service.create(
        who, str(body.url), list(body.events), body.description, body.enabled
    )
    headers = {"Location": f"/v1/webhooks/{endpoint.id}"}
    return json_response(created_webhook_body(endpoint, ctx.storage.now()), 201, headers)


async def list_webhooks(request: Request) -> Response:
    ctx, who = await caller(request)
    query = parse_query(request.query_params, WebhooksQuery)
    page = await ctx.webhook_service.list(who, query.cursor, query.limit)
    now = ctx.storage.now()
    data = [webhook_body(endpoint, now) for endpoint in page.endpoints]
    return json_response({"object": "list", "data": data, "next_cursor": page.next_cursor})


async def get(request: Request) -> Response:
    ctx, who = await caller(request)
    parse_query(request.query_params, NoQuery)
    endpoint = await ctx.webhook_service.get(who, request.path_params["webhook_id"])
    return json_response(webhook_body(endpoint, ctx.storage.now()))


async def update(request: Request) -> Response:
    ctx, who = await caller(request)
    service = ctx.webhook_service
    webhook_id = request.path_params["webhook_id"]
    await service.get(who, webhook_id)  # a malformed or unknown id before the body
    body = await parse_json_body(request, UpdateWebhookBody, ctx.settings.max_body_bytes)
    changes = EndpointChanges(
        url=None if body.url is None else str(body.url),
        events=None if body.events is None else tuple(body.events),
        enabled=body.enabled,
        description=_description(body),
    )
    endpoint = await service.update(who, webhook_id, changes)
    return json_response(webhook_body(endpoint, ctx.storage.now()))


def _description(body: UpdateWebhookBody) -> str | None:
    """None leaves it; an explicit null (or "") clears it."""
    if "description" not in body.model_fields_set:
        return None
    return body.description or ""


async def delete(request: Request) -> Response:
    ctx, who = await caller(request)
    await ctx.webhook_service.delete(who, request.path_params["webhook_id"])
    return Response(status_code=204)


async def rotate_secret(request: Request) -> Response:
    ctx, who = await caller(request)
    service = ctx.webhook_service
    webhook_id = request.path_params["webhook_id"]
    await service.get(who, webhook_id)
    body = await parse_json_body(
        request, RotateSecretBody, ctx.settings.max_body_bytes, optional=True
    )
    endpoint = await service.rotate(who, webhook_id, body.grace_seconds)
    return json_response(created_webhook_body(endpoint, ctx.storage.now()))


async def deliveries(request: Request) -> Response:
    ctx, who = await caller(request)
    service = ctx.webhook_service
    webhook_id = request.path_params["webhook_id"]
    await service.get(who, webhook_id)
    query = parse_query(request.query_params, DeliveriesQuery)
    state = None if query.status is None else query.status.value
    page = await service.deliveries(who, webhook_id, query.cursor, state, query.limit)
    data = [delivery_body(d) for d in page.deliveries]
    return json_response({"object": "list", "data": data, "next_cursor": page.next_cursor})


# -- events -----------------------------------------------------------------------------------
async def get_event(request: Request) -> Response:
    ctx, who = await caller(request)
    parse_query(request.query_params, NoQuery)
    event = await ctx.webhook_service.event(who, request.path_params["event_id"])
    return json_response(event_body(event))


async def redeliver(request: Request) -> Response:
    ctx, who = await caller(request)
    service = ctx.webhook_service
    event_id = request.path_params["event_id"]
    await service.event(who, event_id)
    body = await parse_json_body(request, RedeliverBody, ctx.settings.max_body_bytes, optional=True)
    event = await service.redeliver(who, event_id, body.webhook_id)
    return json_response(event_body(event), 202)


# -- the callback secret ----------------------------------------------------------------------
async def callback_secret(request: Request) -> Response:
    ctx, who = await caller(request)
    signing = await ctx.webhook_service.callback_secret(who)
    return json_response(callback_secret_body(signing, ctx.storage.now()))


async def rotate_callback_secret(request: Request) -> Response:
    ctx, who = await caller(request)
    body = await parse_json_body(
        request, RotateSecretBody, ctx.settings.max_body_bytes, optional=True
    )
    signing = await ctx.webhook_service.rotate_callback_secret(who, body.grace_seconds)
    return json_response(callback_secret_body(signing, ctx.storage.now()))


routes = [
    Route("/v1/webhooks", create, methods=["POST"]),
    Route("/v1/webhooks", list_webhooks, methods=["GET"]),
    Route("/v1/webhooks/{webhook_id}", get, methods=["GET"]),
    Route("/v1/webhooks/{webhook_id}", update, methods=["PATCH"]),
    Route("/v1/webhooks/{webhook_id}", delete, methods=["DELETE"]),
    Route("/v1/webhooks/{webhook_id}/rotate-secret", rotate_secret, methods=["POST"]),
    Route("/v1/webhooks/{webhook_id}/deliveries", deliveries, methods=["GET"]),
    Route("/v1/webhook-events/{event_id}", get_event, methods=["GET"]),
    Route("/v1/webhook-events/{event_id}/redeliver", redeliver, methods=["POST"]),
    Route("/v1/callback-secret", callback_secret, methods=["POST"]),
    Route("/v1/callback-secret/rotate", rotate_callback_secret, methods=["POST"]),
]
