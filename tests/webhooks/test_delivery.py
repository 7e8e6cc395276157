"""The dispatcher end to end, on every backend: events written by real job transitions, sent to a
real receiver on 127.0.0.1 that refuses connections, then answers 500, then 200. Every event
arrives, signed so that the `standardwebhooks` verifier accepts it, with one `webhook-id` and
one body on every attempt; 410 disables an endpoint; the log tells each attempt."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook

from factories import new_job
from joblane.core import ids
from joblane.core.job import JobErrorInfo
from joblane.core.principal import READ, WRITE, Principal
from joblane.core.states import JobState
from joblane.core.targets import TargetPolicy
from joblane.core.webhooks import (
    Delivery,
    DeliveryState,
    RetrySchedule,
    SigningSecret,
    WebhookEndpoint,
)
from joblane.service.webhooks import WebhookService, new_secret
from joblane.storage.base import Storage
from joblane.storage.params import Outcome
from joblane.webhooks.dispatcher import Dispatcher, DispatchSettings
from joblane.webhooks.sender import Sender
from storage_contract.helpers import claim_one, current, lease_of
from webhook_receiver import Received, receiving

ALLOW_LOCAL = TargetPolicy.parse("127.0.0.1")
FAST = DispatchSettings(
    concurrency=4,
    lease_seconds=5.0,
    poll_interval=0.02,
    schedule=RetrySchedule((0.05,) * 12, jitter=0.1),
    shutdown_grace=1.0,
)
WHO = Principal("tenant-a", frozenset({READ, WRITE}))


@contextlib.asynccontextmanager
async def dispatching(
    storage: Storage, policy: TargetPolicy = ALLOW_LOCAL, settings: DispatchSettings = FAST
) -> AsyncIterator[Dispatcher]:
    dispatcher = Dispatcher(storage, Sender(policy, timeout=2.0), settings)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        yield dispatcher
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("condition not met in time")


async def finish(storage: Storage, state: JobState, **fields: Any) -> str:
    job = await claim_one(storage, **fields)
    error = JobErrorInfo("BOOM", "broke", {}, False) if state is JobState.FAILED else None
    (stamp,) = await storage.jobs_finish(
        [Outcome(lease_of(job), state, result={"ok": True}, error=error)]
    )
    assert stamp is not None
    return job.id


async def deliveries_of(storage: Storage, webhook_id: str) -> list[Delivery]:
    return await storage.webhook_deliveries(webhook_id, None, None, 100)


def by_webhook_id(received: list[Received]) -> dict[str, list[Received]]:
    grouped: dict[str, list[Received]] = defaultdict(list)
    for request in received:
        grouped[request.webhook_id].append(request)
    return grouped


async def all_deliveries(storage: Storage, webhook_id: str) -> list[Delivery]:
    """The endpoint's deliveries and those of the same events to other targets (callbacks)."""
    found: list[Delivery] = []
    for event_id in {d.event_id for d in await deliveries_of(storage, webhook_id)}:
        event = await storage.webhook_event_get(event_id, None)
        assert event is not None
        found.extend(event.deliveries)
    return found


