"""Browser fixtures: Debian's chromium driven by Playwright (never `playwright install`), one
real server per module, a fresh browser context per test that may talk only to 127.0.0.1."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    Route,
    expect,
    sync_playwright,
)

from browser.pages import TIMEOUT_MS
from browser.server import Dash, dashboard_server
from conftest import BACKENDS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL = re.compile(r"^(https?|wss?)://127\.0\.0\.1(:\d+)?/")

expect.set_options(timeout=TIMEOUT_MS)


# Every backend the suite has (PostgreSQL whenever reachable, required under CI): the pages run
# each backend's own SQL (metadata filters, the overview) and live updates ride its change feed.
# It costs ~35 s more (measured on a loaded 2-core machine: 29-38 s SQLite alone, 60-90 s both).
# JOBLANE_BROWSER_BACKENDS=sqlite narrows it while working on the dashboard.
BROWSER_BACKENDS = [
    name
    for name in os.environ.get("JOBLANE_BROWSER_BACKENDS", ",".join(BACKENDS)).split(",")
    if name in BACKENDS
]


@pytest.fixture(scope="module", params=BROWSER_BACKENDS)
def dash(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dash]:
    workdir = tmp_path_factory.mktemp(f"browser-{request.param}")
    with dashboard_server(request.param, workdir) as server:
        yield server


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"CI=true but {CHROMIUM} is missing (scripts/bootstrap installs it)")
        pytest.skip(f"{CHROMIUM} is missing: scripts/bootstrap installs it")
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, dash: Dash) -> Iterator[Page]:
    """A fresh context (no cookies); a request anywhere but the test server is aborted and
    fails the test, as does a script error, a server error or a failed static asset."""
    context = browser.new_context(base_url=dash.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []

    def outside(url: str) -> bool:
        return not (LOCAL.match(url) or url.startswith(("data:", "blob:")))

    def refuse(route: Route) -> None:
        problems.append(f"request outside 127.0.0.1: {route.request.url}")
        route.abort()

    # only requests elsewhere are intercepted: the server's own (SSE streams too) go untouched
    context.route(outside, refuse)
    tab = context.new_page()
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on("console", lambda message: console_error(message, problems))
    tab.on("response", lambda response: failed_response(response, problems))
    yield tab
    context.close()
    assert not problems, problems


def console_error(message: ConsoleMessage, problems: list[str]) -> None:
    """Errors the browser reports (say a style or script the page's CSP refuses) are the
    dashboard's bugs. Failed loads are not judged here: the tests ask for 403 and 404 pages on
    purpose, and a failed static asset is caught by its response."""
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(f"console error: {message.text} at {message.location.get('url')}")


def failed_response(response: Response, problems: list[str]) -> None:
    """A server error anywhere, or a static asset that does not load."""
    if response.status >= 500 or ("/static/" in response.url and response.status >= 400):
        problems.append(f"{response.status} for {response.request.method} {response.url}")
