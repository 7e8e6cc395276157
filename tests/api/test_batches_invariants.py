"""Property-style: a batch of mixed outcomes driven step by step at random (claims, finishes,
failures, pause/resume, a cancel, retry-failed), checked through the API after every step."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

import pytest

from api.batching import PROGRESS_KEYS, bad, get_batch, items_of, ok, submit_batch
from api.conftest import JSON, Api, Headers
from joblane.core.job import Job, JobErrorInfo, Lease
from joblane.core.states import JobState
from joblane.storage.params import Outcome

ITEMS = 60
STEPS = 70
TERMINAL = {"completed", "failed", "cancelled"}
PENDING_NAME = {"queued": "pending", "running": "processing"}


@dataclass
class Observer:
    """What the API said so far, and the rules the next answer must keep."""

    api: Api
    headers: Headers
    batch_id: str
    max_concurrent: int | None
    version: int = 0
    percentage: float = 0.0
    settled: JSON | None = None  # status and progress once terminal
    last: tuple[str, JSON] | None = None
    seen: list[str] = field(default_factory=list)

    def retried(self) -> None:
        """An explicit retry may take progress back (and a finished batch out of its end)."""
        self.percentage = 0.0
        self.settled = None

    async def check(self, step: str) -> JSON:
        batch = await get_batch(self.api, self.headers, self.batch_id)  # counts sum to total
        progress, status = batch["progress"], batch["status"]
        self.seen.append(f"{step}: {status} v{batch['version']} {progress}")
        trail = "\n".join(self.seen[-6:])
        assert progress["total"] == ITEMS, trail
        assert batch["version"] >= self.version, trail
        assert progress["percentage"] >= self.percentage, trail
        if self.max_concurrent is not None:
            assert progress["processing"] <= self.max_concurrent, trail
        items = await items_of(self.api, self.headers, self.batch_id)
        counted = Counter(PENDING_NAME.get(item["status"], item["status"]) for item in items)
        assert {key: counted[key] for key in PROGRESS_KEYS} == {
            key: progress[key] for key in PROGRESS_KEYS
        }, trail
        if self.settled is not None:
            assert {"status": status, "progress": progress} == self.settled, trail
        elif status in TERMINAL:
            assert progress["pending"] == progress["processing"] == 0, trail
            self.settled = {"status": status, "progress": progress}
        if batch["version"] == self.version:  # nothing moved: nothing may look different
            assert (status, progress) == self.last, trail
        self.version, self.percentage = batch["version"], progress["percentage"]
        self.last = (status, progress)
        return batch


def _finish(job: Job) -> Outcome:
    assert job.lease_token is not None
    lease = Lease(job.id, job.lease_token)
    code = job.input.get("fail")
    if code:
        return Outcome(lease, JobState.FAILED, error=JobErrorInfo(code, "failed on purpose"))
    return Outcome(lease, JobState.COMPLETED, result={"index": job.input["index"]})


async def _post(api: Api, headers: Headers, batch_id: str, verb: str) -> int:
    response = await api.client.post(f"/v1/batches/{batch_id}/{verb}", headers=headers)
    assert response.status_code in (200, 202, 409), response.text
    return response.status_code


@pytest.mark.parametrize(
    ("seed", "max_concurrent"), [(1, None), (2, None), (3, 5), (4, None), (5, 3)]
)
async def test_invariants_hold_at_every_step(
    api: Api, auth_a: Headers, seed: int, max_concurrent: int | None
) -> None:
    rng = random.Random(seed)
    codes = ["FORMAT_ERROR", "LOOKUP_FAILED", "OTHER"]
    jobs = [ok(i) if rng.random() < 0.65 else bad(i, rng.choice(codes)) for i in range(ITEMS)]
    options = {} if max_concurrent is None else {"max_concurrent": max_concurrent}
    batch = await submit_batch(api, auth_a, jobs, **options)
    observer = Observer(api, auth_a, batch["id"], max_concurrent)
    running: list[Job] = []
    await observer.check("submitted")

    for number in range(STEPS):
        roll = rng.random()
        now = await get_batch(api, auth_a, batch["id"], metrics_only="true")
        status, stopping = now["status"], now["cancel_requested"]
        if roll < 0.35:
            claimed = await api.storage.jobs_claim(
                "wrk_prop", ["batch_item"], rng.randint(1, 8), 60
            )
            if status == "paused":
                assert claimed == [], "a paused batch's items were claimed"
            running.extend(claimed)
            step = f"claim {len(claimed)}"
        elif roll < 0.75 and running:
            rng.shuffle(running)
            take = rng.randint(1, 5)
            done, running = running[:take], running[take:]
            await api.storage.jobs_finish([_finish(job) for job in done])
            step = f"finish {len(done)}"
        elif roll < 0.83:
            verb = "resume" if status == "paused" else "pause"
            code = await _post(api, auth_a, batch["id"], verb)
            assert (code == 409) == (status in TERMINAL or stopping), (verb, status, code)
            step = verb
        elif roll < 0.88 and number > STEPS // 3:
            code = await _post(api, auth_a, batch["id"], "cancel")
            assert (code == 409) == (status in TERMINAL), ("cancel", status, code)
            step = "cancel"
        elif roll < 0.93:
            code = await _post(api, auth_a, batch["id"], "retry-failed")
            refused = stopping or now["progress"]["failed"] == 0
            assert (code == 409) == refused, ("retry-failed", now, code)
            if code == 202:
                observer.retried()
            step = f"retry-failed {code}"
        else:
            step = "nothing"
        await observer.check(f"{number} {step}")

    while running:  # the worker ends what it holds; the batch settles
        done, running = running[:10], running[10:]
        await api.storage.jobs_finish([_finish(job) for job in done])
        await observer.check("drain")
    await _post(api, auth_a, batch["id"], "cancel")
    final = await observer.check("final cancel")
    assert final["status"] in TERMINAL
    assert final["progress"]["pending"] == final["progress"]["processing"] == 0


async def test_a_cancelled_batch_runs_until_its_items_stopped_then_never_changes(
    api: Api, auth_a: Headers
) -> None:
    batch = await submit_batch(api, auth_a, [ok(0), ok(1)])
    (running,) = await api.storage.jobs_claim("wrk_prop", ["batch_item"], 1, 60)
    response = await api.client.post(f"/v1/batches/{batch['id']}/cancel", headers=auth_a)
    stopping = response.json()

    await api.storage.jobs_finish([_finish(running)])  # the worker ends what it was running
    cancelled = await get_batch(api, auth_a, batch["id"])
    retried = await api.client.post(f"/v1/jobs/{running.id}/retry", headers=auth_a)
    later = await get_batch(api, auth_a, batch["id"])

    assert response.status_code == 202
    assert (stopping["status"], stopping["progress"]["processing"]) == ("running", 1)
    assert cancelled["status"] == "cancelled"
    assert cancelled["progress"]["processing"] == 0
    assert retried.status_code == 409
    assert (later["status"], later["progress"], later["version"]) == (
        cancelled["status"],
        cancelled["progress"],
        cancelled["version"],
    )