async def test_every_event_arrives_signed_with_one_webhook_id_despite_a_flaky_receiver(
    storage: Storage,
) -> None:
    service = WebhookService(storage, ALLOW_LOCAL)
    with receiving(statuses=[500, 500, 500]) as receiver:
        receiver.down()  # connections refused first
        hook = await service.create(WHO, receiver.url + "/hook", ["*"])
        callback_secret = (await service.callback_secret(WHO)).secret
        finished = {
            await finish(storage, JobState.COMPLETED): "job.completed",
            await finish(storage, JobState.FAILED): "job.failed",
            await finish(storage, JobState.CANCELLED): "job.cancelled",
        }
        with_callback = await finish(
            storage, JobState.COMPLETED, callback_url=receiver.url + "/callback"
        )
        finished[with_callback] = "job.completed"

        async with dispatching(storage):

            async def refused_twice() -> bool:
                log = await all_deliveries(storage, hook.id)
                return len(log) == 5 and all(len(d.attempts) >= 2 for d in log)

            await eventually(refused_twice)
            received_while_down = receiver.snapshot()
            receiver.up()

            async def all_delivered() -> bool:
                log = await all_deliveries(storage, hook.id)
                return all(d.state is DeliveryState.DELIVERED for d in log)

            await eventually(all_delivered)

    assert received_while_down == []
    requests = receiver.snapshot()
    assert len(requests) == 5 + 3  # five deliveries, three of them answered 500 once first
    groups = by_webhook_id(requests)
    assert len(groups) == 4  # one webhook-id per event, whatever the attempts and targets
    for attempts in groups.values():
        assert len({a.body for a in attempts}) == 1, "every attempt sends the same bytes"
        payload = orjson.loads(attempts[0].body)
        job_id = payload["data"]["id"]
        job = await current(storage, job_id)
        assert payload["type"] == finished[job_id]
        assert payload["data"]["status"] == finished[job_id].removeprefix("job.")
        assert payload["data"]["version"] == job.version
        assert payload["timestamp"] == payload["data"]["updated_at"]
        for attempt in attempts:
            to_callback = attempt.path == "/callback"
            secret = callback_secret if to_callback else hook.signing.secret
            assert Webhook(secret).verify(attempt.body, attempt.headers) == payload
    # the log tells every attempt: refused first, then (for some) 500, then 200
    for delivery in await all_deliveries(storage, hook.id):
        first, *_, last = delivery.attempts
        assert first.status_code is None and first.error is not None
        assert "Connect" in first.error
        assert (last.status_code, last.error) == (200, None)
        assert delivery.delivered_at is not None and delivery.last_status == 200
        assert [a.attempt for a in delivery.attempts] == list(range(1, delivery.attempt + 1))
        assert all(a.finished_at is not None and a.duration is not None for a in delivery.attempts)
    assert {d.target for d in await all_deliveries(storage, hook.id)} == {hook.id, "callback"}


async def test_the_payload_is_the_job_as_it_was_at_the_event(storage: Storage) -> None:
    """A job retried before its event was sent: the event still shows it failed."""
    service = WebhookService(storage, ALLOW_LOCAL)
    with receiving() as receiver:
        await service.create(WHO, receiver.url, ["job.failed"])
        job_id = await finish(storage, JobState.FAILED)
        await storage.job_retry(job_id, "tenant-a")
        async with dispatching(storage):
            (request,) = await asyncio.to_thread(receiver.wait_for, 1, 10)

    payload = orjson.loads(request.body)
    assert payload["type"] == "job.failed"
    assert payload["data"]["status"] == "failed"
    assert payload["data"]["error"]["code"] == "BOOM"
    assert (await current(storage, job_id)).state is JobState.QUEUED


async def test_410_disables_the_endpoint_and_nothing_more_is_sent_to_it(
    storage: Storage,
) -> None:
    service = WebhookService(storage, ALLOW_LOCAL)
    with receiving(statuses=[410]) as gone, receiving() as alive:
        dead = await service.create(WHO, gone.url, ["*"])
        live = await service.create(WHO, alive.url, ["*"])
        await finish(storage, JobState.COMPLETED)
        async with dispatching(storage):
            await eventually(lambda: _disabled(storage, dead.id))
            await finish(storage, JobState.COMPLETED)
            await asyncio.to_thread(alive.wait_for, 2, 10)
        assert len(gone.snapshot()) == 1

    (delivery,) = await deliveries_of(storage, dead.id)
    assert (delivery.state, delivery.last_status) == (DeliveryState.FAILED, 410)
    endpoint = await service.get(WHO, dead.id)
    assert not endpoint.enabled and endpoint.disabled_reason == "the endpoint answered 410 Gone"
    assert len(await deliveries_of(storage, live.id)) == 2


