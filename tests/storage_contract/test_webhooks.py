"""Storage contract: webhooks. The outbox (an event written in the transaction of the change it
reports, and only for jobs and batches someone listens to), endpoints and secrets, and the
dispatcher's side: leased claims, retries, 410, redelivery, the log and its purge."""

from __future__ import annotations

import asyncio

import pytest

from factories import new_job
from joblane.core import ids
from joblane.core.batch import Batch, BatchControl, BatchStatus
from joblane.core.job import Job, JobErrorInfo
from joblane.core.retry import RetryPolicy
from joblane.core.states import JobState
from joblane.core.webhooks import (
    CALLBACK,
    ClaimedDelivery,
    DeliveryResult,
    DeliveryState,
    EndpointChanges,
    SigningSecret,
    Verdict,
    WebhookEndpoint,
)
from joblane.maintenance.rescuer import rescue_expired
from joblane.storage.base import Storage
from joblane.storage.params import Outcome
from storage_contract.helpers import batch_now, claim_one, lease_of, make_batch

HOOK = "https://example.test/hooks/joblane"
CALLBACK_URL = "https://example.test/callbacks/1"


async def endpoint(
    storage: Storage,
    tenant_id: str = "tenant-a",
    events: tuple[str, ...] = ("*",),
    enabled: bool = True,
) -> WebhookEndpoint:
    now = storage.now()
    made = WebhookEndpoint(
        id=ids.new_id(ids.WEBHOOK),
        tenant_id=tenant_id,
        url=HOOK,
        events=events,
        enabled=enabled,
        signing=SigningSecret("whsec_" + "A" * 43 + "=", created_at=now, updated_at=now),
        created_at=now,
        updated_at=now,
        description="orders",
    )
    await storage.webhook_insert(made)
    found = await storage.webhook_get(made.id, tenant_id)
    assert found is not None
    return found


async def finish(storage: Storage, job: Job, state: JobState = JobState.COMPLETED) -> None:
    error = JobErrorInfo("BOOM", "broke", {}, False) if state is JobState.FAILED else None
    outcome = Outcome(lease_of(job), state, result={"n": 1}, error=error)
    (stamp,) = await storage.jobs_finish([outcome])
    assert stamp is not None and stamp.state is state


async def claim_all(storage: Storage, lease: float = 30.0) -> list[ClaimedDelivery]:
    return await storage.webhook_deliveries_claim(100, lease)


def result(
    claimed: ClaimedDelivery,
    verdict: Verdict,
    status: int | None = 500,
    retry_in: float | None = None,
) -> DeliveryResult:
    return DeliveryResult(
        event_id=claimed.event_id,
        target=claimed.target,
        lease_token=claimed.lease_token,
        attempt=claimed.attempt,
        verdict=verdict,
        status_code=status,
        error=None if verdict is Verdict.DELIVERED else f"HTTP {status}",
        duration=0.01,
        retry_in=retry_in,
        endpoint_id=None if claimed.target == CALLBACK else claimed.target,
    )


async def one_delivery(storage: Storage) -> ClaimedDelivery:
    """A completed job's callback delivery, claimed."""
    job = await claim_one(storage, callback_url=CALLBACK_URL)
    await finish(storage, job)
    (claimed,) = await claim_all(storage)
    return claimed


# -- the outbox: written with the change, and only then --------------------------------------
async def test_a_finished_job_with_a_callback_url_writes_its_event_with_the_change(
    storage: Storage,
) -> None:
    job = await claim_one(storage, callback_url=CALLBACK_URL)
    assert await storage.webhook_next_due() is None  # nothing before the change

    await finish(storage, job)

    (claimed,) = await claim_all(storage)
    assert claimed.target == CALLBACK and claimed.url == CALLBACK_URL
    assert claimed.event_type == "job.completed" and claimed.subject_id == job.id
    assert claimed.tenant_id == "tenant-a" and claimed.signing is None
    assert claimed.attempt == 1 and claimed.attempt_in_round == 1 and claimed.body is None
    assert ids.is_valid(claimed.event_id, ids.EVENT)
    snapshot = claimed.subject
    assert isinstance(snapshot, Job)
    assert (snapshot.id, snapshot.state, snapshot.result) == (job.id, JobState.COMPLETED, {"n": 1})
    assert snapshot.version == job.version + 1
    assert claimed.occurred_at == pytest.approx(snapshot.updated_at)


