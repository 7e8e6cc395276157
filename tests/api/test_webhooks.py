"""The Webhooks section of the API on every backend: endpoints (create, list, get, update,
delete, rotate), their delivery logs, events and redelivery, the callback secret; SSRF refusals
at creation and at submission; scopes and tenancy (the attack matrices cover every operation
too, generated from the OpenAPI document)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from standardwebhooks.webhooks import Webhook

from api.conftest import JSON, Api, Headers, assert_problem, serve
from joblane.core import ids
from joblane.core.principal import WRITE
from joblane.core.targets import TargetPolicy
from joblane.core.webhooks import RetrySchedule
from joblane.service.webhooks import WebhookService
from joblane.storage.base import Storage
from joblane.webhooks.dispatcher import Dispatcher, DispatchSettings
from joblane.webhooks.sender import Sender
from webhook_receiver import receiving

HOOK = "https://example.com/hooks/joblane"
ALLOW_LOCAL = TargetPolicy.parse("127.0.0.1")
FAST = DispatchSettings(
    concurrency=4, lease_seconds=5, poll_interval=0.02, schedule=RetrySchedule((0.05,) * 5)
)


async def create(api: Api, headers: Headers, **body: Any) -> JSON:
    response = await api.client.post("/v1/webhooks", json={"url": HOOK, **body}, headers=headers)
    assert response.status_code == 201, response.text
    created: JSON = response.json()
    return created


@contextlib.asynccontextmanager
async def local_api(storage: Storage) -> AsyncIterator[Api]:
    """The API of an operator who allows webhooks to 127.0.0.1."""
    async with serve(storage, webhooks=WebhookService(storage, ALLOW_LOCAL)) as api:
        yield api


async def dispatch(storage: Storage) -> None:
    """Attempt everything due, and its retries, until nothing more is due soon."""
    dispatcher = Dispatcher(storage, Sender(ALLOW_LOCAL, timeout=2), FAST)
    for _ in range(10):
        await dispatcher.run_until_idle()
        await asyncio.sleep(0.08)
    await dispatcher.sender.aclose()


# -- endpoints ---------------------------------------------------------------------------------
async def test_an_endpoint_is_created_with_its_secret_shown_once(api: Api, auth_a: Headers) -> None:
    response = await api.client.post(
        "/v1/webhooks",
        json={"url": HOOK, "events": ["job.completed", "batch.failed"], "description": "ops"},
        headers=auth_a,
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/v1/webhooks/{created['id']}"
    assert ids.is_valid(created["id"], ids.WEBHOOK)
    assert created["secret"].startswith("whsec_")
    Webhook(created["secret"])  # a secret the standard libraries read
    assert (created["url"], created["events"], created["enabled"]) == (
        HOOK,
        ["job.completed", "batch.failed"],
        True,
    )
    shown = await api.client.get(f"/v1/webhooks/{created['id']}", headers=auth_a)
    listed = await api.client.get("/v1/webhooks", headers=auth_a)
    assert shown.status_code == 200 and "secret" not in shown.json()
    assert {k: v for k, v in created.items() if k != "secret"} == shown.json()
    assert [w["id"] for w in listed.json()["data"]] == [created["id"]]
    assert created["secret"] not in shown.text + listed.text


async def test_the_defaults_subscribe_to_everything(api: Api, auth_a: Headers) -> None:
    created = await create(api, auth_a)

    assert created["events"] == ["*"] and created["description"] is None


async def test_an_update_changes_what_it_names(api: Api, auth_a: Headers) -> None:
    created = await create(api, auth_a, description="first")
    url = f"/v1/webhooks/{created['id']}"

    events = await api.client.patch(url, json={"events": ["job.failed"]}, headers=auth_a)
    cleared = await api.client.patch(url, json={"description": None}, headers=auth_a)
    disabled = await api.client.patch(url, json={"enabled": False}, headers=auth_a)
    moved = await api.client.patch(url, json={"url": "https://example.org/h"}, headers=auth_a)

    assert events.json()["events"] == ["job.failed"]
    assert events.json()["description"] == "first"
    assert cleared.json()["description"] is None and cleared.json()["events"] == ["job.failed"]
    assert disabled.json()["enabled"] is False
    assert disabled.json()["disabled_reason"] == "disabled by a user"
    assert moved.json()["url"] == "https://example.org/h" and moved.json()["enabled"] is False
    enabled = await api.client.patch(url, json={"enabled": True}, headers=auth_a)
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None


async def test_a_deleted_endpoint_is_gone(api: Api, auth_a: Headers) -> None:
    created = await create(api, auth_a)
    url = f"/v1/webhooks/{created['id']}"

    deleted = await api.client.delete(url, headers=auth_a)

    assert deleted.status_code == 204
    assert_problem(await api.client.get(url, headers=auth_a), 404, "WEBHOOK_NOT_FOUND")
    assert_problem(await api.client.delete(url, headers=auth_a), 404, "WEBHOOK_NOT_FOUND")


async def test_rotation_gives_a_new_secret_and_a_grace_for_the_old(
    api: Api, auth_a: Headers
) -> None:
    created = await create(api, auth_a)
    url = f"/v1/webhooks/{created['id']}/rotate-secret"

    rotated = await api.client.post(url, json={"grace_seconds": 600}, headers=auth_a)
    at_once = await api.client.post(url, json={"grace_seconds": 0}, headers=auth_a)

    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] not in (created["secret"], at_once.json()["secret"])
    assert rotated.json()["previous_secret_expires_at"] is not None
    assert at_once.json()["previous_secret_expires_at"] is None
    defaults = await api.client.post(url, headers=auth_a)  # no body: a day's grace
    assert defaults.status_code == 200 and defaults.json()["previous_secret_expires_at"]


async def test_lists_page_newest_first(api: Api, auth_a: Headers) -> None:
    made = [(await create(api, auth_a))["id"] for _ in range(3)]

    first = await api.client.get("/v1/webhooks", params={"limit": 2}, headers=auth_a)
    cursor = first.json()["next_cursor"]
    rest = await api.client.get("/v1/webhooks", params={"cursor": cursor}, headers=auth_a)

    assert [w["id"] for w in first.json()["data"]] == made[::-1][:2]
    assert [w["id"] for w in rest.json()["data"]] == made[:1]
    assert rest.json()["next_cursor"] is None


# -- what is refused ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        ({"url": "http://127.0.0.1:8080/x"}, ["body", "url"], "loopback"),
        ({"url": "http://2130706433/x"}, ["body", "url"], "loopback"),
        ({"url": "http://[::ffff:127.0.0.1]/x"}, ["body", "url"], "loopback"),
        ({"url": "http://localhost:9000/"}, ["body", "url"], "names this machine"),
        ({"url": "http://10.1.2.3/"}, ["body", "url"], "private"),
        ({"url": "http://169.254.169.254/latest"}, ["body", "url"], "link-local"),
        ({"url": "ftp://example.com/x"}, ["body", "url"], "URL scheme"),
        ({"url": HOOK, "events": ["job.exploded"]}, ["body", "events", 0], "Input should be"),
        ({"url": HOOK, "events": []}, ["body", "events"], "at least 1"),
        ({"url": HOOK, "secret": "mine"}, ["body", "secret"], "Extra inputs"),
    ],
)
async def test_bad_endpoints_are_refused_with_422(
    api: Api, auth_a: Headers, body: JSON, loc: list[Any], words: str
) -> None:
    response = await api.client.post("/v1/webhooks", json=body, headers=auth_a)

    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert any(e["loc"] == loc and words in e["msg"] for e in problem["errors"]), problem


async def test_an_operator_may_allow_loopback(storage: Storage) -> None:
    async with local_api(storage) as api:
        headers = await api.headers_for("tenant-a")
        allowed = await api.client.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1:9/h"}, headers=headers
        )
        still = await api.client.post(
            "/v1/webhooks", json={"url": "http://192.168.0.1/h"}, headers=headers
        )

    assert allowed.status_code == 201, allowed.text
    assert_problem(still, 422, "VALIDATION_ERROR", detail="private")


async def test_a_callback_url_to_loopback_is_refused_at_submission(
    api: Api, auth_a: Headers
) -> None:
    job = {"type": "noop", "input": {}}
    refused = await api.client.post(
        "/v1/jobs", json={**job, "callback_url": "http://127.0.0.1:8000/cb"}, headers=auth_a
    )
    batch = await api.client.post(
        "/v1/batches",
        json={"jobs": [job], "callback_url": "http://[::1]/cb"},
        headers=auth_a,
    )
    accepted = await api.client.post(
        "/v1/jobs", json={**job, "callback_url": "https://example.com/cb"}, headers=auth_a
    )

    problem = assert_problem(refused, 422, "VALIDATION_ERROR", detail="loopback")
    assert problem["errors"][0]["loc"] == ["body", "callback_url"]
    assert_problem(batch, 422, "VALIDATION_ERROR", detail="loopback")
    assert accepted.status_code == 202


async def test_at_most_fifty_endpoints_per_tenant(api: Api, auth_a: Headers) -> None:
    for _ in range(50):
        await create(api, auth_a)

    response = await api.client.post("/v1/webhooks", json={"url": HOOK}, headers=auth_a)

    assert_problem(response, 409, "CONFLICT", detail="at most 50")


# -- scopes and tenancy ------------------------------------------------------------------------
async def test_reading_needs_jobs_read_and_the_rest_jobs_write(
    api: Api, auth_a: Headers, auth_read: Headers
) -> None:
    created = await create(api, auth_a)
    url = f"/v1/webhooks/{created['id']}"

    assert (await api.client.get(url, headers=auth_read)).status_code == 200
    assert (await api.client.get(f"{url}/deliveries", headers=auth_read)).status_code == 200
    for method, path in [
        ("POST", "/v1/webhooks"),
        ("PATCH", url),
        ("DELETE", url),
        ("POST", f"{url}/rotate-secret"),
        ("POST", "/v1/callback-secret"),
        ("POST", "/v1/callback-secret/rotate"),
    ]:
        response = await api.client.request(method, path, json={}, headers=auth_read)
        body = assert_problem(response, 403, "FORBIDDEN")
        assert body["details"] == {"scope": WRITE}


async def test_another_tenants_endpoint_answers_like_an_unknown_one(
    api: Api, auth_a: Headers, auth_b: Headers
) -> None:
    theirs = (await create(api, auth_b))["id"]
    unknown = ids.new_id(ids.WEBHOOK)

    for webhook_id in (theirs, unknown):
        for method, path in [
            ("GET", ""),
            ("PATCH", ""),
            ("DELETE", ""),
            ("POST", "/rotate-secret"),
            ("GET", "/deliveries"),
        ]:
            response = await api.client.request(
                method, f"/v1/webhooks/{webhook_id}{path}", json={}, headers=auth_a
            )
            assert_problem(response, 404, "WEBHOOK_NOT_FOUND", detail=webhook_id)
    listed = await api.client.get("/v1/webhooks", headers=auth_a)
    assert listed.json()["data"] == []
    assert (await api.client.get(f"/v1/webhooks/{theirs}", headers=auth_b)).status_code == 200


async def test_malformed_ids_are_400(api: Api, auth_a: Headers) -> None:
    bad = await api.client.get("/v1/webhooks/whk_nope", headers=auth_a)
    event = await api.client.get("/v1/webhook-events/nope", headers=auth_a)

    assert_problem(bad, 400, "INVALID_WEBHOOK_ID")
    assert_problem(event, 400, "INVALID_EVENT_ID")


async def test_admin_keys_see_every_tenants_endpoints(
    api: Api, auth_b: Headers, auth_admin: Headers
) -> None:
    theirs = (await create(api, auth_b))["id"]

    seen = await api.client.get(f"/v1/webhooks/{theirs}", headers=auth_admin)

    assert seen.status_code == 200


# -- the callback secret -----------------------------------------------------------------------
async def test_the_callback_secret_is_made_on_first_use_and_rotates(
    api: Api, auth_a: Headers, auth_b: Headers
) -> None:
    first = await api.client.post("/v1/callback-secret", headers=auth_a)
    again = await api.client.post("/v1/callback-secret", headers=auth_a)
    theirs = await api.client.post("/v1/callback-secret", headers=auth_b)
    rotated = await api.client.post(
        "/v1/callback-secret/rotate", json={"grace_seconds": 60}, headers=auth_a
    )

    assert first.status_code == 200 and first.json()["secret"].startswith("whsec_")
    assert again.json()["secret"] == first.json()["secret"] != theirs.json()["secret"]
    assert rotated.json()["secret"] != first.json()["secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None


# -- deliveries, events, redelivery ------------------------------------------------------------
async def finished_job(api: Api, headers: Headers, **body: Any) -> str:
    job = await api.submit(headers, "echo", input={"value": 7}, **body)
    assert await api.run_worker() == 1
    return str(job["id"])


async def test_the_log_shows_every_attempt_and_the_event_its_payload(storage: Storage) -> None:
    async with local_api(storage) as api:
        headers = await api.headers_for("tenant-a")
        with receiving(statuses=[500, 503]) as receiver:
            hook = await create(api, headers, url=receiver.url + "/hook")
            job_id = await finished_job(api, headers)
            await dispatch(storage)
            got = receiver.snapshot()
        log = await api.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=headers)
        (delivery,) = log.json()["data"]
        event = await api.client.get(f"/v1/webhook-events/{delivery['event_id']}", headers=headers)
        job = await api.client.get(f"/v1/jobs/{job_id}", headers=headers)

    assert [r.webhook_id for r in got] == [delivery["event_id"]] * 3
    assert delivery["event_type"] == "job.completed" and delivery["subject_id"] == job_id
    assert (delivery["status"], delivery["attempt"], delivery["webhook_id"]) == (
        "delivered",
        3,
        hook["id"],
    )
    assert [(a["attempt"], a["status_code"], a["error"]) for a in delivery["attempts"]] == [
        (1, 500, "HTTP 500"),
        (2, 503, "HTTP 503"),
        (3, 200, None),
    ]
    assert all(a["duration"] >= 0 and a["finished_at"] for a in delivery["attempts"])
    assert delivery["delivered_at"] and delivery["next_attempt_at"] is None
    payload = event.json()["payload"]
    assert payload == orjson.loads(got[0].body)
    assert payload["data"] == {**job.json(), "retry_after": None}
    assert event.json()["deliveries"] == [delivery]
    Webhook(hook["secret"]).verify(got[-1].body, got[-1].headers)


async def test_a_redelivery_sends_the_same_event_again(storage: Storage) -> None:
    async with local_api(storage) as api:
        headers = await api.headers_for("tenant-a")
        with receiving() as receiver:
            hook = await create(api, headers, url=receiver.url)
            other = await create(api, headers, url=receiver.url + "/other", events=["batch.failed"])
            await finished_job(api, headers)
            await dispatch(storage)
            (delivery,) = (
                await api.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=headers)
            ).json()["data"]
            url = f"/v1/webhook-events/{delivery['event_id']}/redeliver"
            again = await api.client.post(url, json={"webhook_id": hook["id"]}, headers=headers)
            not_sent_there = await api.client.post(
                url, json={"webhook_id": other["id"]}, headers=headers
            )
            await dispatch(storage)
            got = receiver.snapshot()
            await api.client.patch(
                f"/v1/webhooks/{hook['id']}", json={"enabled": False}, headers=headers
            )
            disabled = await api.client.post(url, json={"webhook_id": hook["id"]}, headers=headers)

    assert again.status_code == 202, again.text
    assert again.json()["deliveries"][0]["status"] == "pending"
    assert len(got) == 2 and got[0].webhook_id == got[1].webhook_id == delivery["event_id"]
    assert got[0].body == got[1].body
    assert_problem(not_sent_there, 422, "VALIDATION_ERROR", detail="no delivery")
    assert_problem(disabled, 409, "CONFLICT", detail="disabled")


async def test_another_tenants_event_answers_like_an_unknown_one(
    api: Api, auth_a: Headers, auth_b: Headers
) -> None:
    hook = await create(api, auth_b)
    await finished_job(api, auth_b)
    log = await api.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=auth_b)
    theirs = log.json()["data"][0]["event_id"]

    for event_id in (theirs, ids.new_id(ids.EVENT)):
        shown = await api.client.get(f"/v1/webhook-events/{event_id}", headers=auth_a)
        redone = await api.client.post(f"/v1/webhook-events/{event_id}/redeliver", headers=auth_a)
        assert_problem(shown, 404, "EVENT_NOT_FOUND", detail=event_id)
        assert_problem(redone, 404, "EVENT_NOT_FOUND", detail=event_id)
    own = await api.client.get(f"/v1/webhook-events/{theirs}", headers=auth_b)
    assert own.status_code == 200 and own.json()["payload"] is None  # not dispatched yet


async def test_410_shows_as_a_disabled_endpoint(storage: Storage) -> None:
    async with local_api(storage) as api:
        headers = await api.headers_for("tenant-a")
        with receiving(statuses=[410]) as receiver:
            hook = await create(api, headers, url=receiver.url)
            await finished_job(api, headers)
            await dispatch(storage)
            await finished_job(api, headers)  # no event for a disabled endpoint
            await dispatch(storage)
            assert len(receiver.snapshot()) == 1
        shown = await api.client.get(f"/v1/webhooks/{hook['id']}", headers=headers)
        log = await api.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=headers)
        failed = await api.client.get(
            f"/v1/webhooks/{hook['id']}/deliveries", params={"status": "failed"}, headers=headers
        )

    assert shown.json()["enabled"] is False
    assert shown.json()["disabled_reason"] == "the endpoint answered 410 Gone"
    (delivery,) = log.json()["data"]
    assert (delivery["status"], delivery["last_status_code"]) == ("failed", 410)
    assert failed.json()["data"] == [delivery]


async def test_a_callback_delivery_is_signed_with_the_tenants_callback_secret(
    storage: Storage,
) -> None:
    async with local_api(storage) as api:
        headers = await api.headers_for("tenant-a")
        with receiving() as receiver:
            job_id = await finished_job(api, headers, callback_url=receiver.url + "/done")
            await dispatch(storage)
            (request,) = receiver.snapshot()
        secret = (await api.client.post("/v1/callback-secret", headers=headers)).json()["secret"]

    payload = Webhook(secret).verify(request.body, request.headers)
    assert request.path == "/done"
    assert (payload["type"], payload["data"]["id"]) == ("job.completed", job_id)
    assert payload["data"]["result"] == {"value": 7}
