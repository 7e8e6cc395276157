"""Every page renders for the keys that may see it, shows what the services say, and keeps
tenants apart: another tenant's ids answer the same 404 page as ids that do not exist."""

from __future__ import annotations

import re

import pytest

from dashboard_ui.conftest import Dash

UNKNOWN_JOB = "job_" + "0" * 26
UNKNOWN_BATCH = "bat_" + "0" * 26


def rows(html: str, kind: str = "job") -> list[str]:
    return re.findall(rf'data-testid="{kind}-row" data-{kind}-id="([^"]+)"', html)


def page_name(html: str) -> str:
    match = re.search(r'<main data-testid="page-([a-z-]+)"', html)
    assert match, html[:500]
    return match.group(1)


async def test_every_page_renders_for_an_admin(dash: Dash) -> None:
    job = await dash.submit("a", "noop", metadata={"order": "42"})
    batch = await dash.submit_batch("a", [{"type": "noop", "input": {}}])
    pages = {
        "/dashboard": "overview",
        "/dashboard/jobs": "jobs",
        f"/dashboard/jobs/{job['id']}": "job",
        "/dashboard/batches": "batches",
        f"/dashboard/batches/{batch['id']}": "batch",
        "/dashboard/keys": "keys",
        "/dashboard/tenants": "tenants",
    }
    async with dash.signed_in("admin") as client:
        for path, name in pages.items():
            response = await client.get(path)
            assert response.status_code == 200, (path, response.text[:2000])
            assert page_name(response.text) == name
            assert "content-security-policy" in response.headers
            for nav in ("overview", "jobs", "batches", "keys", "tenants"):
                assert f'data-testid="nav-{nav}"' in response.text


async def test_job_page_shows_status_progress_error_and_actions(dash: Dash) -> None:
    job = await dash.submit("a", "fail", input={"code": "NOPE"}, max_attempts=1)
    await dash.run_worker()
    async with dash.signed_in("a") as client:
        html = (await client.get(f"/dashboard/jobs/{job['id']}")).text
    assert re.search(r'data-testid="job-status">failed<', html)
    assert 'data-testid="job-progress"' in html and 'aria-valuenow="0"' in html
    assert "NOPE" in html and "failed on purpose" in html
    assert 'data-testid="action-retry"' in html and 'data-testid="action-delete"' in html
    assert 'data-testid="action-cancel"' not in html
    assert 'data-live="/dashboard/jobs/' in html


async def test_completed_job_shows_its_result_and_full_progress(dash: Dash) -> None:
    job = await dash.submit("a", "echo", input={"value": 7})
    await dash.run_worker()
    async with dash.signed_in("a") as client:
        html = (await client.get(f"/dashboard/jobs/{job['id']}")).text
    assert re.search(r'data-testid="job-status">completed<', html)
    assert 'aria-valuenow="100"' in html
    assert "&#34;value&#34;: 7" in html or '"value": 7' in html
    assert 'data-testid="action-retry"' not in html


async def test_tenant_sees_only_its_own_jobs_and_batches(dash: Dash) -> None:
    mine = await dash.submit("a", "noop")
    theirs = await dash.submit("b", "noop")
    their_batch = await dash.submit_batch("b", [{"type": "noop", "input": {}}])
    async with dash.signed_in("a") as client:
        listed = rows((await client.get("/dashboard/jobs")).text)
        assert mine["id"] in listed and theirs["id"] not in listed
        # asking for another tenant changes nothing for a tenant key
        listed = rows((await client.get("/dashboard/jobs?tenant=tenant-b")).text)
        assert theirs["id"] not in listed
        assert their_batch["id"] not in rows((await client.get("/dashboard/batches")).text, "batch")
        for other, unknown in (
            (f"/dashboard/jobs/{theirs['id']}", f"/dashboard/jobs/{UNKNOWN_JOB}"),
            (f"/dashboard/batches/{their_batch['id']}", f"/dashboard/batches/{UNKNOWN_BATCH}"),
        ):
            a, b = await client.get(other), await client.get(unknown)
            assert a.status_code == b.status_code == 404
            assert page_name(a.text) == page_name(b.text) == "not-found"
        garbage = await client.get("/dashboard/jobs/not-an-id")
        assert garbage.status_code == 404 and page_name(garbage.text) == "not-found"


async def test_admin_sees_every_tenant_and_can_narrow_to_one(dash: Dash) -> None:
    a_job = await dash.submit("a", "noop")
    b_job = await dash.submit("b", "noop")
    async with dash.signed_in("admin") as client:
        listed = rows((await client.get("/dashboard/jobs")).text)
        assert {a_job["id"], b_job["id"]} <= set(listed)
        only_b = rows((await client.get("/dashboard/jobs?tenant=tenant-b")).text)
        assert only_b == [b_job["id"]]
        page = await client.get(f"/dashboard/jobs/{a_job['id']}")
        assert page.status_code == 200


@pytest.mark.parametrize("path", ["/dashboard/keys", "/dashboard/tenants"])
async def test_admin_pages_are_forbidden_to_tenant_keys(dash: Dash, path: str) -> None:
    async with dash.signed_in("a") as client:
        response = await client.get(path)
        assert response.status_code == 403
        assert page_name(response.text) == "forbidden"
        assert 'data-testid="nav-keys"' not in response.text


