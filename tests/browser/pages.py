"""Steps shared by the browser tests: log in, screenshots, the contract's selectors."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
# Generous: a loaded 2-core machine shared with other test runs (lower it to debug faster).
TIMEOUT_MS = int(os.environ.get("JOBLANE_BROWSER_TIMEOUT_MS", "30000"))


def main(page: Page, name: str) -> Locator:
    return page.locator(f"main[data-testid=page-{name}]")


def login(page: Page, key: str) -> None:
    page.goto("/dashboard/login")
    page.fill("input[name=api_key][data-testid=api-key]", key)
    page.click("button[data-testid=login]")
    expect(page.locator("main[data-testid=page-overview]")).to_be_visible()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def wait_for(page: Page, condition: Callable[[], bool], what: str) -> None:
    """Polls `condition` (letting the page run its scripts between checks) until it holds.
    For page state that needs Python to judge; a page's CSP forbids Playwright's string
    predicates (`wait_for_function` evaluates them)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(100)


def act(page: Page, button: str | Locator) -> None:
    """Presses a POST form's button (or a link) and waits for the page it leads to: the page
    before (say the same batch page, its flash and live status) can look like the answer."""
    with page.expect_navigation():
        (page.locator(button) if isinstance(button, str) else button).click()
