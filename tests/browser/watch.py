"""What the editor and view tests share: a page whose every request is watched (any request to a host other than
127.0.0.1 is refused and recorded) and whose console errors are kept, and the Chromium it runs in."""

from __future__ import annotations

import os
import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: Screenshots go where the page tests put theirs (tests/browser/conftest.py): $DPRK_KG_ARTIFACTS or tests/artifacts/.
ARTIFACTS = Path(os.environ.get("DPRK_KG_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts")
ARTIFACTS = ARTIFACTS / "screenshots"


@pytest.fixture(scope="module")
def chromium_browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The session's Chromium of tests/browser/conftest.py (``browser``) where it is there; else Debian's Chromium
    driven by Playwright here (never a downloaded browser). Where either is missing the test skips, or fails where
    the browser is required (``DPRK_KG_REQUIRE_SHARED=1``, as in CI), as conftest.py's fixture does."""
    from tests.browser.conftest import missing_browser, skip_or_fail

    try:
        shared = request.getfixturevalue("browser")
    except pytest.FixtureLookupError:
        shared = None
    if shared is not None:
        yield shared
        return
    problem = missing_browser()
    if problem:
        skip_or_fail(problem)
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


class Watched:
    """A page whose requests and console errors are recorded; any request to another host is refused."""

    def __init__(self, browser: Any, base: str, **context_options: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, **context_options)
        self.page = self.context.new_page()
        self.base = base
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        self.page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        self.requests.append(url)
        host = urllib.parse.urlsplit(url).hostname
        if url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def editor_value(self) -> str:
        return self.page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")

    def set_editor(self, text: str) -> None:
        self.page.evaluate("text => document.querySelector('.CodeMirror').CodeMirror.setValue(text)", text)

    def wait_for_rows(self) -> str:
        self.page.wait_for_selector("#status:has-text('rows')", timeout=30_000)
        return self.page.inner_text("#status")

    def table(self) -> list[str]:
        self.page.wait_for_selector("#yasr table.dataTable tbody tr", timeout=30_000)
        return self.page.locator("#yasr table.dataTable tbody tr").all_inner_texts()

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(chromium_browser: Any, live_server: Any) -> Iterator[Watched]:
    """A watched page on the session's live server; after the test, no request may have left 127.0.0.1."""
    page = Watched(chromium_browser, live_server.url)
    yield page
    page.close()
    assert page.outside == [], f"requests left 127.0.0.1: {page.outside}"