async def test_the_event_id_is_a_ulid_of_the_event_time(storage: Storage) -> None:
    claimed = await one_delivery(storage)
    expected = ids.ulid(int(claimed.occurred_at * 1000))

    assert claimed.event_id[4:14] == expected[:10]


async def test_jobs_nobody_listens_to_write_nothing(storage: Storage) -> None:
    """No callback_url, no endpoint of the tenant (another tenant's does not count), or an
    endpoint that is disabled or subscribed to other events: no event at all."""
    await endpoint(storage, "tenant-b")
    await endpoint(storage, "tenant-a", enabled=False)
    await endpoint(storage, "tenant-a", events=("job.failed", "batch.completed"))
    for _ in range(3):
        await finish(storage, await claim_one(storage))

    assert await storage.webhook_next_due() is None
    assert await claim_all(storage) == []


async def test_a_write_refused_by_its_guard_writes_no_event(storage: Storage) -> None:
    job = await claim_one(storage, callback_url=CALLBACK_URL)
    await finish(storage, job)
    await claim_all(storage)

    stale = Outcome(lease_of(job), JobState.COMPLETED, result={})  # its lease is spent
    assert await storage.jobs_finish([stale]) == [None]

    assert await claim_all(storage) == []


async def test_an_endpoint_gets_the_events_it_subscribed_to(storage: Storage) -> None:
    failures = await endpoint(storage, events=("job.failed",))
    everything = await endpoint(storage)
    await finish(storage, await claim_one(storage), JobState.COMPLETED)
    await finish(storage, await claim_one(storage), JobState.FAILED)

    claimed = await claim_all(storage)

    got = sorted((c.target, c.event_type) for c in claimed)
    assert got == sorted(
        [
            (everything.id, "job.completed"),
            (everything.id, "job.failed"),
            (failures.id, "job.failed"),
        ]
    )
    for c in claimed:
        assert c.url == HOOK and c.endpoint_enabled
        assert c.signing is not None and c.signing.secret == everything.signing.secret
    # one event per change, shared by every target (the same webhook-id)
    assert len({c.event_id for c in claimed if c.event_type == "job.failed"}) == 1


async def test_cancelling_a_queued_job_and_the_rescuer_giving_up_write_events(
    storage: Storage,
) -> None:
    await endpoint(storage)
    queued = new_job()
    await storage.jobs_insert([queued])
    await storage.job_cancel(queued.id, "tenant-a", "no longer needed")
    lost = await claim_one(storage, lease_seconds=0.1, max_attempts=1)
    await asyncio.sleep(0.3)

    assert await rescue_expired(storage, RetryPolicy()) == 1

    events = {(c.subject_id, c.event_type) for c in await claim_all(storage)}
    assert events == {(queued.id, "job.cancelled"), (lost.id, "job.failed")}


async def test_batch_items_are_reported_by_their_batch_event(storage: Storage) -> None:
    hook = await endpoint(storage)
    batch, item_ids = await make_batch(storage, 3, callback_url=CALLBACK_URL)
    for _ in item_ids:
        (item,) = await storage.jobs_claim("w1", ["noop"], 1, 30.0)
        await finish(storage, item, JobState.FAILED)
    assert await claim_all(storage) == []  # items: no job events

    assert await storage.batches_settle(10) == [batch.id]

    claimed = await claim_all(storage)
    assert sorted(c.target for c in claimed) == sorted([CALLBACK, hook.id])
    for c in claimed:
        assert c.event_type == "batch.failed" and c.subject_id == batch.id
        assert isinstance(c.subject, Batch)
        assert c.subject.counts.failed == 3 and c.subject.status is BatchStatus.FAILED
        assert c.subject.version == (await batch_now(storage, batch.id)).version
        assert [(g.code, g.count) for g in c.error_groups] == [("BOOM", 3)]
        assert set(c.error_groups[0].sample_job_ids) == set(item_ids)
    assert claimed[0].url == CALLBACK_URL or claimed[1].url == CALLBACK_URL


