"""Live updates: the dashboard's event streams answer with the session cookie (an EventSource
cannot send a key header), stream the API's event bodies, and keep tenants apart."""

from __future__ import annotations

import orjson

from dashboard_ui.conftest import Dash


async def _first_event(client: object, path: str) -> dict[str, object]:
    import httpx

    assert isinstance(client, httpx.AsyncClient)
    async with client.stream("GET", path) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                data: dict[str, object] = orjson.loads(line[6:])
                return data
    raise AssertionError("no event")


async def test_job_events_with_the_session_cookie(dash: Dash) -> None:
    job = await dash.submit("a", "ticker", input={"steps": 2, "step_seconds": 0.01})
    await dash.run_worker()
    async with dash.signed_in("a") as client:
        event = await _first_event(client, f"/dashboard/jobs/{job['id']}/events")
    assert event["id"] == job["id"] and event["status"] == "completed"
    assert event["progress"]["percentage"] == 100.0  # type: ignore[index]


async def test_batch_events_with_the_session_cookie(dash: Dash) -> None:
    batch = await dash.submit_batch("a", [{"type": "noop", "input": {}}])
    await dash.run_worker()
    async with dash.signed_in("a") as client:
        event = await _first_event(client, f"/dashboard/batches/{batch['id']}/events")
    assert event["id"] == batch["id"] and event["status"] == "completed"
    assert event["progress"]["percentage"] == 100.0  # type: ignore[index]


async def test_events_need_a_session_and_the_right_tenant(dash: Dash) -> None:
    job = await dash.submit("b", "noop")
    async with dash.client() as anonymous:
        response = await anonymous.get(f"/dashboard/jobs/{job['id']}/events")
        assert response.status_code == 303
    async with dash.signed_in("a") as client:
        response = await client.get(f"/dashboard/jobs/{job['id']}/events")
        assert response.status_code == 404
