"""Playwright driving Debian's chromium (never a downloaded browser)."""

import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("VOX_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no chromium at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
    # the test itself are still plain synchronous calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def _page(browser, *, bypass_csp: bool):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, accept_downloads=True, bypass_csp=bypass_csp
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


@pytest.fixture
def page(browser):
    # The tests' own probes (wait_for_function with a string) are evaluated as strings,
    # which the Content-Security-Policy forbids; the page's policy is tested with
    # `strict_page` (tests/browser/test_dashboards.py) instead.
    context, page = _page(browser, bypass_csp=True)
    yield page
    context.close()


@pytest.fixture
def strict_page(browser):
    """A page under the site's Content-Security-Policy, as a real browser loads it."""
    context, page = _page(browser, bypass_csp=False)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str):
        page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)

    return take


def log_in(page, base_url, username, password="pw-for-tests"):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")


def log_out(page):
    page.get_by_role("button", name="Log out").click()


def wait_until(condition, seconds=10):
    """Poll `condition` until it holds or `seconds` pass: the workbench sends answers in the
    background and moves the screen on first, so the database catches up a little later."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


def wait_for_next_panel(page, item):
    """Wait until the workbench shows an item other than `item` (a data-item id), or none."""
    page.wait_for_function(
        "id => { const p = document.querySelector('#wb-item-slot .wb-panel');"
        " return !p || p.dataset.item !== id; }",
        arg=item,
    )
