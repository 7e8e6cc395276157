"""Live pages in headless Chromium: a running job's and a running batch's progress bars move
without a reload; pausing the batch stops it, resuming starts it again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from browser.pages import act, login, main, screenshot, wait_for
from browser.server import TENANT_A, Dash, batch, submit_batch, submit_job, wait_paused

pytestmark = pytest.mark.acceptance

ITEMS = 200
ITEM_SECONDS = 0.25  # two at a time: about 25 s of work, far longer than the test needs
BAR = "[data-testid=batch-progress]"
JOB_BAR = "[data-testid=job-progress]"


@pytest.fixture
def running_batch(dash: Dash) -> Iterator[str]:
    items = [{"index": n, "seconds": ITEM_SECONDS} for n in range(ITEMS)]
    with dash.api(TENANT_A) as api:
        batch_id = submit_batch(api, "slow imports", items, max_concurrent=2)
        yield batch_id
        api.post(f"/v1/batches/{batch_id}/cancel")  # frees the worker for the next test


def bar_value(page: Page, bar: str = BAR) -> float:
    """The bar's aria-valuenow: percent done, 0-100."""
    return float(page.locator(bar).get_attribute("aria-valuenow") or "nan")


def wait_bar_above(page: Page, floor: float, bar: str = BAR) -> float:
    wait_for(page, lambda: bar_value(page, bar) > floor, f"{bar} to pass {floor}")
    return bar_value(page, bar)


def test_a_running_jobs_progress_moves_live_and_cancel_stops_it(page: Page, dash: Dash) -> None:
    with dash.api(TENANT_A) as api:
        # 60 s if left alone: the test cancels it once the bar has moved
        job_id = submit_job(api, "ticker", {"steps": 300, "step_seconds": 0.2})
    login(page, dash.keys[TENANT_A])
    page.goto(f"/dashboard/jobs/{job_id}")
    expect(page.locator("[data-testid=job-status]")).to_have_text("running")
    page.evaluate("window.__noReload = true")
    first = bar_value(page, JOB_BAR)
    second = wait_bar_above(page, first, JOB_BAR)
    wait_bar_above(page, second, JOB_BAR)
    assert page.evaluate("window.__noReload === true")

    # no flash check here: the page may already have reloaded itself for the cancelled state
    act(page, "button[data-testid=action-cancel]")
    expect(page.locator("[data-testid=job-status]")).to_have_text("cancelled")
    expect(page.locator("button[data-testid=action-cancel]")).to_have_count(0)
    expect(page.locator("button[data-testid=action-retry]")).to_be_visible()
    assert bar_value(page, JOB_BAR) < 100


def test_progress_moves_live_and_pause_resume_stop_and_start_it(
    page: Page, dash: Dash, running_batch: str
) -> None:
    login(page, dash.keys[TENANT_A])
    page.click("a[data-testid=nav-batches]")
    page.locator(f"tr[data-batch-id='{running_batch}'] a[data-testid=batch-link]").click()
    expect(main(page, "batch")).to_be_visible()
    expect(page.locator("[data-testid=batch-status]")).to_have_text("running")

    # A marker in the window survives only if the page is never reloaded.
    page.evaluate("window.__noReload = true")
    first = bar_value(page)
    second = wait_bar_above(page, first)
    third = wait_bar_above(page, second)
    assert first < second < third < 100
    screenshot(page, "batch-running")
    assert page.evaluate("window.__noReload === true")

    act(page, "button[data-testid=action-pause]")
    expect(page.locator("[data-testid=flash]")).to_be_visible()
    expect(page.locator("[data-testid=batch-status]")).to_have_text("paused")
    expect(page.locator("button[data-testid=action-resume]")).to_be_visible()
    with dash.api(TENANT_A) as api:
        # the items that were running when it paused finish; then nothing moves
        settled = wait_paused(api, running_batch)
        done = float(settled["progress"]["percentage"])
        wait_for(page, lambda: abs(bar_value(page) - done) < 1, f"the bar to show {done}")
        paused_at = bar_value(page)
        # an observation window, not a wait for something to happen: nothing may change in it
        page.wait_for_timeout(2_000)
        assert batch(api, running_batch)["progress"] == settled["progress"]
    assert bar_value(page) == paused_at

    act(page, "button[data-testid=action-resume]")
    expect(page.locator("[data-testid=flash]")).to_be_visible()
    expect(page.locator("[data-testid=batch-status]")).to_have_text("running")
    page.evaluate("window.__noReload = true")
    resumed = wait_bar_above(page, paused_at)
    wait_bar_above(page, resumed)
    assert page.evaluate("window.__noReload === true")
