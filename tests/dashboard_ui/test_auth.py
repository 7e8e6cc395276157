"""Signing in and out: the cookie's flags and content, bad keys, pages without a session, and
a key revoked while signed in."""

from __future__ import annotations

import pytest

from dashboard_ui.conftest import Dash, csrf_of
from joblane.dashboard.web import SESSION_COOKIE


async def test_login_form_and_pages_without_a_session(dash: Dash) -> None:
    async with dash.client() as client:
        form = await client.get("/dashboard/login")
        assert form.status_code == 200
        assert 'data-testid="api-key"' in form.text and 'data-testid="login"' in form.text
        for path in ("/dashboard", "/dashboard/jobs", "/dashboard/keys", "/dashboard/batches"):
            response = await client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/dashboard/login"


async def test_bad_keys_rerender_the_form_with_an_error(dash: Dash) -> None:
    async with dash.client() as client:
        for key in ("", "nonsense", dash.secrets["a"][:-1] + "x"):
            response = await client.post("/dashboard/login", data={"api_key": key})
            assert response.status_code == 401
            assert 'data-testid="login-error"' in response.text
            assert SESSION_COOKIE not in response.cookies


async def test_session_cookie_flags_and_content(dash: Dash) -> None:
    async with dash.client() as client:
        response = await client.post("/dashboard/login", data={"api_key": dash.secrets["a"]})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    header = response.headers["set-cookie"]
    assert header.startswith(f"{SESSION_COOKIE}=")
    flags = {part.strip().lower() for part in header.split(";")}
    assert {"httponly", "samesite=strict", "path=/dashboard"} <= flags
    assert "secure" not in flags  # plain http here
    assert dash.secrets["a"] not in header


async def test_cookie_is_secure_over_https(dash: Dash) -> None:
    async with dash.client("https://test") as client:
        response = await client.post("/dashboard/login", data={"api_key": dash.secrets["a"]})
    assert "secure" in {p.strip().lower() for p in response.headers["set-cookie"].split(";")}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://test"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
async def test_cross_site_login_is_refused(dash: Dash, headers: dict[str, str]) -> None:
    async with dash.client() as client:
        response = await client.post(
            "/dashboard/login", data={"api_key": dash.secrets["a"]}, headers=headers
        )
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://test"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://public.example"},
        {"Origin": "https://public.example", "X-Forwarded-Host": "public.example"},
    ],
)
async def test_same_origin_login_passes_also_behind_a_proxy(
    dash: Dash, headers: dict[str, str]
) -> None:
    async with dash.client() as client:
        response = await client.post(
            "/dashboard/login", data={"api_key": dash.secrets["a"]}, headers=headers
        )
    assert response.status_code == 303


async def test_revoked_key_is_logged_out(dash: Dash) -> None:
    async with dash.signed_in("a") as client:
        assert (await client.get("/dashboard/jobs")).status_code == 200
        await dash.keys.revoke(dash.key_ids["a"])  # clears this process's key cache
        response = await client.get("/dashboard/jobs")
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard/login"


async def test_forged_cookie_is_not_a_session(dash: Dash) -> None:
    async with dash.client() as client:
        client.cookies.set(SESSION_COOKIE, "eyJ9.AAAA", path="/dashboard")
        assert (await client.get("/dashboard")).status_code == 303


async def test_logout_needs_the_token_and_ends_the_session(dash: Dash) -> None:
    async with dash.signed_in("a") as client:
        page = await client.get("/dashboard/jobs")
        assert 'data-testid="logout"' in page.text
        refused = await client.post("/dashboard/logout", data={"csrf_token": "nope"})
        assert refused.status_code == 403
        done = await client.post("/dashboard/logout", data={"csrf_token": csrf_of(page.text)})
        assert done.status_code == 303 and done.headers["location"] == "/dashboard/login"
        assert (await client.get("/dashboard/jobs")).status_code == 303
