"""Webhooks on PostgreSQL (`PostgresWebhooks`, a mixin of `PostgresStorage`): endpoints,
callback secrets, and the deliveries of the outbox that migration 0007's triggers fill. SQL in
`webhooks.sql`; many dispatchers claim deliveries at once (`FOR UPDATE SKIP LOCKED`, leases)."""

from __future__ import annotations

import secrets
from typing import Any

import asyncpg

from joblane.core.webhooks import (
    ClaimedDelivery,
    Delivery,
    DeliveryResult,
    EndpointChanges,
    SigningSecret,
    Verdict,
    WebhookEndpoint,
    WebhookEvent,
)
from joblane.storage.postgres.connection import Conn
from joblane.storage.postgres.mixin import PostgresMixin
from joblane.storage.sqlfiles import load_positional
from joblane.storage.webhookmap import (
    GONE_REASON,
    claimed_from_row,
    deliveries_from_rows,
    endpoint_from_row,
    endpoint_params,
    finish_params,
    signing_from_row,
    update_params,
)

Q = load_positional("joblane.storage.postgres", "webhooks.sql")


async def _fetch(conn: Conn, query: str, **params: Any) -> list[asyncpg.Record]:
    q = Q[query]
    return list(await conn.fetch(q.sql, *q.args(params)))


def _endpoint(row: asyncpg.Record) -> WebhookEndpoint:
    return endpoint_from_row(row, row["events"])


def _claimed(row: asyncpg.Record) -> ClaimedDelivery:
    snapshot: dict[str, Any] | None = row["snapshot"]  # decoded by the pool's jsonb codec
    return claimed_from_row(row, snapshot)


