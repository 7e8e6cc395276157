"""Webhook rows to domain objects, and parameters of the webhook writes, for every backend.

Rows are read by column name (`sqlite3.Row` and `asyncpg.Record` both allow it). What differs
between the backends is passed in: an endpoint's event types (a JSON array on SQLite, `text[]`
on PostgreSQL) and a decoded snapshot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from joblane.core.batch import Batch, ErrorGroup
from joblane.core.job import Job
from joblane.core.webhooks import (
    CALLBACK,
    Attempt,
    ClaimedDelivery,
    Delivery,
    DeliveryResult,
    DeliveryState,
    EndpointChanges,
    SigningSecret,
    Verdict,
    WebhookEndpoint,
)
from joblane.storage.batchmap import batch_from_row
from joblane.storage.rowmap import JOB_COLUMNS, JobReader

# what each verdict leaves the delivery in
STATE_AFTER = {
    Verdict.DELIVERED: DeliveryState.DELIVERED,
    Verdict.RETRY: DeliveryState.PENDING,
    Verdict.FAILED: DeliveryState.FAILED,
    Verdict.GONE: DeliveryState.FAILED,
    Verdict.CANCELLED: DeliveryState.CANCELLED,
}
GONE_REASON = "the endpoint answered 410 Gone"
DISABLED_REASON = "disabled by a user"


class Row(Protocol):
    def __getitem__(self, key: str) -> Any: ...


def signing_from_row(row: Row) -> SigningSecret:
    return SigningSecret(
        secret=row["secret"],
        previous=row["previous_secret"],
        previous_expires_at=row["previous_secret_expires_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def endpoint_from_row(row: Row, events: Sequence[str]) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row["id"],
        tenant_id=row["tenant_id"],
        url=row["url"],
        events=tuple(events),
        enabled=bool(row["enabled"]),
        signing=signing_from_row(row),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        description=row["description"],
        disabled_reason=row["disabled_reason"],
    )


def endpoint_params(endpoint: WebhookEndpoint, events: Any) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "tenant_id": endpoint.tenant_id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": events,
        "enabled": endpoint.enabled,
        "secret": endpoint.signing.secret,
        "now": endpoint.created_at,
    }


def update_params(
    webhook_id: str, tenant_id: str | None, changes: EndpointChanges, events: Any
) -> dict[str, Any]:
    """A PATCH: each field is set only when given (`description=""` clears it); disabling
    records why, enabling forgets it."""
    return {
        "id": webhook_id,
        "tenant_id": tenant_id,
        "url": changes.url,
        "events": events,
        "enabled": changes.enabled,
        "set_description": changes.description is not None,
        "description": changes.description or None,
        "disabled_reason": changes.disabled_reason or DISABLED_REASON,
    }


def attempt_from_row(row: Row) -> Attempt:
    return Attempt(
        attempt=row["attempt"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        status_code=row["status_code"],
        error=row["error"],
        duration=row["duration"],
    )


def attempts_by_delivery(rows: Iterable[Row]) -> dict[tuple[str, str], list[Attempt]]:
    grouped: dict[tuple[str, str], list[Attempt]] = defaultdict(list)
    for row in rows:
        grouped[(row["event_id"], row["target"])].append(attempt_from_row(row))
    return grouped


def delivery_from_row(row: Row, attempts: Sequence[Attempt] = ()) -> Delivery:
    state = DeliveryState(row["state"])
    return Delivery(
        event_id=row["event_id"],
        event_type=row["event_type"],
        subject_id=row["subject_id"],
        target=row["target"],
        url=row["url"],
        state=state,
        attempt=row["attempt"],
        next_attempt_at=row["next_attempt_at"] if state is DeliveryState.PENDING else None,
        last_status=row["last_status"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        delivered_at=row["delivered_at"],
        attempts=tuple(sorted(attempts, key=lambda a: a.attempt)),
    )


def deliveries_from_rows(rows: Sequence[Row], attempt_rows: Iterable[Row]) -> list[Delivery]:
    attempts = attempts_by_delivery(attempt_rows)
    return [
        delivery_from_row(row, attempts.get((row["event_id"], row["target"]), ())) for row in rows
    ]


def claimed_from_row(row: Row, snapshot: dict[str, Any] | None) -> ClaimedDelivery:
    """A claimed delivery joined with its event and (for an endpoint's) the endpoint."""
    callback = row["target"] == CALLBACK
    endpoint_found = row["endpoint_url"] is not None
    body = row["body"]
    subject: Job | Batch | None = None
    groups: tuple[ErrorGroup, ...] = ()
    if snapshot is not None and body is None:
        if row["event_type"].startswith("job."):
            subject = job_from_snapshot(snapshot)
        else:
            subject, groups = batch_from_snapshot(snapshot)
    return ClaimedDelivery(
        event_id=row["event_id"],
        target=row["target"],
        tenant_id=row["tenant_id"],
        event_type=row["event_type"],
        subject_id=row["subject_id"],
        occurred_at=row["occurred_at"],
        attempt=row["attempt"],
        round_start=row["round_start"],
        lease_token=row["lease_token"],
        url=row["url"] if callback else row["endpoint_url"],
        endpoint_enabled=callback or (endpoint_found and bool(row["endpoint_enabled"])),
        signing=None if callback or not endpoint_found else signing_from_row(_Prefixed(row)),
        body=body.encode() if isinstance(body, str) else body,
        subject=subject,
        error_groups=groups,
    )


class _SnapshotRow:
    """A job snapshot (a JSON object of its columns) as the row `JobReader` reads."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self._values = tuple(snapshot.get(column) for column in JOB_COLUMNS)

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index: Any) -> Any:
        return self._values[index]

    def keys(self) -> Iterable[str]:
        return JOB_COLUMNS


_SNAPSHOTS = JobReader(lambda value: value)  # a snapshot's JSON columns are decoded already


def job_from_snapshot(snapshot: dict[str, Any]) -> Job:
    return _SNAPSHOTS.read(_SnapshotRow(snapshot))


def batch_from_snapshot(snapshot: dict[str, Any]) -> tuple[Batch, tuple[ErrorGroup, ...]]:
    """The batch row with its summed counts, and its error groups (biggest first)."""
    groups = sorted(
        (
            ErrorGroup(g["code"], int(g["count"]), tuple(g["sample"] or ())[:10], g["resolution"])
            for g in snapshot.get("errors") or ()
            if int(g["count"]) > 0
        ),
        key=lambda g: (-g.count, g.code),
    )
    return batch_from_row(snapshot), tuple(groups)


class _Prefixed:
    """The endpoint's columns of a claim row (`endpoint_secret`, …) under their own names."""

    def __init__(self, row: Row) -> None:
        self._row = row

    def __getitem__(self, key: str) -> Any:
        return self._row[f"endpoint_{key}"]


def finish_params(result: DeliveryResult, now: float) -> dict[str, Any]:
    state = STATE_AFTER[result.verdict]
    retry_in = (result.retry_in or 0.0) if result.verdict is Verdict.RETRY else 0.0
    return {
        "event_id": result.event_id,
        "target": result.target,
        "token": result.lease_token,
        "attempt": result.attempt,
        "state": state.value,
        "retry_in": retry_in,
        "status_code": result.status_code,
        "error": result.error,
        "duration": result.duration,
        "delivered": state is DeliveryState.DELIVERED,
        "now": now,
    }