async def test_a_cancelled_batch_settles_into_batch_cancelled(storage: Storage) -> None:
    await endpoint(storage, events=("batch.cancelled",))
    batch, _ = await make_batch(storage, 2)
    await storage.batch_set_control(batch.id, None, BatchControl.CANCELLED, "stop")

    await storage.batches_settle(10)

    (claimed,) = await claim_all(storage)
    assert (claimed.event_type, claimed.subject_id) == ("batch.cancelled", batch.id)
    assert isinstance(claimed.subject, Batch) and claimed.subject.counts.cancelled == 2


# -- claims and leases -----------------------------------------------------------------------
async def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_lapses(
    storage: Storage,
) -> None:
    job = await claim_one(storage, callback_url=CALLBACK_URL)
    await finish(storage, job)
    (first,) = await claim_all(storage, lease=0.3)

    assert await claim_all(storage) == []
    await asyncio.sleep(0.5)
    (again,) = await claim_all(storage)

    assert (again.event_id, again.attempt) == (first.event_id, 2)
    assert again.lease_token != first.lease_token
    assert await storage.webhook_delivery_finish(result(again, Verdict.DELIVERED, 200))
    event = await storage.webhook_event_get(first.event_id, "tenant-a")
    assert event is not None
    (delivery,) = event.deliveries
    assert delivery.state is DeliveryState.DELIVERED and delivery.attempt == 2
    # the first attempt never reported: the log shows it unfinished
    assert [(a.attempt, a.finished_at is None, a.status_code) for a in delivery.attempts] == [
        (1, True, None),
        (2, False, 200),
    ]
    # a holder that comes back late changes nothing but its own attempt's line in the log
    assert not await storage.webhook_delivery_finish(result(first, Verdict.RETRY, 500, 0.0))
    event = await storage.webhook_event_get(first.event_id, "tenant-a")
    assert event is not None and event.deliveries[0].state is DeliveryState.DELIVERED
    assert event.deliveries[0].attempts[0].status_code == 500


async def test_a_retry_is_due_after_its_delay_with_the_same_body(storage: Storage) -> None:
    claimed = await one_delivery(storage)
    body = await storage.webhook_event_render(claimed.event_id, b'{"first": true}')
    assert await storage.webhook_delivery_finish(result(claimed, Verdict.RETRY, 500, 0.3))

    assert await claim_all(storage) == []
    due = await storage.webhook_next_due()
    assert due is not None and due == pytest.approx(storage.now() + 0.3, abs=0.2)
    await asyncio.sleep(0.4)
    (retried,) = await claim_all(storage)

    assert (retried.event_id, retried.attempt) == (claimed.event_id, 2)
    assert retried.body == body == b'{"first": true}' and retried.subject is None


async def test_the_first_rendering_is_the_one_kept(storage: Storage) -> None:
    claimed = await one_delivery(storage)

    first = await storage.webhook_event_render(claimed.event_id, b'{"a": 1}')
    second = await storage.webhook_event_render(claimed.event_id, b'{"a": 2}')

    assert first == second == b'{"a": 1}'


async def test_a_failed_delivery_stays_failed(storage: Storage) -> None:
    claimed = await one_delivery(storage)
    await storage.webhook_delivery_finish(result(claimed, Verdict.FAILED, 503))

    await asyncio.sleep(0.05)
    assert await claim_all(storage) == []
    assert await storage.webhook_next_due() is None


async def test_410_disables_the_endpoint_and_cancels_what_it_had_waiting(
    storage: Storage,
) -> None:
    hook = await endpoint(storage)
    other = await endpoint(storage)
    for _ in range(2):
        await finish(storage, await claim_one(storage))
    claimed = [c for c in await claim_all(storage) if c.target == hook.id]
    assert len(claimed) == 2
    gone, waiting = claimed
    await storage.webhook_delivery_finish(result(waiting, Verdict.RETRY, 500, 0.0))

    assert await storage.webhook_delivery_finish(result(gone, Verdict.GONE, 410))

    disabled = await storage.webhook_get(hook.id, None)
    assert disabled is not None and not disabled.enabled
    assert disabled.disabled_reason is not None and "410" in disabled.disabled_reason
    log = await storage.webhook_deliveries(hook.id, None, None, 10)
    assert sorted(d.state for d in log) == [DeliveryState.CANCELLED, DeliveryState.FAILED]
    assert all(c.target == other.id for c in await claim_all(storage))
    # and no new event goes to it
    await finish(storage, await claim_one(storage))
    assert {c.target for c in await claim_all(storage)} == {other.id}