async def _disabled(storage: Storage, webhook_id: str) -> bool:
    endpoint = await storage.webhook_get(webhook_id, None)
    return endpoint is not None and not endpoint.enabled


async def test_a_callback_answering_410_fails_without_retries(storage: Storage) -> None:
    with receiving(statuses=[410]) as receiver:
        await finish(storage, JobState.COMPLETED, callback_url=receiver.url)
        async with dispatching(storage) as dispatcher:
            await asyncio.to_thread(receiver.wait_for, 1, 10)
            await dispatcher.run_until_idle()
        await asyncio.sleep(0.3)
        assert len(receiver.snapshot()) == 1

    assert await storage.webhook_next_due() is None


async def test_a_spent_schedule_fails_the_delivery(storage: Storage) -> None:
    settings = DispatchSettings(
        concurrency=2, lease_seconds=5, poll_interval=0.02, schedule=RetrySchedule((0.05, 0.05))
    )
    with receiving(default=503) as receiver:
        await finish(storage, JobState.COMPLETED, callback_url=receiver.url)
        async with dispatching(storage, settings=settings):
            await asyncio.to_thread(receiver.wait_for, 3, 10)
            await asyncio.sleep(0.3)
        assert len(receiver.snapshot()) == 3  # the first attempt and two retries

    assert await storage.webhook_next_due() is None
    assert len(by_webhook_id(receiver.snapshot())) == 1


async def test_a_rotated_secret_signs_beside_the_old_one(storage: Storage) -> None:
    service = WebhookService(storage, ALLOW_LOCAL)
    with receiving() as receiver:
        hook = await service.create(WHO, receiver.url, ["*"])
        rotated = await service.rotate(WHO, hook.id, grace=3600)
        await finish(storage, JobState.COMPLETED)
        async with dispatching(storage):
            (request,) = await asyncio.to_thread(receiver.wait_for, 1, 10)

    assert rotated.signing.secret != hook.signing.secret
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (hook.signing.secret, rotated.signing.secret):
        Webhook(secret).verify(request.body, request.headers)


async def test_loopback_targets_are_refused_at_delivery_by_default(storage: Storage) -> None:
    """An endpoint whose host resolves to 127.0.0.1 (`localhost`): the API refuses such a URL
    when it is given; stored anyway (say, allowed then), the dispatcher refuses it too."""
    with receiving() as receiver:
        now = storage.now()
        hook = WebhookEndpoint(
            id=ids.new_id(ids.WEBHOOK),
            tenant_id="tenant-a",
            url=f"http://localhost:{receiver.port}/hook",
            events=("*",),
            enabled=True,
            signing=SigningSecret(new_secret(), created_at=now, updated_at=now),
            created_at=now,
            updated_at=now,
        )
        await storage.webhook_insert(hook)
        await finish(storage, JobState.COMPLETED)
        async with dispatching(storage, policy=TargetPolicy()) as dispatcher:
            await dispatcher.run_until_idle()
        assert receiver.snapshot() == []

    (delivery,) = await deliveries_of(storage, hook.id)
    (attempt,) = delivery.attempts
    assert attempt.error == (
        "refused: localhost resolves to 127.0.0.1 is a loopback address "
        "(an operator may allow it: JOBLANE_WEBHOOK_ALLOW_HOSTS)"
    )
    assert delivery.state is DeliveryState.PENDING  # retried: the name may resolve elsewhere


async def test_a_job_without_listeners_sends_nothing(storage: Storage) -> None:
    with receiving() as receiver:
        await storage.jobs_insert([new_job()])
        await finish(storage, JobState.COMPLETED)
        async with dispatching(storage) as dispatcher:
            await dispatcher.run_until_idle()
        assert receiver.snapshot() == []
    assert await storage.webhook_next_due() is None
