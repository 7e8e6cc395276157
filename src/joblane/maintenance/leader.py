"""Maintenance runs on one elected leader; another process takes over when its lease lapses."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable

from joblane.core import ids
from joblane.core.job import JobStamp
from joblane.core.retry import RetryPolicy
from joblane.maintenance import batches
from joblane.maintenance.artifacts import ArtifactSweep
from joblane.maintenance.rescuer import rescue_expired
from joblane.maintenance.retention import Retention, RetentionSettings
from joblane.maintenance.webhooks import purge_webhook_log
from joblane.storage.base import Storage

log = logging.getLogger("joblane.maintenance")

LEADERSHIP = "maintenance"
PURGE_EVERY = 12  # ticks between purges of expired idempotency keys


class Maintenance:
    def __init__(
        self,
        storage: Storage,
        policy: RetryPolicy | None = None,
        interval: float = 1.0,
        on_change: Callable[[JobStamp], None] | None = None,
        retention: RetentionSettings | None = None,
        artifacts: ArtifactSweep | None = None,
        webhook_log_days: float | None = None,
    ) -> None:
        self.storage = storage
        self.artifacts = artifacts  # None: no artifact store to sweep
        self.webhook_log_days = webhook_log_days  # None: the webhook log is not purged here
        self.policy = policy or RetryPolicy()
        self.interval = interval
        self.on_change = on_change
        retention = retention or RetentionSettings()
        # a run never outlasts a tick, so leadership (ttl: 5 ticks) is renewed in time
        budget = min(retention.budget, interval)
        self.retention = Retention(storage, dataclasses.replace(retention, budget=budget))
        self.holder = f"mnt_{ids.ulid()}"
        self.is_leader = False
        self._ticks = 0

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    log.exception("maintenance tick failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)
        finally:
            if self.is_leader:
                with contextlib.suppress(Exception):
                    await self.storage.leader_release(LEADERSHIP, self.holder)

    async def tick(self) -> None:
        was_leader = self.is_leader
        self.is_leader = await self.storage.leader_acquire(
            LEADERSHIP, self.holder, ttl=self.interval * 5
        )
        if self.is_leader != was_leader:
            log.info("maintenance leadership %s", "acquired" if self.is_leader else "lost")
        if not self.is_leader:
            return
        await rescue_expired(self.storage, self.policy, on_change=self.on_change)
        await batches.enforce_deadlines(self.storage)
        await batches.settle(self.storage)
        if self._ticks % PURGE_EVERY == 0:
            await self.storage.idempotency_purge(limit=1000)
            if self.webhook_log_days is not None:
                await purge_webhook_log(self.storage, self.webhook_log_days)
        purged = await self.retention.tick()
        if self.artifacts is not None:  # after retention: the files of what it purged go now
            await self.artifacts.tick(nudged=purged is not None and purged.anything)
        self._ticks += 1
