"""Browser tier: the session's local runtime (the `runtime` fixture of tests/conftest.py, shared
with tests/e2e) driven through Debian's Chromium
(/usr/bin/chromium, installed by `make browser-deps`) with Playwright for Python. No browser is
downloaded; Chromium's background connections are switched off (the network is closed).
Screenshots of every step go to test-artifacts/browser/ at a phone-sized viewport."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tools.launcher import ROOT, Runtime

CHROMIUM = Path("/usr/bin/chromium")
# Playwright adds --headless and a fresh temporary profile (--user-data-dir) itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
ARTIFACTS = ROOT / "test-artifacts" / "browser"
TIMEOUT_MS = 60_000  # a wait's upper bound, never an assertion about speed
# `expect` keeps its own timeout (5 s), apart from the context's: a status that arrives by a
# provider callback, the stream's push or the page's fallback poll (10 s, then 20 s, 40 s)
# can take longer on a loaded machine.
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Chromium is missing: run `make browser-deps`"
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser, runtime: Runtime) -> Iterator[BrowserContext]:
    made = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
    )
    made.grant_permissions(["clipboard-read", "clipboard-write"], origin=runtime.api_url)
    made.set_default_timeout(TIMEOUT_MS)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


class Shots:
    """Numbered full-page screenshots for one test: test-artifacts/browser/<test>/NN-step.png."""

    def __init__(self, name: str) -> None:
        self.folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def fits_viewport(page: Page) -> None:
    """Nothing wider than the viewport (no sideways scrolling)."""
    width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"the page is {width}px wider than the viewport"


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)
