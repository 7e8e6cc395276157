"""A batch row joined with its summed counts, to a `Batch`, for every backend.

Both backends read a batch with one query that selects `batches.*` and, from `batch_counts`,
the sums `queued, running, completed, failed, cancelled, changes, item_seconds, timed_items`,
`min(first_started_at) AS first_started_at` and `max(last_finished_at) AS last_finished_at`.
"""

from __future__ import annotations

from typing import Any, Protocol

from joblane.core.batch import Batch, BatchControl, BatchCounts


class Row(Protocol):
    def __getitem__(self, key: str) -> Any: ...


def batch_from_row(row: Row) -> Batch:
    counts = BatchCounts(
        queued=int(row["queued"] or 0),
        running=int(row["running"] or 0),
        completed=int(row["completed"] or 0),
        failed=int(row["failed"] or 0),
        cancelled=int(row["cancelled"] or 0),
    )
    return Batch(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        control=BatchControl(row["control"]),
        version=int(row["version"]) + int(row["changes"] or 0),
        counts=counts,
        max_concurrent=row["max_concurrent"],
        priority=row["priority"],
        timeout=row["timeout"],
        callback_url=row["callback_url"],
        notification_enabled=bool(row["notification_enabled"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["first_started_at"],
        last_finished_at=row["last_finished_at"],
        item_seconds=float(row["item_seconds"] or 0.0),
        timed_items=int(row["timed_items"] or 0),
        control_reason=row["control_reason"],
    )
