"""Fixtures of the browser journeys: Chromium through Playwright, the live portal, the Hub it publishes to.

Pages are looked at as a person sees them; the fixtures never reach into views. Screenshots go to
var/screenshots/ (git-ignored) for a human to look at; nothing here compares pixels.
"""

import os
from pathlib import Path

import pytest

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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
ORG = "dataset-portal"


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium shared by every browser test of the run."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package 'chromium'); the browser journeys need it")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; Django would then refuse the
    # tests' own database queries as "async unsafe" although they are plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def portal(live_server, settings):
    """The portal's address; e-mailed links point at it so that a test can follow them as they are."""
    settings.PORTAL_BASE_URL = live_server.url
    return live_server.url


@pytest.fixture
def open_browser(chromium):
    """Return a function that opens a fresh browser (own cookies) and returns its first tab."""
    contexts = []

    def open_page():
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page, name):
    """Save a full-page screenshot of the tab as var/screenshots/<name>.png for a human to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
