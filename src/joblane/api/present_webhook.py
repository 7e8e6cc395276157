"""Webhook endpoints, deliveries, events and secrets as the contract shows them."""

from __future__ import annotations

from typing import Any

import orjson

from joblane.core.clock import to_rfc3339
from joblane.core.webhooks import Attempt, Delivery, SigningSecret, WebhookEndpoint, WebhookEvent


def webhook_body(endpoint: WebhookEndpoint, now: float) -> dict[str, Any]:
    signing = endpoint.signing
    grace = signing.previous_expires_at
    return {
        "object": "webhook",
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "previous_secret_expires_at": to_rfc3339(grace) if grace and grace > now else None,
        "created_at": to_rfc3339(endpoint.created_at),
        "updated_at": to_rfc3339(endpoint.updated_at),
    }


def created_webhook_body(endpoint: WebhookEndpoint, now: float) -> dict[str, Any]:
    """The one kind of response that shows an endpoint's secret: its creation, a rotation."""
    return {**webhook_body(endpoint, now), "secret": endpoint.signing.secret}


def attempt_body(attempt: Attempt) -> dict[str, Any]:
    return {
        "attempt": attempt.attempt,
        "started_at": to_rfc3339(attempt.started_at),
        "finished_at": to_rfc3339(attempt.finished_at),
        "status_code": attempt.status_code,
        "error": attempt.error,
        "duration": attempt.duration,
    }


def delivery_body(delivery: Delivery) -> dict[str, Any]:
    return {
        "object": "webhook_delivery",
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "subject_id": delivery.subject_id,
        "webhook_id": delivery.endpoint_id,
        "url": delivery.url,
        "status": delivery.state.value,
        "attempt": delivery.attempt,
        "next_attempt_at": to_rfc3339(delivery.next_attempt_at),
        "last_status_code": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": to_rfc3339(delivery.created_at),
        "updated_at": to_rfc3339(delivery.updated_at),
        "delivered_at": to_rfc3339(delivery.delivered_at),
        "attempts": [attempt_body(a) for a in delivery.attempts],
    }


def event_body(event: WebhookEvent) -> dict[str, Any]:
    return {
        "object": "webhook_event",
        "id": event.id,
        "type": event.type,
        "subject_id": event.subject_id,
        "occurred_at": to_rfc3339(event.occurred_at),
        "payload": None if event.body is None else orjson.loads(event.body),
        "deliveries": [delivery_body(d) for d in event.deliveries],
    }


def callback_secret_body(signing: SigningSecret, now: float) -> dict[str, Any]:
    grace = signing.previous_expires_at
    return {
        "object": "callback_secret",
        "secret": signing.secret,
        "previous_secret_expires_at": to_rfc3339(grace) if grace and grace > now else None,
        "created_at": to_rfc3339(signing.created_at),
        "updated_at": to_rfc3339(signing.updated_at),
    }
