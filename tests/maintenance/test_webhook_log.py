"""The leader's purge of the webhook log: finished events older than the log keeps go, with
their deliveries and attempts, a chunk per write; events still being delivered stay."""

from __future__ import annotations

from factories import new_job
from joblane.core.job import Lease
from joblane.core.states import JobState
from joblane.core.webhooks import DeliveryResult, Verdict
from joblane.maintenance.webhooks import purge_webhook_log
from joblane.storage.base import Storage
from joblane.storage.params import Outcome

CALLBACK = "https://example.test/cb"


async def finished_event(storage: Storage, deliver: bool) -> str:
    await storage.jobs_insert([new_job(callback_url=CALLBACK)])
    (job,) = await storage.jobs_claim("w1", ["noop"], 1, 30.0)
    assert job.lease_token is not None
    await storage.jobs_finish([Outcome(Lease(job.id, job.lease_token), JobState.COMPLETED)])
    (claimed,) = await storage.webhook_deliveries_claim(1, 30.0)
    verdict = Verdict.DELIVERED if deliver else Verdict.RETRY
    result = DeliveryResult(
        claimed.event_id, claimed.target, claimed.lease_token, 1, verdict, 200, None, 0.0, 60.0
    )
    assert await storage.webhook_delivery_finish(result)
    return claimed.event_id


async def test_the_log_keeps_its_days_and_what_is_still_pending(storage: Storage) -> None:
    delivered = [await finished_event(storage, deliver=True) for _ in range(5)]
    pending = await finished_event(storage, deliver=False)

    assert await purge_webhook_log(storage, days=1) == 0  # all younger than a day
    assert await purge_webhook_log(storage, days=-1 / 86400, chunk=2) == 5

    for event_id in delivered:
        assert await storage.webhook_event_get(event_id, None) is None
    assert await storage.webhook_event_get(pending, None) is not None