async def test_a_redelivery_is_due_now_on_a_fresh_schedule(storage: Storage) -> None:
    claimed = await one_delivery(storage)
    await storage.webhook_delivery_finish(result(claimed, Verdict.FAILED, 500))

    assert await storage.webhook_redeliver(claimed.event_id, None) == 1

    (again,) = await claim_all(storage)
    assert (again.event_id, again.attempt, again.attempt_in_round) == (claimed.event_id, 2, 1)


async def test_a_redelivery_leaves_an_attempt_in_flight_alone(storage: Storage) -> None:
    claimed = await one_delivery(storage)

    assert await storage.webhook_redeliver(claimed.event_id, None) == 0
    assert await storage.webhook_delivery_finish(result(claimed, Verdict.DELIVERED, 200))


# -- endpoints and secrets -------------------------------------------------------------------
async def test_endpoints_belong_to_their_tenant(storage: Storage) -> None:
    mine = await endpoint(storage, "tenant-a")
    theirs = await endpoint(storage, "tenant-b")

    assert await storage.webhook_get(theirs.id, "tenant-a") is None
    assert await storage.webhook_get(theirs.id, None) is not None
    assert [e.id for e in await storage.webhooks_list("tenant-a", None, 10)] == [mine.id]
    assert [e.id for e in await storage.webhooks_list(None, None, 10)] == [theirs.id, mine.id]
    assert [e.id for e in await storage.webhooks_list(None, theirs.id, 10)] == [mine.id]
    changed = EndpointChanges(description="")
    assert await storage.webhook_update(theirs.id, "tenant-a", changed) is None
    assert not await storage.webhook_delete(theirs.id, "tenant-a")
    assert await storage.webhook_set_secret(theirs.id, "tenant-a", "whsec_x", 0.0) is None
    assert await storage.webhook_event_get(ids.new_id(ids.EVENT), None) is None


async def test_an_update_changes_only_what_it_names(storage: Storage) -> None:
    hook = await endpoint(storage)

    updated = await storage.webhook_update(
        hook.id, "tenant-a", EndpointChanges(events=("job.failed",), description="")
    )

    assert updated is not None
    assert updated.events == ("job.failed",) and updated.description is None
    assert (updated.url, updated.enabled) == (hook.url, True)
    moved = await storage.webhook_update(hook.id, None, EndpointChanges(url="https://x.test/"))
    assert moved is not None and moved.url == "https://x.test/"
    assert moved.events == ("job.failed",)


async def test_disabling_an_endpoint_cancels_its_pending_deliveries(storage: Storage) -> None:
    hook = await endpoint(storage)
    await finish(storage, await claim_one(storage))

    disabled = await storage.webhook_update(hook.id, None, EndpointChanges(enabled=False))

    assert disabled is not None and disabled.disabled_reason == "disabled by a user"
    assert await claim_all(storage) == []
    (delivery,) = await storage.webhook_deliveries(hook.id, None, None, 10)
    assert delivery.state is DeliveryState.CANCELLED
    enabled = await storage.webhook_update(hook.id, None, EndpointChanges(enabled=True))
    assert enabled is not None and enabled.enabled and enabled.disabled_reason is None


async def test_deleting_an_endpoint_deletes_its_log(storage: Storage) -> None:
    hook = await endpoint(storage)
    await finish(storage, await claim_one(storage))
    (claimed,) = await claim_all(storage)

    assert await storage.webhook_delete(hook.id, "tenant-a")

    assert await storage.webhook_get(hook.id, None) is None
    assert await storage.webhook_deliveries(hook.id, None, None, 10) == []
    event = await storage.webhook_event_get(claimed.event_id, None)
    assert event is not None and event.deliveries == ()


