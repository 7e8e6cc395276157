"""Storage contract: one job's webhook deliveries (the dashboard's job page), found through the
events' age within the job's lifetime, with their attempts, and only the caller's tenant's."""

from __future__ import annotations

from joblane.core.webhooks import CALLBACK, DeliveryState, Verdict
from joblane.storage.base import Storage
from storage_contract.helpers import claim_one
from storage_contract.test_webhooks import CALLBACK_URL, claim_all, endpoint, finish, result


async def test_a_jobs_deliveries_with_their_attempts(storage: Storage) -> None:
    hook = await endpoint(storage)
    job = await claim_one(storage, callback_url=CALLBACK_URL)
    other = await claim_one(storage)
    await finish(storage, job)
    await finish(storage, other)
    for claimed in await claim_all(storage):
        if claimed.subject_id == job.id and claimed.target == CALLBACK:
            await storage.webhook_delivery_finish(result(claimed, Verdict.DELIVERED, 200))
    latest = await storage.job_get(job.id, None)
    assert latest is not None

    found = await storage.webhook_deliveries_of_subject(
        job.id, "tenant-a", job.created_at - 1, latest.updated_at + 1, 10
    )

    assert {d.target for d in found} == {CALLBACK, hook.id}
    assert all(d.subject_id == job.id and d.event_type == "job.completed" for d in found)
    by_target = {d.target: d for d in found}
    assert by_target[CALLBACK].state is DeliveryState.DELIVERED
    assert [a.status_code for a in by_target[CALLBACK].attempts] == [200]
    assert by_target[hook.id].state is DeliveryState.PENDING
    assert len(by_target[hook.id].attempts) == 1  # claimed: its attempt is open


async def test_another_tenant_and_another_time_range_find_nothing(storage: Storage) -> None:
    await endpoint(storage)
    job = await claim_one(storage)
    await finish(storage, job)
    latest = await storage.job_get(job.id, None)
    assert latest is not None
    since, until = job.created_at - 1, latest.updated_at + 1

    assert len(await storage.webhook_deliveries_of_subject(job.id, None, since, until, 10)) == 1
    assert await storage.webhook_deliveries_of_subject(job.id, "tenant-b", since, until, 10) == []
    assert await storage.webhook_deliveries_of_subject(job.id, None, 0, since - 1, 10) == []
    assert await storage.webhook_deliveries_of_subject("job_x", None, since, until, 10) == []
