"""A real `joblane serve apps:app` process for the browser tests: an admin key, two tenants'
keys, and data seeded through the HTTP API like a user would."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

import pg
from acceptance.procs import Processes

TENANT_A = "acme"
TENANT_B = "globex"
TERMINAL = ("completed", "failed", "cancelled")
T = TypeVar("T")
# The retried attempt runs a while: its page stays up (no live reload at the end) long enough
# to read the action's flash message.
RETRIED = {"seconds": 3.0}
PAGING_ITEMS = 61  # over one page of the jobs list (50), and not a multiple of it


@dataclass
class Dash:
    url: str
    backend: str
    admin_key: str
    keys: dict[str, str]  # tenant -> a jobs:read,jobs:write key
    procs: Processes
    seeded: dict[str, str] = field(default_factory=dict)  # label -> job or batch id

    def api(self, tenant: str | None = None) -> httpx.Client:
        key = self.admin_key if tenant is None else self.keys[tenant]
        return httpx.Client(base_url=self.url, headers={"X-API-Key": key}, timeout=30)


def off_loop(call: Callable[[], T]) -> T:
    """Runs `call` in a thread of its own: Playwright's sync API keeps an event loop running in
    the test's thread, where `asyncio.run` (the PostgreSQL helpers) refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


@contextlib.contextmanager
def dashboard_server(backend: str, workdir: Path) -> Iterator[Dash]:
    with contextlib.ExitStack() as stack:
        if backend == "postgres":
            fresh = pg.fresh_database_sync(migrated=False)
            database = off_loop(fresh.__enter__)
            stack.callback(off_loop, lambda: fresh.__exit__(None, None, None))
        else:
            database = str(workdir / "joblane.db")
        procs = Processes(workdir, database, {"JOBLANE_SHUTDOWN_GRACE": "2"})
        stack.callback(procs.stop_all)
        procs.run("migrate")
        server, url = procs.start_http("serve", "apps:app", log_name="serve")
        admin = procs.run("keys", "create", "--tenant", "ops", "--scopes", "admin")
        keys = {
            tenant: procs.run("keys", "create", "--tenant", tenant)
            for tenant in (TENANT_A, TENANT_B)
        }
        dash = Dash(url, backend, admin, keys, procs)
        seed(dash)
        yield dash
        assert server.poll() is None, procs.log("serve")


def submit_job(client: httpx.Client, job_type: str, inp: dict[str, Any], **meta: str) -> str:
    response = client.post("/v1/jobs", json={"type": job_type, "input": inp, "metadata": meta})
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


def submit_batch(
    client: httpx.Client, name: str, items: list[dict[str, Any]], **options: Any
) -> str:
    jobs = [{"type": "batch_item", "input": item} for item in items]
    response = client.post("/v1/batches", json={"name": name, "jobs": jobs, **options})
    assert response.status_code == 202, response.text
    batch_id: str = response.json()["id"]
    return batch_id


def job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_job(
    client: httpx.Client, job_id: str, statuses: tuple[str, ...] = TERMINAL
) -> dict[str, Any]:
    """Long-polls (`Prefer: wait`) until the job is in one of `statuses`."""
    for _ in range(30):
        body = job(client, job_id)
        if body["status"] in statuses:
            return body
        client.get(
            f"/v1/jobs/{job_id}",
            headers={"Prefer": "wait=5", "If-None-Match": f'"{body["version"]}"'},
        )
    raise AssertionError(f"{job_id} never reached {statuses}: {json.dumps(body)}")


def batch(client: httpx.Client, batch_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/batches/{batch_id}", params={"metrics_only": "true"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_batch(client: httpx.Client, batch_id: str) -> dict[str, Any]:
    """Long-polls until the batch is terminal with no item left to run."""
    for _ in range(30):
        body = batch(client, batch_id)
        unfinished = body["progress"]["pending"] + body["progress"]["processing"]
        if body["status"] in TERMINAL and unfinished == 0:
            return body
        headers = {"Prefer": "wait=5", "If-None-Match": f'"{body["version"]}"'}
        client.get(f"/v1/batches/{batch_id}", params={"metrics_only": "true"}, headers=headers)
    raise AssertionError(f"{batch_id} never finished: {json.dumps(body)}")


def wait_paused(client: httpx.Client, batch_id: str) -> dict[str, Any]:
    """Long-polls until the batch is paused and none of its items is still running."""
    for _ in range(30):
        body = batch(client, batch_id)
        if body["status"] == "paused" and body["progress"]["processing"] == 0:
            return body
        headers = {"Prefer": "wait=5", "If-None-Match": f'"{body["version"]}"'}
        client.get(f"/v1/batches/{batch_id}", params={"metrics_only": "true"}, headers=headers)
    raise AssertionError(f"{batch_id} never settled paused: {json.dumps(body)}")


def seed(dash: Dash) -> None:
    """Failed jobs with metadata for both tenants (found by it later), a completed one, a job
    with progress, and a finished batch with failures of two kinds (its error summary)."""
    with dash.api(TENANT_A) as a, dash.api(TENANT_B) as b:
        ids = {
            "a_retry": submit_job(a, "flaky", RETRIED, customer_ref="A-17", team="billing"),
            "a_csrf": submit_job(a, "flaky", {}, customer_ref="A-18", team="billing"),
            "a_boom": submit_job(a, "fail", {"code": "BOOM"}, customer_ref="A-19"),
            "a_done": submit_job(a, "echo", {"value": 7}, customer_ref="A-20"),
            "a_ticker": submit_job(a, "ticker", {"steps": 5, "step_seconds": 0.05}),
            "b_failed": submit_job(b, "flaky", {}, customer_ref="B-1", team="billing"),
        }
        items = [{"index": n, "fail": ("FORMAT_ERROR" if n % 4 == 1 else None)} for n in range(12)]
        items[6]["fail"] = "LOOKUP_FAILED"
        ids["a_batch"] = submit_batch(a, "seeded reports", items)
        ids["a_paging_batch"] = submit_batch(
            a, "paging", [{"index": n} for n in range(PAGING_ITEMS)]
        )
        ids["b_batch"] = submit_batch(b, "globex nightly", [{"index": n} for n in range(3)])
        for label, some_id in ids.items():
            client = b if label.startswith("b_") else a
            if label.endswith("batch"):
                wait_batch(client, some_id)
            else:
                wait_job(client, some_id)
        dash.seeded.update(ids)
