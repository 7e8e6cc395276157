"""The Webhooks section: wire models of `/v1/webhooks`, `/v1/webhook-events` and
`/v1/callback-secret`, and their operations (see `openapi.py` for the table's shape)."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from joblane.api.openapi_types import Operation, Param, id_schema, or_empty
from joblane.core import ids
from joblane.core.webhooks import ALL_EVENTS, EVENT_TYPES

EventType = Literal[
    "job.completed",
    "job.failed",
    "job.cancelled",
    "batch.completed",
    "batch.failed",
    "batch.cancelled",
    "*",
]
assert set(get_args(EventType)) == {*EVENT_TYPES, ALL_EVENTS}
MAX_GRACE = 30 * 86400.0
NO_NUL = r"^[^\x00]*$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateWebhookBody(_Body):
    url: AnyHttpUrl = Field(description="http(s); public addresses only, unless allowed")
    events: list[EventType] = Field(default=["*"], min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=500, pattern=NO_NUL)
    enabled: bool = Field(default=True, strict=True)

    @field_validator("url")
    @classmethod
    def _short(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        if len(str(value)) > 2000:
            raise ValueError("at most 2000 characters")
        return value


class UpdateWebhookBody(_Body):
    url: AnyHttpUrl | None = None
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=500, pattern=NO_NUL)
    enabled: bool | None = Field(default=None, strict=True)

    @field_validator("url")
    @classmethod
    def _short(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if value is not None and len(str(value)) > 2000:
            raise ValueError("at most 2000 characters")
        return value


class RotateSecretBody(_Body):
    grace_seconds: float = Field(
        default=86400.0,
        ge=0,
        le=MAX_GRACE,
        strict=True,
        description="the old secret keeps signing (beside the new one) this long",
    )


class RedeliverBody(_Body):
    webhook_id: str | None = Field(
        default=None,
        pattern=id_schema(ids.WEBHOOK)["pattern"],
        description="only the delivery to this endpoint (default: every target of the event)",
    )


class WebhookOut(BaseModel):
    object: Literal["webhook"]
    id: str = Field(examples=["whk_01JD6X3K4M5N6P7Q8R9S0T1V2W"])
    url: str
    description: str | None
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    previous_secret_expires_at: str | None = Field(
        description="while in the future, deliveries are signed with the old secret too"
    )
    created_at: str
    updated_at: str


class CreatedWebhookOut(WebhookOut):
    secret: str = Field(description="whsec_…: shown in this response only (and on rotation)")


class WebhookList(BaseModel):
    object: Literal["list"]
    data: list[WebhookOut]
    next_cursor: str | None


class AttemptOut(BaseModel):
    attempt: int
    started_at: str
    finished_at: str | None = Field(description="null: the dispatcher died mid-attempt")
    status_code: int | None
    error: str | None
    duration: float | None = Field(description="seconds")


class DeliveryOut(BaseModel):
    object: Literal["webhook_delivery"]
    event_id: str = Field(description="the webhook-id header of its every attempt")
    event_type: str
    subject_id: str = Field(description="the job or batch the event is about")
    webhook_id: str | None = Field(description="null: to the job's or batch's callback_url")
    url: str | None = Field(description="a callback_url delivery's target")
    status: Literal["pending", "delivered", "failed", "cancelled"]
    attempt: int = Field(description="attempts made so far")
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: str
    updated_at: str
    delivered_at: str | None
    attempts: list[AttemptOut]


class DeliveryList(BaseModel):
    object: Literal["list"]
    data: list[DeliveryOut]
    next_cursor: str | None


class WebhookEventOut(BaseModel):
    object: Literal["webhook_event"]
    id: str
    type: str
    subject_id: str
    occurred_at: str
    payload: dict[str, Any] | None = Field(
        description="the body every attempt sends; null until its first dispatch"
    )
    deliveries: list[DeliveryOut]


class CallbackSecretOut(BaseModel):
    object: Literal["callback_secret"]
    secret: str = Field(description="whsec_…: signs every delivery to a callback_url")
    previous_secret_expires_at: str | None
    created_at: str
    updated_at: str


WEBHOOK_MODELS: tuple[type[BaseModel], ...] = (
    CreateWebhookBody,
    UpdateWebhookBody,
    RotateSecretBody,
    RedeliverBody,
    WebhookOut,
    CreatedWebhookOut,
    WebhookList,
    DeliveryList,
    WebhookEventOut,
    CallbackSecretOut,
)

WEBHOOK_ID = Param(
    "webhook_id",
    "path",
    "a webhook id: whk_ + 26 Crockford base32 characters",
    id_schema(ids.WEBHOOK),
)
EVENT_ID = Param(
    "event_id", "path", "an event id: evt_ + 26 Crockford base32 characters", id_schema(ids.EVENT)
)
LIMIT = Param("limit", "query", "page size", {"type": "integer", "minimum": 1, "maximum": 100})
STATUS = {"type": "string", "enum": ["pending", "delivered", "failed", "cancelled"]}
READ_ERRORS = (400, 401, 403, 404, 422, 500, 503)
WRITE_ERRORS = (*READ_ERRORS, 413, 415)

WEBHOOK_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post",
        "/v1/webhooks",
        "createWebhook",
        "Subscribe an endpoint to events; its signing secret is in this response only",
        {201: CreatedWebhookOut},
        body=CreateWebhookBody,
        errors=(401, 403, 409, 413, 415, 422, 500, 503),
    ),
    Operation(
        "get",
        "/v1/webhooks",
        "listWebhooks",
        "The tenant's webhook endpoints, newest first",
        {200: WebhookList},
        params=(
            LIMIT,
            Param(
                "cursor",
                "query",
                "next_cursor of the previous page",
                or_empty(id_schema(ids.WEBHOOK)),
            ),
        ),
        errors=(401, 403, 422, 500, 503),
    ),
    Operation(
        "get",
        "/v1/webhooks/{webhook_id}",
        "getWebhook",
        "A webhook endpoint (never its secret)",
        {200: WebhookOut},
        params=(WEBHOOK_ID,),
        errors=READ_ERRORS,
    ),
    Operation(
        "patch",
        "/v1/webhooks/{webhook_id}",
        "updateWebhook",
        "Change an endpoint's url, events, description or enabled (disabling cancels what "
        "it has waiting)",
        {200: WebhookOut},
        body=UpdateWebhookBody,
        params=(WEBHOOK_ID,),
        errors=WRITE_ERRORS,
    ),
    Operation(
        "delete",
        "/v1/webhooks/{webhook_id}",
        "deleteWebhook",
        "Delete an endpoint and its delivery log",
        {204: None},
        params=(WEBHOOK_ID,),
        errors=(400, 401, 403, 404, 500, 503),
    ),
    Operation(
        "post",
        "/v1/webhooks/{webhook_id}/rotate-secret",
        "rotateWebhookSecret",
        "A new signing secret now; the old one also signs for grace_seconds",
        {200: CreatedWebhookOut},
        body=RotateSecretBody,
        params=(WEBHOOK_ID,),
        errors=WRITE_ERRORS,
    ),
    Operation(
        "get",
        "/v1/webhooks/{webhook_id}/deliveries",
        "listWebhookDeliveries",
        "The endpoint's delivery log, newest event first, each with its attempts",
        {200: DeliveryList},
        params=(
            WEBHOOK_ID,
            Param("status", "query", "only deliveries in this state", STATUS),
            LIMIT,
            Param(
                "cursor",
                "query",
                "next_cursor of the previous page",
                or_empty(id_schema(ids.EVENT)),
            ),
        ),
        errors=READ_ERRORS,
    ),
    Operation(
        "get",
        "/v1/webhook-events/{event_id}",
        "getWebhookEvent",
        "A webhook event: its payload and its deliveries (endpoints and callback_url)",
        {200: WebhookEventOut},
        params=(EVENT_ID,),
        errors=READ_ERRORS,
    ),
    Operation(
        "post",
        "/v1/webhook-events/{event_id}/redeliver",
        "redeliverWebhookEvent",
        "Send an event again now (same webhook-id and body), on a fresh retry schedule",
        {202: WebhookEventOut},
        body=RedeliverBody,
        params=(EVENT_ID,),
        errors=(*WRITE_ERRORS, 409),
    ),
    Operation(
        "post",
        "/v1/callback-secret",
        "getCallbackSecret",
        "The secret that signs deliveries to callback_url (made on first use)",
        {200: CallbackSecretOut},
        errors=(401, 403, 500, 503),
    ),
    Operation(
        "post",
        "/v1/callback-secret/rotate",
        "rotateCallbackSecret",
        "A new callback secret now; the old one also signs for grace_seconds",
        {200: CallbackSecretOut},
        body=RotateSecretBody,
        errors=(401, 403, 413, 415, 422, 500, 503),
    ),
)
