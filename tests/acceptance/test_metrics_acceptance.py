"""The "done when" of /metrics: a real API process and two worker processes share a metrics
directory; a known set of jobs runs (some complete, some fail, some are retried once); the
numbers `/metrics` reports are exactly those of the jobs that ran. Also: the queue gauges
(read from storage at scrape time), the JSON log lines, and the token."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from acceptance.pgprocs import wait_for_log
from acceptance.procs import Processes, wait_until

pytestmark = pytest.mark.acceptance
APP = "observe_apps:app"
TOKEN = "metrics-token-for-tests"
PLAN = {"ok": 6, "broken": 3, "flaky": 4, "chatty": 2}  # flaky: attempt 1 fails, 2 completes
SLOW = 4  # then, with both workers up, `ok` jobs of 0.5 s: two each (concurrency 2)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    response = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def submit(client: httpx.Client, job_type: str, data: dict[str, float] | None = None) -> str:
    response = client.post("/v1/jobs", json={"type": job_type, "input": data or {}})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def terminal(client: httpx.Client, ids: list[str]) -> bool:
    states = [client.get(f"/v1/jobs/{i}").json()["status"] for i in ids]
    return all(s in ("completed", "failed", "cancelled") for s in states)


def settled(samples: Samples, finished: int) -> bool:
    names = [name for name, _ in samples]
    done = sum(v for (name, _), v in samples.items() if name == "joblane_jobs_finished_total")
    return done == finished and "joblane_queue_depth" not in names


def test_metrics_from_two_workers_match_the_jobs_that_ran(
    procs: Processes, api_key: str, tmp_path: Path
) -> None:
    metrics_dir = tmp_path / "metrics"
    procs.env_overrides.update(
        {"JOBLANE_METRICS_DIR": str(metrics_dir), "JOBLANE_METRICS_TOKEN": TOKEN}
    )
    _, url = procs.start_http("api", APP, log_name="api")
    with httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=10) as client:
        ids = [submit(client, job_type) for job_type, n in PLAN.items() for _ in range(n)]

        queued = scrape(url)  # no worker yet: everything waits
        for job_type, count in PLAN.items():
            assert value(queued, "joblane_queue_depth", type=job_type) == count
            assert value(queued, "joblane_queue_oldest_age_seconds", type=job_type) >= 0
        assert value(queued, "joblane_queue_stats_up") == 1
        assert httpx.get(f"{url}/metrics").status_code == 401

        workers = [
            procs.start("worker", APP, "--concurrency", "2", log_name=f"worker-{n}") for n in (1, 2)
        ]
        for n, proc in enumerate(workers, 1):
            wait_for_log(procs, f"worker-{n}", proc, "serving", timeout=30)
        wait_until(lambda: terminal(client, ids), timeout=60, interval=0.2)
        ids += [submit(client, "ok", {"seconds": 0.5}) for _ in range(SLOW)]
        wait_until(lambda: terminal(client, ids), timeout=60, interval=0.2)
        chatty = ids[PLAN["ok"] + PLAN["broken"] + PLAN["flaky"]]
        logs = client.get(f"/v1/jobs/{chatty}/logs").json()

    # workers add their counts every second, and the queue gauges are cached 5 s
    total_finished = sum(PLAN.values()) + PLAN["flaky"] + SLOW
    wait_until(lambda: settled(scrape(url), total_finished), 10, 0.5)
    after = scrape(url)
    finished = Counter(
        {
            ("ok", "completed"): PLAN["ok"] + SLOW,
            ("broken", "failed"): 3,
            ("flaky", "retried"): 4,
            ("flaky", "completed"): 4,
            ("chatty", "completed"): 2,
        }
    )
    for job_type, planned in PLAN.items():
        count = planned + (SLOW if job_type == "ok" else 0)
        attempts = count * (2 if job_type == "flaky" else 1)
        assert value(after, "joblane_jobs_submitted_total", type=job_type) == count
        assert value(after, "joblane_jobs_started_total", type=job_type) == attempts
        assert value(after, "joblane_job_queue_wait_seconds_count", type=job_type) == attempts
        assert value(after, "joblane_jobs_running", type=job_type) == 0
    for (job_type, outcome), count in finished.items():
        labels = {"type": job_type, "outcome": outcome}
        assert value(after, "joblane_jobs_finished_total", **labels) == count, labels
        assert value(after, "joblane_job_run_seconds_count", **labels) == count, labels
    assert value(after, "joblane_job_attempts_total", type="flaky", attempt="2") == 4
    assert value(after, "joblane_jobs_finished_total", type="ok", outcome="failed") == 0
    posted = {"method": "POST", "route": "/v1/jobs", "status": "202"}
    assert value(after, "joblane_http_requests_total", **posted) == len(ids)
    route = {"method": "GET", "route": "/v1/jobs/{job_id}"}
    assert value(after, "joblane_http_request_duration_seconds_count", **route) >= len(ids)

    # every process wrote its own files: the API and both workers (the slow jobs kept both busy)
    pids = {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}
    assert len(pids) == 3

    # a handler's lines are kept with its job; every process logs JSON lines with context
    assert [line["message"] for line in logs["data"]][-1] == "plain logger line"
    worker_lines = [
        json.loads(x)
        for x in (procs.log("worker-1") + procs.log("worker-2")).splitlines()
        if x.startswith("{")
    ]
    in_jobs = [x for x in worker_lines if "job_id" in x]
    assert in_jobs and all({"type", "attempt"} <= set(x) for x in in_jobs)
