"""HTTP metrics in one process: requests counted by method, route template (never the raw
path) and status; unknown paths share one label; rate-limit refusals are counted by kind;
/metrics answers the exposition format, and asks for the token when one is set."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client import REGISTRY

from api.conftest import Api, Headers
from joblane.api.ratelimit import RateLimits
from joblane.observe.metrics import metrics
from joblane.service.ratelimit import MemoryRateLimiter, RatePolicies, RatePolicy


def requests(method: str, route: str, status: str) -> float:
    labels = {"method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("joblane_http_requests_total", labels) or 0.0


async def test_requests_are_counted_by_route_template(api: Api, auth_a: Headers) -> None:
    metrics()
    job = await api.submit(auth_a)
    before = requests("GET", "/v1/jobs/{job_id}", "200")
    unknown = requests("GET", "unmatched", "404")
    missing = requests("GET", "/v1/jobs/{job_id}", "404")

    await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)
    await api.client.get(f"/v1/jobs/{job['id']}", headers=auth_a)
    await api.client.get("/v1/jobs/job_01J00000000000000000000000", headers=auth_a)
    await api.client.get("/no/such/path/12345", headers=auth_a)

    assert requests("GET", "/v1/jobs/{job_id}", "200") == before + 2
    assert requests("GET", "/v1/jobs/{job_id}", "404") == missing + 1
    assert requests("GET", "unmatched", "404") == unknown + 1
    assert (
        REGISTRY.get_sample_value(
            "joblane_http_requests_total",
            {"method": "GET", "route": "/no/such/path/12345", "status": "404"},
        )
        is None
    )


async def test_rate_limit_refusals_are_counted(api: Api, auth_a: Headers) -> None:
    policies = RatePolicies(RatePolicy("read", 0.001, 1), RatePolicy("write", 0.001, 1))
    app = api.client._transport.app  # type: ignore[attr-defined]
    app.state.ctx = replace(app.state.ctx, limits=RateLimits(MemoryRateLimiter(), policies))
    before = REGISTRY.get_sample_value("joblane_rate_limited_total", {"kind": "read"}) or 0.0

    statuses = [(await api.client.get("/v1/jobs", headers=auth_a)).status_code for _ in range(3)]

    assert statuses.count(429) == 2
    assert REGISTRY.get_sample_value("joblane_rate_limited_total", {"kind": "read"}) == before + 2


async def test_metrics_answers_the_exposition_format_and_checks_the_token(api: Api) -> None:
    app = api.client._transport.app  # type: ignore[attr-defined]
    open_answer = await api.client.get("/metrics")
    app.state.metrics_token = "a-token-of-16-chars"
    try:
        refused = await api.client.get("/metrics")
        wrong = await api.client.get("/metrics", headers={"Authorization": "Bearer nope"})
        allowed = await api.client.get(
            "/metrics", headers={"Authorization": "Bearer a-token-of-16-chars"}
        )
    finally:
        app.state.metrics_token = None

    assert open_answer.status_code == 200
    assert open_answer.headers["content-type"].startswith("text/plain")
    assert "joblane_queue_stats_up 1.0" in open_answer.text
    assert "# TYPE joblane_http_requests_total counter" in open_answer.text
    assert (refused.status_code, wrong.status_code, allowed.status_code) == (401, 401, 200)
