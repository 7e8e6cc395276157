"""A webhook's payload: `{"type", "timestamp", "data"}`, where `data` is the job (or batch) as
`GET /v1/jobs/{id}` (or `GET /v1/batches/{id}`) showed it at the event. Rendered once, at the
first dispatch, from the snapshot the event was written with; every attempt sends those bytes.
"""

from __future__ import annotations

from typing import Any

import orjson

from joblane.api.present import job_body
from joblane.api.present_batch import BatchView, batch_body
from joblane.core.batch import Batch
from joblane.core.clock import to_rfc3339
from joblane.core.job import Job
from joblane.core.webhooks import ClaimedDelivery


def render(delivery: ClaimedDelivery) -> bytes:
    """The payload of `delivery`'s event; ValueError if it has nothing to render from."""
    subject = delivery.subject
    at = delivery.occurred_at
    data: dict[str, Any]
    if isinstance(subject, Job):
        data = job_body(subject, at)
    elif isinstance(subject, Batch):
        view = BatchView(request_id=delivery.event_id)
        data = batch_body(subject, at, view, errors=list(delivery.error_groups))
    else:
        raise ValueError(f"event {delivery.event_id} has neither a body nor a snapshot")
    # the subject's own updated_at, not occurred_at: SQLite's JSON snapshot keeps 15 significant
    # digits, which can round across a millisecond, and the two must read the same
    stamp = to_rfc3339(subject.updated_at)
    payload = {"type": delivery.event_type, "timestamp": stamp, "data": data}
    return orjson.dumps(payload)
