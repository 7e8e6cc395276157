"""Webhooks: event types, endpoints, deliveries and the retry schedule (pure: no I/O).

An event is written by storage in the transaction of the change it reports (the outbox); each
of its targets (a tenant endpoint subscribed to its type, or the job's or batch's own
`callback_url`) gets a delivery, which dispatchers claim with a lease and attempt until the
target answers 2xx, the schedule is spent, or the endpoint answers 410 Gone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from joblane.core.batch import Batch, ErrorGroup
from joblane.core.job import Job

JOB_EVENTS = ("job.completed", "job.failed", "job.cancelled")
BATCH_EVENTS = ("batch.completed", "batch.failed", "batch.cancelled")
EVENT_TYPES = (*JOB_EVENTS, *BATCH_EVENTS)
ALL_EVENTS = "*"
CALLBACK = "callback"  # the target of a delivery to a job's or batch's own callback_url

# Svix-like: after the first attempt fails, retry after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and
# 10 h (eight attempts over 27 h 35 min), each delay stretched by up to JITTER.
DEFAULT_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
JITTER = 0.1


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt, or being attempted (leased)
    DELIVERED = "delivered"  # the target answered 2xx
    FAILED = "failed"  # the schedule is spent (or a callback answered 410)
    CANCELLED = "cancelled"  # its endpoint was disabled or answered 410 meanwhile


def check_events(events: list[str]) -> str | None:
    """Why an endpoint's event filter is not valid, or None."""
    if not events:
        return "subscribe to at least one event type (or '*')"
    unknown = [e for e in events if e != ALL_EVENTS and e not in EVENT_TYPES]
    if unknown:
        return f"unknown event type {unknown[0]!r}; use {', '.join(EVENT_TYPES)} or '*'"
    return None


def subscribed(events: tuple[str, ...], event_type: str) -> bool:
    return ALL_EVENTS in events or event_type in events


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Delays between attempts: `delays[n - 1]` after the n-th failed attempt of a round (a
    redelivery starts a new round), then no more."""

    delays: tuple[float, ...] = DEFAULT_SCHEDULE
    jitter: float = JITTER

    def next_delay(self, attempt_in_round: int, rng: random.Random | None = None) -> float | None:
        if attempt_in_round < 1 or attempt_in_round > len(self.delays):
            return None
        base = self.delays[attempt_in_round - 1]
        return base * (1.0 + self.jitter * (rng or random).random())

    @property
    def attempts(self) -> int:
        return len(self.delays) + 1

    @property
    def span(self) -> float:
        """Seconds from the first attempt to the last, at least (jitter only adds)."""
        return sum(self.delays)


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    GONE = "gone"  # 410: the endpoint is disabled, its pending deliveries cancelled
    CANCELLED = "cancelled"  # not sent: the endpoint was disabled or deleted since the event


def verdict(status_code: int | None, attempt_in_round: int, schedule: RetrySchedule) -> Verdict:
    """What an attempt's answer (None: no answer at all) means for its delivery."""
    if status_code is not None and 200 <= status_code < 300:
        return Verdict.DELIVERED
    if status_code == 410:
        return Verdict.GONE
    if schedule.next_delay(attempt_in_round) is None:
        return Verdict.FAILED
    return Verdict.RETRY


@dataclass(frozen=True, slots=True)
class SigningSecret:
    """A secret (`whsec_` + base64) and, during a rotation's grace, the one it replaced: both
    sign until `previous_expires_at`."""

    secret: str
    previous: str | None = None
    previous_expires_at: float | None = None
    created_at: float = 0.0
    updated_at: float = 0.0

    def active(self, now: float) -> tuple[str, ...]:
        if self.previous and self.previous_expires_at and self.previous_expires_at > now:
            return (self.secret, self.previous)
        return (self.secret,)


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    tenant_id: str
    url: str
    events: tuple[str, ...]
    enabled: bool
    signing: SigningSecret
    created_at: float
    updated_at: float
    description: str | None = None
    disabled_reason: str | None = None


@dataclass(frozen=True, slots=True)
class EndpointChanges:
    """A PATCH: None leaves a field as it is (`description=""` clears it)."""

    url: str | None = None
    events: tuple[str, ...] | None = None
    enabled: bool | None = None
    description: str | None = None
    disabled_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    attempt: int
    started_at: float
    finished_at: float | None
    status_code: int | None
    error: str | None
    duration: float | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event's delivery to one target, with its attempts (as the API lists them)."""

    event_id: str
    event_type: str
    subject_id: str
    target: str  # an endpoint id, or CALLBACK
    url: str | None  # a callback's URL
    state: DeliveryState
    attempt: int
    next_attempt_at: float | None
    last_status: int | None
    last_error: str | None
    created_at: float
    updated_at: float
    delivered_at: float | None
    attempts: tuple[Attempt, ...] = ()

    @property
    def endpoint_id(self) -> str | None:
        return None if self.target == CALLBACK else self.target


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    id: str
    tenant_id: str
    type: str
    subject_id: str
    occurred_at: float
    body: bytes | None  # the payload, once the first dispatch rendered it
    deliveries: tuple[Delivery, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery a dispatcher holds (until `lease_token` is spent or its lease lapses): with
    what it needs to send it."""

    event_id: str
    target: str
    tenant_id: str
    event_type: str
    subject_id: str
    occurred_at: float
    attempt: int
    round_start: int
    lease_token: str
    url: str | None  # the callback's, or the endpoint's (None: the endpoint is gone)
    endpoint_enabled: bool  # False: disabled (or deleted) since the event; not sent
    signing: SigningSecret | None  # the endpoint's; None for a callback (the tenant's secret)
    body: bytes | None  # the payload, once rendered (then `subject` is None)
    subject: Job | Batch | None = None  # the job or batch as it was at the event
    error_groups: tuple[ErrorGroup, ...] = ()  # a batch's, at the event

    @property
    def attempt_in_round(self) -> int:
        return self.attempt - self.round_start + 1


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What an attempt came to, for `webhook_delivery_finish` (guarded by the lease)."""

    event_id: str
    target: str
    lease_token: str
    attempt: int
    verdict: Verdict
    status_code: int | None
    error: str | None
    duration: float
    retry_in: float | None = None  # seconds, for Verdict.RETRY
    endpoint_id: str | None = None
