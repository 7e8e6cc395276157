"""Webhooks on real processes (both backends): `joblane serve` dispatching to a receiver on
127.0.0.1 that holds every request open; the server is killed with SIGKILL mid-delivery and
started again. Every event is delivered afterwards (again, with the same `webhook-id` and the
same body), signed so that the `standardwebhooks` verifier accepts it; the log shows the attempt
the dead process never finished."""

from __future__ import annotations

import signal
from collections import defaultdict

import httpx
import orjson
import pytest
from standardwebhooks.webhooks import Webhook

from acceptance.procs import Processes, wait_until
from webhook_receiver import Received, receiving

pytestmark = pytest.mark.acceptance

JOBS = 5
WEBHOOK_ENV = {
    "JOBLANE_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
    "JOBLANE_WEBHOOK_TIMEOUT": "3",
    "JOBLANE_WEBHOOK_LEASE_SECONDS": "4",  # a dead process's deliveries are due again after it
    "JOBLANE_WEBHOOK_POLL_INTERVAL": "0.1",
    "JOBLANE_WEBHOOK_RETRY_SCHEDULE": "0.5,0.5,0.5,0.5",
}


def test_kill_9_mid_delivery_loses_no_event(procs: Processes, api_key: str) -> None:
    procs.env_overrides.update(WEBHOOK_ENV)
    with receiving() as receiver:
        receiver.hold()  # requests are read, never answered
        server, url = procs.start_http("serve", "apps:app", log_name="serve-1")
        with httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=10) as client:
            created = client.post("/v1/webhooks", json={"url": receiver.url + "/hook"})
            assert created.status_code == 201, created.text
            hook = created.json()
            for n in range(JOBS):
                job = client.post("/v1/jobs", json={"type": "echo", "input": {"value": n}})
                assert job.status_code == 202, job.text
            wait_until(lambda: receiver.held >= JOBS, timeout=20)

        server.send_signal(signal.SIGKILL)  # every delivery is mid-attempt
        server.wait(timeout=10)
        receiver.release()  # the dead process's connections close; answers are 200 from now

        _, url = procs.start_http("serve", "apps:app", log_name="serve-2")
        with httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=10) as client:

            def delivered() -> list[dict[str, object]] | None:
                log = client.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["data"]
                done = [d for d in log if d["status"] == "delivered"]
                return log if len(done) == JOBS else None

            wait_until(lambda: delivered() is not None, timeout=30, interval=0.2)
            log = delivered()
        requests = receiver.snapshot()

    assert log is not None
    by_id: dict[str, list[Received]] = defaultdict(list)
    for request in requests:
        by_id[request.webhook_id].append(request)
    assert set(by_id) == {str(d["event_id"]) for d in log}  # every event, under its own id
    for attempts in by_id.values():
        assert len(attempts) >= 2  # the one the dead process sent, and the one delivered
        assert len({a.body for a in attempts}) == 1  # the same bytes every time
        for attempt in attempts:
            payload = Webhook(hook["secret"]).verify(attempt.body, attempt.headers)
            assert payload == orjson.loads(attempts[0].body)
            assert payload["type"] == "job.completed"
    values = sorted(orjson.loads(a[0].body)["data"]["result"]["value"] for a in by_id.values())
    assert values == list(range(JOBS))
    for delivery in log:
        tried = delivery["attempts"]
        assert isinstance(tried, list)
        first, last = tried[0], tried[-1]
        assert first["finished_at"] is None  # its process died before it could tell
        assert (last["status_code"], last["error"]) == (200, None)
