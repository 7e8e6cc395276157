"""The dispatcher: claims due deliveries from the outbox and attempts them, a bounded number at
once, in every `serve` and `worker` process.

Delivery is at least once. A claim leases its deliveries (`lease_seconds`, longer than an
attempt may take); a process that dies mid-attempt leaves them to be claimed again once the
lease lapses, and they are sent again with the same `webhook-id` and the same body (rendered at
the first dispatch and stored). Many processes never claim the same delivery while its lease
holds (SQLite: one writer; PostgreSQL: `FOR UPDATE SKIP LOCKED`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from joblane.core.errors import Unavailable
from joblane.core.webhooks import (
    ClaimedDelivery,
    DeliveryResult,
    RetrySchedule,
    Verdict,
    verdict,
)
from joblane.observe.metrics import metrics
from joblane.service.webhooks import new_secret
from joblane.storage.base import Storage
from joblane.webhooks.render import render
from joblane.webhooks.sender import Sender, Sent, signature_headers

log = logging.getLogger("joblane.webhooks")


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    concurrency: int = 16  # attempts in flight per process
    lease_seconds: float = 60.0  # > the sender's timeout: a live attempt is never re-claimed
    # A safety net: new deliveries wake the dispatcher (PostgreSQL: NOTIFY; SQLite: a local
    # look every second), and it sleeps until the next retry falls due.
    poll_interval: float = 30.0
    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    shutdown_grace: float = 5.0  # attempts in flight get this long at shutdown


class Dispatcher:
    def __init__(self, storage: Storage, sender: Sender, settings: DispatchSettings) -> None:
        self.storage = storage
        self.sender = sender
        self.settings = settings
        self._running: set[asyncio.Task[None]] = set()
        self._freed = asyncio.Event()  # an attempt ended: room again, and maybe a retry due
        self._due: float | None = None  # the next pending delivery's due time, last seen

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                claimed_all = False
                try:
                    claimed_all = await self._fill()
                except Unavailable as exc:  # the database is down: try again after a pause
                    log.warning("claiming webhook deliveries: %s", exc.message)
                except Exception:
                    log.exception("claiming webhook deliveries failed")
                if not claimed_all:
                    await self._pause(stop)
        finally:
            await self._drain()
            await self.sender.aclose()

    async def run_until_idle(self, timeout: float = 30.0) -> None:
        """Attempt everything due now and wait for it (tests, and a `joblane` one-shot)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            claimed = await self._fill()
            if self._running:
                await asyncio.wait(self._running)
            elif not claimed:
                return

    async def _fill(self) -> bool:
        """Claim as many due deliveries as there is room for; True if that filled the room
        (more may be due)."""
        room = self.settings.concurrency - len(self._running)
        if room <= 0 or not await self._anything_due():
            return False
        claimed = await self.storage.webhook_deliveries_claim(room, self.settings.lease_seconds)
        for delivery in claimed:
            task = asyncio.create_task(self._deliver(delivery), name="joblane-webhook")
            self._running.add(task)
            task.add_done_callback(self._done)
        return len(claimed) == room

    async def _anything_due(self) -> bool:
        due = self._due = await self.storage.webhook_next_due()
        return due is not None and due <= self.storage.now()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._freed.set()

    async def _pause(self, stop: asyncio.Event) -> None:
        """Until stopped, an attempt ends, a delivery is queued or the next one falls due."""
        self._freed.clear()
        timeout = self.settings.poll_interval
        if self._due is not None:
            timeout = max(0.01, min(timeout, self._due - self.storage.now()))
        waits = [
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._freed.wait()),
            asyncio.ensure_future(self.storage.webhook_wait(timeout)),
        ]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _drain(self) -> None:
        if not self._running:
            return
        _, late = await asyncio.wait(self._running, timeout=self.settings.shutdown_grace)
        for task in late:  # their leases lapse; another process sends them again
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*late, return_exceptions=True)

    # -- one delivery ------------------------------------------------------------------------
    async def _deliver(self, delivery: ClaimedDelivery) -> None:
        try:
            result = await self._attempt(delivery)
            metrics().webhook_deliveries[result.verdict.value].inc()
            if not await self.storage.webhook_delivery_finish(result):
                log.info("webhook %s to %s: lease lost", delivery.event_id, delivery.target)
        except Unavailable as exc:  # the lease lapses and the delivery is attempted again
            log.warning("webhook %s to %s: %s", delivery.event_id, delivery.target, exc.message)
        except Exception:  # the same
            log.exception("webhook %s to %s failed", delivery.event_id, delivery.target)

    async def _attempt(self, delivery: ClaimedDelivery) -> DeliveryResult:
        if not delivery.endpoint_enabled or delivery.url is None:
            return self._result(delivery, Verdict.CANCELLED, Sent(None, "endpoint disabled", 0))
        body = delivery.body
        if body is None:
            body = await self.storage.webhook_event_render(delivery.event_id, render(delivery))
        secrets = await self._secrets(delivery)
        headers = signature_headers(delivery.event_id, body, secrets, int(time.time()))
        sent = await self.sender.send(delivery.url, headers, body)
        outcome = verdict(sent.status_code, delivery.attempt_in_round, self.settings.schedule)
        if outcome is not Verdict.DELIVERED:
            log.info(
                "webhook %s to %s, attempt %d: %s (%s)",
                delivery.event_id,
                delivery.target,
                delivery.attempt,
                sent.error,
                outcome.value,
            )
        return self._result(delivery, outcome, sent)

    async def _secrets(self, delivery: ClaimedDelivery) -> tuple[str, ...]:
        now = self.storage.now()
        if delivery.signing is not None:
            return delivery.signing.active(now)
        signing = await self.storage.callback_secret(delivery.tenant_id, new_secret())
        return signing.active(now)

    def _result(self, delivery: ClaimedDelivery, outcome: Verdict, sent: Sent) -> DeliveryResult:
        retry_in = None
        if outcome is Verdict.RETRY:
            retry_in = self.settings.schedule.next_delay(delivery.attempt_in_round)
        endpoint_id = None if delivery.signing is None else delivery.target
        return DeliveryResult(
            event_id=delivery.event_id,
            target=delivery.target,
            lease_token=delivery.lease_token,
            attempt=delivery.attempt,
            verdict=outcome,
            status_code=sent.status_code,
            error=sent.error,
            duration=round(sent.duration, 6),
            retry_in=retry_in,
            endpoint_id=endpoint_id,
        )