async def test_a_rotated_secret_signs_beside_the_old_one_until_the_grace_ends(
    storage: Storage,
) -> None:
    hook = await endpoint(storage)
    now = storage.now()

    rotated = await storage.webhook_set_secret(hook.id, "tenant-a", "whsec_new", now + 60)

    assert rotated is not None
    assert rotated.signing.active(now) == ("whsec_new", hook.signing.secret)
    assert rotated.signing.active(now + 61) == ("whsec_new",)


async def test_the_callback_secret_is_made_once_and_rotates(storage: Storage) -> None:
    first = await storage.callback_secret("tenant-a", "whsec_one")
    again = await storage.callback_secret("tenant-a", "whsec_two")
    other = await storage.callback_secret("tenant-b", "whsec_three")

    assert (first.secret, again.secret, other.secret) == ("whsec_one", "whsec_one", "whsec_three")
    rotated = await storage.callback_secret_rotate("tenant-a", "whsec_four", storage.now() + 30)
    assert rotated.active(storage.now()) == ("whsec_four", "whsec_one")
    assert (await storage.callback_secret("tenant-a", "x")).secret == "whsec_four"


async def test_the_deliveries_log_pages_newest_first(storage: Storage) -> None:
    hook = await endpoint(storage)
    for _ in range(3):
        await finish(storage, await claim_one(storage))

    first = await storage.webhook_deliveries(hook.id, None, None, 2)
    rest = await storage.webhook_deliveries(hook.id, first[-1].event_id, None, 2)
    pending = await storage.webhook_deliveries(hook.id, None, "pending", 10)
    delivered = await storage.webhook_deliveries(hook.id, None, "delivered", 10)

    ids_ = [d.event_id for d in [*first, *rest]]
    assert len(ids_) == 3 and ids_ == sorted(ids_, reverse=True)
    assert len(pending) == 3 and delivered == []
    assert all(d.event_type == "job.completed" and d.endpoint_id == hook.id for d in pending)


# -- the log's retention ---------------------------------------------------------------------
async def test_old_finished_events_are_purged_with_their_deliveries(storage: Storage) -> None:
    done = await one_delivery(storage)
    await storage.webhook_delivery_finish(result(done, Verdict.DELIVERED, 200))
    waiting = await one_delivery(storage)
    await storage.webhook_delivery_finish(result(waiting, Verdict.RETRY, 500, 3600))

    assert await storage.webhook_events_purge(storage.now() - 60, 100) == 0
    assert await storage.webhook_events_purge(storage.now() + 1, 100) == 1

    assert await storage.webhook_event_get(done.event_id, None) is None
    kept = await storage.webhook_event_get(waiting.event_id, None)
    assert kept is not None and len(kept.deliveries) == 1


async def test_concurrent_claims_never_share_a_delivery(storage: Storage) -> None:
    """Many dispatchers (processes, on PostgreSQL) claim at once: each delivery goes to one."""
    await endpoint(storage)
    await endpoint(storage)
    for _ in range(10):
        await finish(storage, await claim_one(storage))

    batches = await asyncio.gather(*(storage.webhook_deliveries_claim(4, 30.0) for _ in range(8)))

    claimed = [(c.event_id, c.target) for batch in batches for c in batch]
    assert len(claimed) == len(set(claimed)) == 20


async def test_waiting_for_deliveries_wakes_when_one_is_queued(storage: Storage) -> None:
    """The dispatcher's idle sleep: no query while nothing is queued (PostgreSQL: LISTEN), back
    promptly once a change queues a delivery, whoever made it."""
    loop = asyncio.get_running_loop()
    slept = 0
    for _ in range(20):  # until settled: a first call (or a fresh LISTEN) may return at once
        started = loop.time()
        await storage.webhook_wait(0.3)
        slept = slept + 1 if loop.time() - started >= 0.25 else 0
        if slept == 2:
            break
    started = loop.time()
    await storage.webhook_wait(0.6)
    assert loop.time() - started >= 0.5  # nothing queued: it sleeps the timeout

    job = await claim_one(storage, callback_url=CALLBACK_URL)
    waiting = asyncio.create_task(storage.webhook_wait(30.0))
    await asyncio.sleep(0.1)
    started = loop.time()
    await finish(storage, job)

    await asyncio.wait_for(waiting, 2.0)
    assert loop.time() - started < 1.5
