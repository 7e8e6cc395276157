"""A queued job held back by its tenant's max_running says so: `waiting_reason` `tenant_limit`."""

from __future__ import annotations

import os
import socket

from factories import new_job
from joblane.core import ids
from joblane.core.job import Lease
from joblane.core.states import JobState
from joblane.core.tenant import Tenant, TenantSettings
from joblane.service.waiting import TENANT_CACHE_SECONDS, WaitingReasons
from joblane.storage.base import Storage
from joblane.storage.params import Outcome, WorkerRecord

A, B = "tenant-a", "tenant-b"


async def test_a_job_of_a_tenant_at_its_cap_waits_for_the_tenant_limit(storage: Storage) -> None:
    now = storage.now()
    host, pid = socket.gethostname(), os.getpid()
    await storage.worker_upsert(WorkerRecord(ids.new_id("wrk"), host, pid, ("noop",), 1, now, now))
    await storage.tenant_put(Tenant(A, "", 0, 0, TenantSettings(max_running=1)))
    first, second = await storage.jobs_insert([new_job(A), new_job(A)])
    (busy,) = await storage.jobs_claim("w1", ["noop"], 1, 30.0)
    (other,) = await storage.jobs_insert([new_job(B)])
    held = second if busy.id == first.id else first
    reasons, now = WaitingReasons(storage), storage.now()

    assert await reasons.reason(held, now) == "tenant_limit"
    assert await reasons.reason(other, now) == "queue_backlog"

    await storage.jobs_finish([Outcome(Lease(busy.id, busy.lease_token or ""), JobState.COMPLETED)])
    assert await reasons.reason(held, now) == "tenant_limit"  # a hint, cached for a moment
    later = now + TENANT_CACHE_SECONDS + 0.1
    assert await reasons.reason(held, later) == "queue_backlog"
