"""The dashboard in headless Chromium against a real server: logging in, finding a failed job
by its metadata and retrying it, tenants kept apart, CSRF, and a screenshot of every page."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import httpx
import pytest
from playwright.sync_api import Page, expect

from browser.pages import act, login, main, screenshot
from browser.server import PAGING_ITEMS, TENANT_A, TENANT_B, Dash, job, wait_job

pytestmark = pytest.mark.acceptance

NO_SUCH_JOB = "job_" + "0" * 26
NO_SUCH_BATCH = "bat_" + "0" * 26


def job_rows(page: Page) -> list[str]:
    rows = page.locator("tr[data-testid=job-row]")
    return [row.get_attribute("data-job-id") or "" for row in rows.all()]


def filter_jobs(page: Page, **fields: str) -> None:
    page.goto("/dashboard/jobs")
    form = page.locator("form", has=page.locator("button[data-testid=filter]"))
    for name, value in fields.items():
        control = form.locator(f"[name={name}]")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    form.locator("button[data-testid=filter]").click()
    # the unfiltered page is a page-jobs too: wait for the filtered one to have loaded
    page.wait_for_url(lambda url: all(f"{name}=" in url for name in fields))
    expect(main(page, "jobs")).to_be_visible()


def test_a_page_asks_for_a_login_and_a_bad_key_is_refused(page: Page, dash: Dash) -> None:
    page.goto("/dashboard/jobs")
    expect(page).to_have_url(re.compile(r"/dashboard/login"))
    page.fill("[data-testid=api-key]", "jlk_not-a-real-key")
    page.click("[data-testid=login]")
    expect(page.locator("[data-testid=login-error]")).to_be_visible()
    expect(main(page, "login")).to_be_visible()
    expect(main(page, "overview")).to_have_count(0)


def test_logging_in_sets_a_strict_http_only_cookie_and_logout_ends_it(
    page: Page, dash: Dash
) -> None:
    login(page, dash.admin_key)
    cookies = page.context.cookies()
    assert cookies, "no session cookie"
    for cookie in cookies:
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
        assert cookie["path"] == "/dashboard", cookie
        assert dash.admin_key not in cookie["value"], "the cookie must not hold the key"
    page.click("button[data-testid=logout]")
    expect(page).to_have_url(re.compile(r"/dashboard/login"))
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard/login"))


def test_an_admin_finds_a_failed_job_by_metadata_and_retries_it(page: Page, dash: Dash) -> None:
    login(page, dash.admin_key)
    filter_jobs(page, status="failed", metadata="customer_ref=A-17")
    wanted = dash.seeded["a_retry"]
    expect(page.locator("tr[data-testid=job-row]")).to_have_count(1)
    assert job_rows(page) == [wanted]

    page.locator(f"tr[data-job-id='{wanted}'] a[data-testid=job-link]").click()
    expect(main(page, "job")).to_be_visible()
    expect(page.locator("[data-testid=job-status]")).to_have_text("failed")
    expect(page.locator("[data-testid=action-cancel]")).to_have_count(0)  # not in `failed`
    act(page, "button[data-testid=action-retry]")

    expect(page.locator("[data-testid=flash]")).to_be_visible()
    expect(page.locator("[data-testid=job-status]")).not_to_have_text("failed")
    with dash.api(TENANT_A) as api:
        done = wait_job(api, wanted)
    assert (done["status"], done["attempt"]) == ("completed", 2)  # `flaky` passes its 2nd try
    # the open page follows it live (and reloads itself once it ends): no reload from here
    expect(page.locator("[data-testid=job-status]")).to_have_text("completed")
    expect(page.locator("button[data-testid=action-retry]")).to_have_count(0)


def test_an_admin_sees_every_tenant_and_can_filter_by_one(page: Page, dash: Dash) -> None:
    login(page, dash.admin_key)
    filter_jobs(page, metadata="team=billing")
    shown = set(job_rows(page))
    assert {dash.seeded["a_csrf"], dash.seeded["b_failed"]} <= shown
    filter_jobs(page, metadata="team=billing", tenant=TENANT_B)
    expect(page.locator("tr[data-testid=job-row]")).to_have_count(1)
    assert job_rows(page) == [dash.seeded["b_failed"]]


def test_the_jobs_list_pages_with_a_cursor_keeping_its_filter(page: Page, dash: Dash) -> None:
    batch_id = dash.seeded["a_paging_batch"]
    with dash.api(TENANT_A) as api:
        listed = api.get("/v1/jobs", params={"batch_id": batch_id, "limit": 1000}).json()
    every = [item["id"] for item in listed["data"]]
    assert len(every) == PAGING_ITEMS
    login(page, dash.keys[TENANT_A])
    filter_jobs(page, batch_id=batch_id)
    seen: list[str] = []
    for _ in range(PAGING_ITEMS):  # bounded: a cursor that loops fails below, not forever
        expect(page.locator("tr[data-testid=job-row]").first).to_be_visible()
        seen += job_rows(page)
        following = page.locator("a[data-testid=next-page]")
        if following.count() == 0:
            break
        act(page, following)  # a GET link, but the same wait for the next page
        expect(main(page, "jobs")).to_be_visible()
    assert seen == every  # newest first, each once, nothing from outside the batch


def test_a_tenants_overview_counts_only_its_own_jobs(page: Page, dash: Dash) -> None:
    """Tenant B has one failed job and a batch of three completed items (no test changes
    them); tenant A's many jobs must not show in its numbers."""
    login(page, dash.keys[TENANT_B])
    expected = {"queued": "0", "running": "0", "completed": "3", "failed": "1"}
    for status, count in expected.items():
        card = page.locator(f"[data-testid=count-{status}]")
        expect(card).to_contain_text(re.compile(rf"^\s*{count}\s*{status}", re.I))
    page.click("[data-testid=count-failed]")
    expect(main(page, "jobs")).to_be_visible()
    expect(page.locator("tr[data-testid=job-row]")).to_have_count(1)
    assert job_rows(page) == [dash.seeded["b_failed"]]


