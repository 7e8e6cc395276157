"""Webhooks on SQLite (`SqliteWebhooks`, a mixin of `SqliteStorage`): endpoints, callback
secrets, and the deliveries of the outbox that migration 0007's triggers fill. SQL in
`webhooks.sql`; writes go through the backend's single writer, so a claim is atomic."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from typing import Any, TypeVar

import orjson

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
from joblane.storage.sqlfiles import load
from joblane.storage.sqlite.mixin import SqliteMixin
from joblane.storage.sqlite.rows import dumps
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

Q = load("joblane.storage.sqlite", "webhooks.sql")
SQLITE_WEBHOOK_POLL = 1.0  # seconds between looks for another process's new deliveries
T = TypeVar("T")


def _endpoint(row: sqlite3.Row) -> WebhookEndpoint:
    return endpoint_from_row(row, orjson.loads(row["events"]))


def _update(conn: sqlite3.Connection, params: dict[str, Any], now: float) -> WebhookEndpoint | None:
    row = conn.execute(Q["webhook_update"], {**params, "now": now}).fetchone()
    if row is None:
        return None
    if params["enabled"] is False:
        conn.execute(Q["webhook_cancel_pending"], {"id": params["id"], "now": now})
    return _endpoint(row)


def _delete(conn: sqlite3.Connection, webhook_id: str, tenant_id: str | None) -> bool:
    params = {"id": webhook_id, "tenant_id": tenant_id}
    if conn.execute(Q["webhook_get"], params).fetchone() is None:
        return False
    conn.execute(Q["webhook_attempts_delete"], params)
    conn.execute(Q["webhook_deliveries_delete"], params)
    return conn.execute(Q["webhook_delete"], params).rowcount == 1


def _callback_secret(
    conn: sqlite3.Connection, tenant_id: str, candidate: str, now: float
) -> SigningSecret:
    params = {"tenant_id": tenant_id, "secret": candidate, "now": now}
    conn.execute(Q["callback_secret_init"], params)
    return signing_from_row(conn.execute(Q["callback_secret_get"], params).fetchone())


def _claim(
    conn: sqlite3.Connection, limit: int, lease_seconds: float, now: float
) -> list[ClaimedDelivery]:
    params = {
        "limit": limit,
        "lease_seconds": lease_seconds,
        "token": secrets.token_hex(12),
        "now": now,
    }
    claimed = conn.execute(Q["webhook_deliveries_claim"], params).fetchall()
    out: list[ClaimedDelivery] = []
    for event_id, target, attempt in claimed:
        key = {"event_id": event_id, "target": target, "attempt": attempt, "now": now}
        conn.execute(Q["webhook_attempt_start"], key)
        row = conn.execute(Q["webhook_claimed"], key).fetchone()
        snapshot = orjson.loads(row["snapshot"]) if row["snapshot"] else None
        out.append(claimed_from_row(row, snapshot))
    return sorted(out, key=lambda d: d.event_id)


def _render(conn: sqlite3.Connection, event_id: str, body: bytes) -> bytes:
    conn.execute(Q["webhook_event_render"], {"id": event_id, "body": body.decode()})
    stored: str = conn.execute(Q["webhook_event_body"], {"id": event_id}).fetchone()[0]
    return stored.encode()


def _finish(conn: sqlite3.Connection, result: DeliveryResult, now: float) -> bool:
    params = finish_params(result, now)
    conn.execute(Q["webhook_attempt_finish"], params)
    if conn.execute(Q["webhook_delivery_finish"], params).rowcount != 1:
        return False
    if result.verdict is Verdict.GONE and result.endpoint_id is not None:
        gone = {"id": result.endpoint_id, "reason": GONE_REASON, "now": now}
        conn.execute(Q["webhook_disable"], gone)
        conn.execute(Q["webhook_cancel_pending"], gone)
    return True


def _purge(conn: sqlite3.Connection, before: float, limit: int) -> int:
    rows = conn.execute(Q["webhook_events_expired"], {"before": before, "limit": limit})
    ids = dumps([row[0] for row in rows])
    conn.execute(Q["webhook_events_attempts_delete"], {"ids": ids})
    conn.execute(Q["webhook_events_deliveries_delete"], {"ids": ids})
    return int(conn.execute(Q["webhook_events_delete"], {"ids": ids}).rowcount)


class SqliteWebhooks(SqliteMixin):
    def _webhook_rows(self, query: str, params: dict[str, Any]) -> list[sqlite3.Row]:
        return self._read(lambda c: c.execute(Q[query], params).fetchall())

    # -- endpoints ---------------------------------------------------------------------------
    async def webhook_insert(self, endpoint: WebhookEndpoint) -> None:
        params = endpoint_params(endpoint, dumps(list(endpoint.events)))
        await self._write(lambda c: c.execute(Q["webhook_insert"], params))

    async def webhook_get(self, webhook_id: str, tenant_id: str | None) -> WebhookEndpoint | None:
        rows = self._webhook_rows("webhook_get", {"id": webhook_id, "tenant_id": tenant_id})
        return _endpoint(rows[0]) if rows else None

    async def webhooks_list(
        self, tenant_id: str | None, before_id: str | None, limit: int
    ) -> list[WebhookEndpoint]:
        params = {"tenant_id": tenant_id, "before_id": before_id, "limit": limit}
        return [_endpoint(row) for row in self._webhook_rows("webhooks_list", params)]

    async def webhook_update(
        self, webhook_id: str, tenant_id: str | None, changes: EndpointChanges
    ) -> WebhookEndpoint | None:
        events = None if changes.events is None else dumps(list(changes.events))
        params = update_params(webhook_id, tenant_id, changes, events)
        now = self.now()
        return await self._write(lambda c: _update(c, params, now))

    async def webhook_delete(self, webhook_id: str, tenant_id: str | None) -> bool:
        return await self._write(lambda c: _delete(c, webhook_id, tenant_id))

    async def webhook_set_secret(
        self, webhook_id: str, tenant_id: str | None, secret: str, previous_expires_at: float
    ) -> WebhookEndpoint | None:
        params = {
            "id": webhook_id,
            "tenant_id": tenant_id,
            "secret": secret,
            "previous_expires_at": previous_expires_at,
            "now": self.now(),
        }
        row = await self._write(lambda c: c.execute(Q["webhook_set_secret"], params).fetchone())
        return _endpoint(row) if row else None

    # -- the tenant's callback secret --------------------------------------------------------
    async def callback_secret(self, tenant_id: str, candidate: str) -> SigningSecret:
        rows = self._webhook_rows("callback_secret_get", {"tenant_id": tenant_id})
        if rows:
            return signing_from_row(rows[0])
        now = self.now()
        return await self._write(lambda c: _callback_secret(c, tenant_id, candidate, now))

    async def callback_secret_rotate(
        self, tenant_id: str, secret: str, previous_expires_at: float
    ) -> SigningSecret:
        params = {
            "tenant_id": tenant_id,
            "secret": secret,
            "previous_expires_at": previous_expires_at,
            "now": self.now(),
        }
        row = await self._write(lambda c: c.execute(Q["callback_secret_rotate"], params).fetchone())
        return signing_from_row(row)

    # -- deliveries and events, as the API shows them ----------------------------------------
    async def webhook_deliveries(
        self, webhook_id: str, before_event_id: str | None, state: str | None, limit: int
    ) -> list[Delivery]:
        def read(conn: sqlite3.Connection) -> list[Delivery]:
            params = {
                "endpoint_id": webhook_id,
                "before": before_event_id,
                "state": state,
                "limit": limit,
            }
            rows = conn.execute(Q["webhook_deliveries_page"], params).fetchall()
            ids = dumps([row["event_id"] for row in rows])
            attempts = conn.execute(
                Q["webhook_attempts_of_endpoint"], {"target": webhook_id, "event_ids": ids}
            )
            return deliveries_from_rows(rows, attempts)

        return self._read(read)

    async def webhook_deliveries_of_subject(
        self, subject_id: str, tenant_id: str | None, since: float, until: float, limit: int
    ) -> list[Delivery]:
        def read(conn: sqlite3.Connection) -> list[Delivery]:
            params = {
                "subject_id": subject_id,
                "tenant_id": tenant_id,
                "since": since,
                "until": until,
                "limit": limit,
            }
            rows = conn.execute(Q["webhook_deliveries_of_subject"], params).fetchall()
            ids = dumps(sorted({row["event_id"] for row in rows}))
            attempts = conn.execute(Q["webhook_attempts_of_events"], {"event_ids": ids})
            return deliveries_from_rows(rows, attempts)

        return self._read(read)

    async def webhook_event_get(self, event_id: str, tenant_id: str | None) -> WebhookEvent | None:
        def read(conn: sqlite3.Connection) -> WebhookEvent | None:
            params = {"id": event_id, "tenant_id": tenant_id}
            row = conn.execute(Q["webhook_event_get"], params).fetchone()
            if row is None:
                return None
            deliveries = conn.execute(Q["webhook_event_deliveries"], params).fetchall()
            attempts = conn.execute(Q["webhook_event_attempts"], params)
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

        return self._read(read)

    async def webhook_redeliver(self, event_id: str, target: str | None) -> int:
        params = {"event_id": event_id, "target": target, "now": self.now()}
        return await self._write(lambda c: c.execute(Q["webhook_redeliver"], params).rowcount)

    # -- the dispatcher's side ---------------------------------------------------------------
    async def webhook_deliveries_claim(
        self, limit: int, lease_seconds: float
    ) -> list[ClaimedDelivery]:
        return await self._write(lambda c: _claim(c, limit, lease_seconds, self.now()))

    async def webhook_event_render(self, event_id: str, body: bytes) -> bytes:
        return await self._write(lambda c: _render(c, event_id, body))

    async def webhook_delivery_finish(self, result: DeliveryResult) -> bool:
        return await self._write(lambda c: _finish(c, result, self.now()))

    async def webhook_next_due(self) -> float | None:
        rows = self._webhook_rows("webhook_next_due", {})
        due: float | None = rows[0][0] if rows else None
        return due

    async def webhook_wait(self, timeout: float) -> None:
        """Another process's deliveries show on the next look; a look is a local read."""
        await asyncio.sleep(min(timeout, SQLITE_WEBHOOK_POLL))

    async def webhook_events_purge(self, before: float, limit: int) -> int:
        return await self._write(lambda c: _purge(c, before, limit))
