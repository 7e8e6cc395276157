"""Leader duties for batches: cancel what outlived its deadline, note which batches are done."""

from __future__ import annotations

import logging

from joblane.core.batch import BatchControl
from joblane.core.clock import to_rfc3339
from joblane.storage.base import Storage

log = logging.getLogger("joblane.maintenance")


async def enforce_deadlines(storage: Storage, limit: int = 100) -> int:
    """Cancel the unfinished items of every batch past its `timeout`; how many batches."""
    cancelled = 0
    for batch in await storage.batches_past_deadline(limit):
        reason = f"batch timeout: not finished within {batch.timeout:g}s " + (
            f"(deadline {to_rfc3339(batch.deadline)})"
        )
        change = await storage.batch_set_control(batch.id, None, BatchControl.CANCELLED, reason)
        if change.changed:
            cancelled += 1
            log.info("batch %s timed out: %d items cancelled", batch.id, change.items)
    return cancelled


async def settle(storage: Storage, limit: int = 500) -> list[str]:
    """Mark finished batches settled (the claim then stops checking them)."""
    return await storage.batches_settle(limit)
