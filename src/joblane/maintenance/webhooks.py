"""Leader duty for webhooks: keep the delivery log bounded. Events older than the log keeps
(`JOBLANE_WEBHOOK_LOG_DAYS`), none of whose deliveries is still pending, go with their
deliveries and attempts, a chunk per write."""

from __future__ import annotations

import logging

from joblane.storage.base import Storage

log = logging.getLogger("joblane.maintenance")

DAY = 86400.0


async def purge_webhook_log(
    storage: Storage, days: float, chunk: int = 500, max_chunks: int = 20
) -> int:
    before = storage.now() - days * DAY
    purged = 0
    for _ in range(max_chunks):
        count = await storage.webhook_events_purge(before, chunk)
        purged += count
        if count < chunk:
            break
    if purged:
        log.info("purged %d webhook events older than %g days", purged, days)
    return purged
