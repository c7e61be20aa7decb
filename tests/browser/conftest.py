"""Browser tests: playwright (from PyPI) driving Debian's Chromium against both services.

Chromium comes from `scripts/ensure-chromium.sh` (run by `make test`); playwright's own browser
download cannot work offline. The flags keep Chromium from reaching for the network at start.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


# Module scope, not session: playwright's sync API keeps an asyncio loop running in this thread
# while it is open, and every later test that calls asyncio.run() (the PostgreSQL fixtures, the
# anyio tests) would fail with "cannot be called from a running event loop".
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run scripts/ensure-chromium.sh (make test does)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 860}, locale="en-US")
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_console(message: ConsoleMessage) -> None:
        # HTTP error statuses are asserted by the tests themselves; anything else (a CSP refusal,
        # a script error) is a defect of the page.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    opened.on("console", on_console)
    yield opened
    context.close()
    assert errors == [], f"the page reported errors (CSP violations, script errors): {errors}"