class PostgresWebhooks(PostgresMixin):
    async def _webhook_rows(self, query: str, **params: Any) -> list[asyncpg.Record]:
        async with self._conn() as conn:
            return await _fetch(conn, query, **params)

    # -- endpoints ---------------------------------------------------------------------------
    async def webhook_insert(self, endpoint: WebhookEndpoint) -> None:
        await self._webhook_rows(
            "webhook_insert", **endpoint_params(endpoint, list(endpoint.events))
        )

    async def webhook_get(self, webhook_id: str, tenant_id: str | None) -> WebhookEndpoint | None:
        rows = await self._webhook_rows("webhook_get", id=webhook_id, tenant_id=tenant_id)
        return _endpoint(rows[0]) if rows else None

    async def webhooks_list(
        self, tenant_id: str | None, before_id: str | None, limit: int
    ) -> list[WebhookEndpoint]:
        rows = await self._webhook_rows(
            "webhooks_list", tenant_id=tenant_id, before_id=before_id, limit=limit
        )
        return [_endpoint(row) for row in rows]

    async def webhook_update(
        self, webhook_id: str, tenant_id: str | None, changes: EndpointChanges
    ) -> WebhookEndpoint | None:
        events = None if changes.events is None else list(changes.events)
        params = update_params(webhook_id, tenant_id, changes, events)
        rows = await self._webhook_rows("webhook_update", **params)
        return _endpoint(rows[0]) if rows else None

    async def webhook_delete(self, webhook_id: str, tenant_id: str | None) -> bool:
        rows = await self._webhook_rows("webhook_delete", id=webhook_id, tenant_id=tenant_id)
        return bool(rows)

    async def webhook_set_secret(
        self, webhook_id: str, tenant_id: str | None, secret: str, previous_expires_at: float
    ) -> WebhookEndpoint | None:
        rows = await self._webhook_rows(
            "webhook_set_secret",
            id=webhook_id,
            tenant_id=tenant_id,
            secret=secret,
            previous_expires_at=previous_expires_at,
        )
        return _endpoint(rows[0]) if rows else None

    # -- the tenant's callback secret --------------------------------------------------------
    async def callback_secret(self, tenant_id: str, candidate: str) -> SigningSecret:
        rows = await self._webhook_rows("callback_secret_get", tenant_id=tenant_id)
        if not rows:
            rows = await self._webhook_rows(
                "callback_secret_init", tenant_id=tenant_id, secret=candidate
            )
        return signing_from_row(rows[0])

    async def callback_secret_rotate(
        self, tenant_id: str, secret: str, previous_expires_at: float
    ) -> SigningSecret:
        rows = await self._webhook_rows(
            "callback_secret_rotate",
            tenant_id=tenant_id,
            secret=secret,
            previous_expires_at=previous_expires_at,
        )
        return signing_from_row(rows[0])

    # -- deliveries and events, as the API shows them ----------------------------------------
    async def webhook_deliveries(
        self, webhook_id: str, before_event_id: str | None, state: str | None, limit: int
    ) -> list[Delivery]:
        async with self._conn() as conn:
            rows = await _fetch(
                conn,
                "webhook_deliveries_page",
                endpoint_id=webhook_id,
                before=before_event_id,
                state=state,
                limit=limit,
            )
            attempts = await _fetch(
                conn,
                "webhook_attempts_of_endpoint",
                target=webhook_id,
                event_ids=[row["event_id"] for row in rows],
            )
        return deliveries_from_rows(rows, attempts)

    async def webhook_deliveries_of_subject(
        self, subject_id: str, tenant_id: str | None, since: float, until: float, limit: int
    ) -> list[Delivery]:
        async with self._conn() as conn:
            rows = await _fetch(
                conn,
                "webhook_deliveries_of_subject",
                subject_id=subject_id,
                tenant_id=tenant_id,
                since=since,
                until=until,
                limit=limit,
            )
            attempts = await _fetch(
                conn,
                "webhook_attempts_of_events",
                event_ids=sorted({row["event_id"] for row in rows}),
            )
        return deliveries_from_rows(rows, attempts)

    async def webhook_event_get(self, event_id: str, tenant_id: str | None) -> WebhookEvent | None:
        async with self._conn() as conn:
            rows = await _fetch(conn, "webhook_event_get", id=event_id, tenant_id=tenant_id)
            if not rows:
                return None
            deliveries = await _fetch(conn, "webhook_event_deliveries", id=event_id)
            attempts = await _fetch(conn, "webhook_event_attempts", id=event_id)
        row = rows[0]
        body = row["body"]
        return WebhookEvent(
            id=row["id"],
            tenant_id=row["tenant_id"],
            type=row["type"],
            subject_id=row["subject_id"],
            occurred_at=row["occurred_at"],
            body=body.encode() if body is not None else None,
            deliveries=tuple(deliveries_from_rows(deliveries, attempts)),
        )

    async def webhook_redeliver(self, event_id: str, target: str | None) -> int:
        async with self._conn() as conn:
            q = Q["webhook_redeliver"]
            status = await conn.execute(q.sql, *q.args({"event_id": event_id, "target": target}))
            count = int(status.split()[-1])
            if count:  # due again now: wake the idle dispatchers (inserts NOTIFY by trigger)
                await conn.execute("SELECT pg_notify('joblane_webhooks', '')")
        return count

    # -- the dispatcher's side ---------------------------------------------------------------
    async def webhook_deliveries_claim(
        self, limit: int, lease_seconds: float
    ) -> list[ClaimedDelivery]:
        rows = await self._webhook_rows(
            "webhook_deliveries_claim",
            limit=limit,
            lease_seconds=lease_seconds,
            token=secrets.token_hex(12),
        )
        return [_claimed(row) for row in rows]

    async def webhook_event_render(self, event_id: str, body: bytes) -> bytes:
        rows = await self._webhook_rows("webhook_event_render", id=event_id, body=body.decode())
        stored: str = rows[0]["body"]
        return stored.encode()

    async def webhook_delivery_finish(self, result: DeliveryResult) -> bool:
        params = finish_params(result, 0.0)
        async with self._tx() as conn:
            rows = await _fetch(conn, "webhook_delivery_finish", **params)
            finished = bool(rows[0]["finished"])
            if finished and result.verdict is Verdict.GONE and result.endpoint_id is not None:
                await _fetch(conn, "webhook_gone", id=result.endpoint_id, reason=GONE_REASON)
        return finished

    async def webhook_next_due(self) -> float | None:
        rows = await self._webhook_rows("webhook_next_due")
        due: float | None = rows[0][0] if rows else None
        return due

    async def webhook_events_purge(self, before: float, limit: int) -> int:
        async with self._conn() as conn:
            q = Q["webhook_events_purge"]
            status = await conn.execute(q.sql, *q.args({"before": before, "limit": limit}))
        return int(status.split()[-1])
