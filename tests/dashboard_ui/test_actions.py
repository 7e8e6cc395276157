"""Actions: a POST without the session's CSRF token is refused and changes nothing; with it,
each action changes the job, batch, key or tenant through the services and comes back with a
flash message; refusals (a conflict) come back the same way."""

from __future__ import annotations

import re

import httpx

from dashboard_ui.conftest import Dash, csrf_of
from joblane.core.principal import ADMIN


async def _token(client: httpx.AsyncClient, path: str) -> str:
    return csrf_of((await client.get(path)).text)


async def _status(dash: Dash, who: str, job_id: str) -> str:
    status: str = (await dash.api(who, "GET", f"/v1/jobs/{job_id}")).json()["status"]
    return status


async def _follow(client: httpx.AsyncClient, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:1000]
    page = await client.get(response.headers["location"])
    flash = re.search(r'data-testid="flash"[^>]*>([^<]*)<', page.text)
    assert flash, page.text[:1000]
    return flash.group(1)


async def test_actions_without_a_valid_csrf_token_are_refused(dash: Dash) -> None:
    job = await dash.submit("a", "nap", input={"seconds": 5})
    path = f"/dashboard/jobs/{job['id']}/cancel"
    async with dash.signed_in("a") as other:
        foreign = await _token(other, "/dashboard/jobs")  # a token of another session
    async with dash.signed_in("a") as client:
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": foreign}):
            response = await client.post(path, data=data)
            assert response.status_code == 403
            assert 'data-testid="page-forbidden"' in response.text
        token = await _token(client, "/dashboard/jobs")
        cross = await client.post(
            path, data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403
    assert await _status(dash, "a", job["id"]) == "queued"


async def test_cancel_retry_delete_go_through_the_service(dash: Dash) -> None:
    job = await dash.submit("a", "flaky", input={"fail_attempts": 1})
    await dash.run_worker()
    page = f"/dashboard/jobs/{job['id']}"
    async with dash.signed_in("a") as client:
        token = await _token(client, page)
        assert await _status(dash, "a", job["id"]) == "failed"
        flash = await _follow(
            client, await client.post(f"{page}/retry", data={"csrf_token": token})
        )
        assert "queued again" in flash
        assert await _status(dash, "a", job["id"]) == "queued"
        # retrying a queued job is a conflict: the same page, an error flash
        refused = await client.post(f"{page}/retry", data={"csrf_token": token})
        assert refused.headers["location"] == page
        assert "only failed or cancelled" in await _follow(client, refused)
        flash = await _follow(
            client, await client.post(f"{page}/cancel", data={"csrf_token": token})
        )
        assert "cancelled" in flash
        assert await _status(dash, "a", job["id"]) == "cancelled"
        deleted = await client.post(f"{page}/delete", data={"csrf_token": token})
        assert deleted.headers["location"] == "/dashboard/jobs"
        assert "deleted" in await _follow(client, deleted)
    assert (await dash.api("a", "GET", f"/v1/jobs/{job['id']}")).status_code == 404


async def test_another_tenants_job_cannot_be_acted_on(dash: Dash) -> None:
    job = await dash.submit("b", "nap", input={"seconds": 5})
    async with dash.signed_in("a") as client:
        token = await _token(client, "/dashboard/jobs")
        response = await client.post(
            f"/dashboard/jobs/{job['id']}/cancel", data={"csrf_token": token}
        )
        assert response.status_code == 404
        assert 'data-testid="page-not-found"' in response.text
    assert await _status(dash, "b", job["id"]) == "queued"


async def test_batch_pause_resume_cancel(dash: Dash) -> None:
    items = [{"type": "nap", "input": {"seconds": 5}} for _ in range(3)]
    batch = await dash.submit_batch("a", items)
    page = f"/dashboard/batches/{batch['id']}"

    async def status() -> str:
        value: str = (await dash.api("a", "GET", f"/v1/batches/{batch['id']}")).json()["status"]
        return value

    async with dash.signed_in("a") as client:
        html = (await client.get(page)).text
        assert 'data-testid="action-pause"' in html and 'data-testid="action-resume"' not in html
        token = csrf_of(html)
        assert "paused" in await _follow(
            client, await client.post(f"{page}/pause", data={"csrf_token": token})
        )
        assert await status() == "paused"
        html = (await client.get(page)).text
        assert 'data-testid="action-resume"' in html
        assert re.search(r'data-testid="batch-status">paused<', html)
        await _follow(client, await client.post(f"{page}/resume", data={"csrf_token": token}))
        assert await status() == "queued"
        await _follow(client, await client.post(f"{page}/cancel", data={"csrf_token": token}))
        assert await status() == "cancelled"


async def test_batch_retry_failed(dash: Dash) -> None:
    items = [{"type": "batch_item", "input": {"index": 0, "fail": "QUOTA_EXCEEDED"}}]
    batch = await dash.submit_batch("a", items)
    await dash.run_worker()
    page = f"/dashboard/batches/{batch['id']}"
    async with dash.signed_in("a") as client:
        html = (await client.get(page)).text
        assert 'data-testid="action-retry-failed"' in html
        flash = await _follow(
            client, await client.post(f"{page}/retry-failed", data={"csrf_token": csrf_of(html)})
        )
        assert "1 failed items queued again" in flash
    body = (await dash.api("a", "GET", f"/v1/batches/{batch['id']}")).json()
    assert body["progress"]["pending"] == 1


async def test_keys_create_shows_the_secret_once_and_revoke_works(dash: Dash) -> None:
    async with dash.signed_in("admin") as client:
        token = await _token(client, "/dashboard/keys")
        created = await client.post(
            "/dashboard/keys",
            data={
                "csrf_token": token,
                "tenant_id": "tenant-c",
                "name": "ci",
                "scopes": ["jobs:read"],
            },
        )
        assert created.status_code == 201
        secret = re.search(r'data-testid="new-key">([^<]+)<', created.text)
        assert secret
        key_id = re.search(r'data-testid="key-row" data-key-id="([^"]+)"', created.text)
        assert key_id
        listed = (await client.get("/dashboard/keys")).text
        assert secret.group(1) not in listed  # shown once
        check = await dash.api("admin", "GET", "/v1/jobs")  # the admin key still works
        assert check.status_code == 200
        async with dash.client() as new:
            ok = await new.get("/v1/jobs", headers={"X-API-Key": secret.group(1)})
            assert ok.status_code == 200
        revoked = await client.post(
            f"/dashboard/keys/{key_id.group(1)}/revoke", data={"csrf_token": token}
        )
        assert "revoked" in await _follow(client, revoked)
        async with dash.client() as new:
            gone = await new.get("/v1/jobs", headers={"X-API-Key": secret.group(1)})
            assert gone.status_code == 401


async def test_key_form_errors_are_shown(dash: Dash) -> None:
    async with dash.signed_in("admin") as client:
        token = await _token(client, "/dashboard/keys")
        bad = await client.post(
            "/dashboard/keys", data={"csrf_token": token, "tenant_id": "bad id!", "scopes": []}
        )
        assert bad.status_code == 200
        assert 'data-testid="flash"' in bad.text and 'data-testid="new-key"' not in bad.text


async def test_tenants_create_and_tenant_keys_cannot(dash: Dash) -> None:
    async with dash.signed_in("admin") as client:
        token = await _token(client, "/dashboard/tenants")
        created = await client.post(
            "/dashboard/tenants", data={"csrf_token": token, "tenant_id": "acme", "name": "Acme"}
        )
        assert "acme" in await _follow(client, created)
        again = await client.post(
            "/dashboard/tenants", data={"csrf_token": token, "tenant_id": "acme", "name": "Acme"}
        )
        assert again.headers["location"] == "/dashboard/tenants"
        assert "already exists" in await _follow(client, again)
    assert [t for t in await dash.keys.tenants.list() if t.id == "acme"]
    async with dash.signed_in("a") as client:
        token = await _token(client, "/dashboard/jobs")
        refused = await client.post(
            "/dashboard/tenants", data={"csrf_token": token, "tenant_id": "evil", "name": "x"}
        )
        assert refused.status_code == 403
        refused = await client.post(
            "/dashboard/keys",
            data={"csrf_token": token, "tenant_id": "tenant-a", "scopes": [ADMIN]},
        )
        assert refused.status_code == 403
    assert not [t for t in await dash.keys.tenants.list() if t.id == "evil"]