def test_a_tenant_key_sees_only_its_own_jobs(page: Page, dash: Dash) -> None:
    login(page, dash.keys[TENANT_B])
    page.click("a[data-testid=nav-jobs]")
    expect(main(page, "jobs")).to_be_visible()
    expect(page.locator(f"tr[data-job-id='{dash.seeded['b_failed']}']")).to_have_count(1)
    a_jobs = {v for k, v in dash.seeded.items() if k.startswith("a_")}
    assert not a_jobs & set(job_rows(page))
    filter_jobs(page, metadata="customer_ref=A-17")
    expect(page.locator("tr[data-testid=job-row]")).to_have_count(0)

    for path in (
        f"/dashboard/jobs/{dash.seeded['a_retry']}",
        f"/dashboard/jobs/{NO_SUCH_JOB}",
        f"/dashboard/batches/{dash.seeded['a_batch']}",
        f"/dashboard/batches/{NO_SUCH_BATCH}",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(main(page, "not-found")).to_be_visible()
        expect(page.locator("[data-testid=job-status]")).to_have_count(0)
    for admin_page in ("keys", "tenants"):
        response = page.goto(f"/dashboard/{admin_page}")
        assert response is not None and response.status == 403, admin_page
        expect(main(page, "forbidden")).to_be_visible()
        expect(main(page, admin_page)).to_have_count(0)
    page.click("a[data-testid=nav-batches]")
    expect(page.locator(f"tr[data-batch-id='{dash.seeded['b_batch']}']")).to_have_count(1)
    expect(page.locator(f"tr[data-batch-id='{dash.seeded['a_batch']}']")).to_have_count(0)


def test_an_action_without_the_csrf_token_is_refused(page: Page, dash: Dash) -> None:
    """The session cookie alone (what a forged cross-site form would carry) does nothing; the
    same request with the page's token does."""
    job_id = dash.seeded["a_csrf"]
    login(page, dash.keys[TENANT_A])
    page.goto(f"/dashboard/jobs/{job_id}")
    form = page.locator("form", has=page.locator("button[data-testid=action-retry]"))
    action = urljoin(page.url, form.get_attribute("action") or "")
    token = form.locator("input[name=csrf_token]").input_value()
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(cookies=cookies, timeout=30) as client:
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": token[::-1]}):
            refused = client.post(action, data=data)
            assert refused.status_code == 403, (data, refused.text[:300])
            assert 'data-testid="page-forbidden"' in refused.text
        with dash.api(TENANT_A) as api:
            assert job(api, job_id)["status"] == "failed"
        accepted = client.post(action, data={"csrf_token": token})
        assert accepted.status_code == 303, accepted.text[:300]
    with dash.api(TENANT_A) as api:
        assert wait_job(api, job_id)["attempt"] == 2


def test_every_page_renders_and_is_screenshotted(page: Page, dash: Dash) -> None:
    page.goto("/dashboard/login")
    expect(page.locator("[data-testid=api-key]")).to_be_visible()
    screenshot(page, "login")
    login(page, dash.admin_key)
    screenshot(page, "overview")

    page.click("a[data-testid=nav-jobs]")
    expect(page.locator("tr[data-testid=job-row]").first).to_be_visible()
    screenshot(page, "jobs")
    page.goto(f"/dashboard/jobs/{dash.seeded['a_boom']}")
    expect(page.locator("[data-testid=job-status]")).to_have_text("failed")
    expect(main(page, "job")).to_contain_text("BOOM")
    screenshot(page, "job")

    page.click("a[data-testid=nav-batches]")
    link = page.locator(f"tr[data-batch-id='{dash.seeded['a_batch']}'] a[data-testid=batch-link]")
    expect(link).to_be_visible()
    screenshot(page, "batches")
    link.click()
    expect(page.locator("[data-testid=batch-status]")).to_have_text("completed")
    expect(page.locator("[data-testid=batch-progress]")).to_have_attribute(
        "aria-valuenow", re.compile(r"^100(\.0*)?$")
    )
    expect(main(page, "batch")).to_contain_text("Ensure file is in a supported format")
    screenshot(page, "batch")

    page.click("a[data-testid=nav-keys]")
    expect(main(page, "keys")).to_be_visible()
    screenshot(page, "keys")
    page.click("a[data-testid=nav-tenants]")
    expect(main(page, "tenants")).to_be_visible()
    screenshot(page, "tenants")
    page.goto(f"/dashboard/jobs/{NO_SUCH_JOB}")
    expect(main(page, "not-found")).to_be_visible()
    screenshot(page, "not-found")


def test_an_admin_creates_a_key_sees_it_once_and_revokes_it(page: Page, dash: Dash) -> None:
    login(page, dash.admin_key)
    page.click("a[data-testid=nav-keys]")
    page.get_by_label("Tenant").fill("initech")
    page.get_by_label("Name").fill("browser-made")
    act(page, page.get_by_role("button", name="Create key"))
    secret = page.locator("[data-testid=new-key]").inner_text().strip()
    assert secret.startswith("jlk_")
    with httpx.Client(base_url=dash.url, headers={"X-API-Key": secret}, timeout=30) as api:
        assert api.get("/v1/jobs").status_code == 200

        page.reload()  # of a POST's answer: it must not post the form again (a second key)
        expect(main(page, "keys")).to_be_visible()
        expect(page.locator("[data-testid=new-key]")).to_have_count(0)
        assert secret not in page.content()
        expect(page.locator("tr", has_text="browser-made")).to_have_count(1)
        row = page.locator("tr", has_text="browser-made")
        act(page, row.get_by_role("button", name="Revoke"))
        expect(page.locator("[data-testid=flash]")).to_be_visible()
        expect(page.locator("tr", has_text="browser-made")).to_contain_text("revoked")
        assert api.get("/v1/jobs").status_code == 401