async def test_jobs_filters_and_cursor_paging(dash: Dash) -> None:
    wanted = [await dash.submit("a", "noop", metadata={"order": "o-1"}) for _ in range(3)]
    await dash.submit("a", "noop", metadata={"order": "o-2"})
    await dash.submit("a", "echo", metadata={"order": "o-1"})
    async with dash.signed_in("a") as client:
        html = (await client.get("/dashboard/jobs?metadata=order%3Do-1&type=noop")).text
        assert rows(html) == [job["id"] for job in reversed(wanted)]
        assert 'data-testid="next-page"' not in html
        assert rows((await client.get("/dashboard/jobs?status=completed")).text) == []
        bad = await client.get("/dashboard/jobs?metadata=nokey&created_after=yesterday")
        assert bad.status_code == 200 and 'data-testid="filter-errors"' in bad.text


async def test_next_page_link_walks_the_list(dash: Dash) -> None:
    from joblane.dashboard import filters

    made = [await dash.submit("a", "noop") for _ in range(5)]
    old = filters.PAGE_SIZE
    filters.PAGE_SIZE = 2
    try:
        seen: list[str] = []
        async with dash.signed_in("a") as client:
            url: str | None = "/dashboard/jobs?type=noop"
            while url:
                html = (await client.get(url)).text
                seen += rows(html)
                match = re.search(r'data-testid="next-page" href="([^"]+)"', html)
                url = match.group(1).replace("&amp;", "&") if match else None
        assert seen == [job["id"] for job in reversed(made)]
    finally:
        filters.PAGE_SIZE = old


async def test_time_range_filter(dash: Dash) -> None:
    job = await dash.submit("a", "noop")
    created = job["created_at"][:19]  # datetime-local, UTC
    async with dash.signed_in("a") as client:
        before = rows((await client.get(f"/dashboard/jobs?created_before={created}")).text)
        after = rows((await client.get(f"/dashboard/jobs?created_after={created}")).text)
    assert job["id"] in after and job["id"] not in before


async def test_batch_page_shows_progress_errors_and_items(dash: Dash) -> None:
    items = [
        {"type": "batch_item", "input": {"index": 0}},
        {"type": "batch_item", "input": {"index": 1, "fail": "LOOKUP_FAILED"}},
    ]
    batch = await dash.submit_batch("a", items, name="nightly")
    await dash.run_worker()
    async with dash.signed_in("a") as client:
        html = (await client.get(f"/dashboard/batches/{batch['id']}")).text
    assert re.search(r'data-testid="batch-status">completed<', html)  # not every item failed
    assert 'data-testid="batch-progress"' in html and 'aria-valuenow="100"' in html
    assert "LOOKUP_FAILED" in html and "Check that the record exists upstream" in html
    assert len(rows(html)) == 2
    assert 'data-testid="action-pause"' not in html  # over: only retry-failed is left
    assert 'data-testid="action-retry-failed"' in html


async def test_overview_counts_and_charts(dash: Dash) -> None:
    await dash.submit("a", "noop")
    await dash.submit("a", "fail", max_attempts=1)
    await dash.submit("b", "noop")
    await dash.run_worker()
    async with dash.signed_in("a") as client:
        html = (await client.get("/dashboard")).text
    assert html.count("<svg") == 2
    completed = re.search(r'data-testid="count-completed">\s*<span class="n">([\d,]+)<', html)
    failed = re.search(r'data-testid="count-failed">\s*<span class="n">([\d,]+)<', html)
    assert completed and completed.group(1) == "1"  # tenant-b's job is not counted
    assert failed and failed.group(1) == "1"
    assert 'data-testid="workers"' not in html  # admin only
    async with dash.signed_in("admin") as client:
        html = (await client.get("/dashboard")).text
    assert 'data-testid="workers"' in html


async def test_job_page_shows_the_handlers_log_lines(dash: Dash) -> None:
    from joblane.core.joblog import LogBatch, LogLine

    job = await dash.submit("a", "fail", max_attempts=1)
    await dash.run_worker()
    now = dash.storage.now()
    lines = (
        LogLine(job["id"], 1, 3, now, "INFO", "tests.handler", "looking up <order> 42"),
        LogLine(job["id"], 1, 4, now, "ERROR", "tests.handler", "gave up"),
    )
    await dash.storage.job_logs_write([LogBatch(job["id"], 1, 3, lines)])
    async with dash.signed_in("a") as client:
        html = (await client.get(f"/dashboard/jobs/{job['id']}")).text
    assert "looking up &lt;order&gt; 42" in html and "gave up" in html
    assert "2 earlier lines of attempt 1 were not kept" in html


async def test_job_page_shows_its_webhook_deliveries(dash: Dash) -> None:
    url = "https://hooks.example.com/joblane"
    job = await dash.submit("a", "noop", callback_url=url)
    quiet = await dash.submit("a", "noop")
    await dash.run_worker()
    async with dash.signed_in("a") as client:
        html = (await client.get(f"/dashboard/jobs/{job['id']}")).text
        none = (await client.get(f"/dashboard/jobs/{quiet['id']}")).text
    assert html.count('data-testid="delivery-row"') == 1
    assert "job.completed" in html and url in html and ">pending<" in html
    assert 'data-testid="delivery-row"' not in none and "No webhook deliveries" in none


async def test_static_files_and_the_trailing_slash(dash: Dash) -> None:
    async with dash.signed_in("a") as client:
        css = await client.get("/dashboard/static/dashboard.css")
        js = await client.get("/dashboard/static/live.js")
        slash = await client.get("/dashboard/", follow_redirects=True)
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert js.status_code == 200 and "EventSource" in js.text
    assert slash.status_code == 200 and page_name(slash.text) == "overview"
