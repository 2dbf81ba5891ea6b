"""The pages in a real browser: Playwright for Python driving the system's Chromium against a live server.

Playwright never downloads a browser here: it is pointed at Debian's ``chromium`` (``.ci/run`` installs it when
missing) through ``executable_path``. One browser serves the whole session; each test gets a fresh context and
page, so cookies, storage and JavaScript settings never leak from one test to the next.

Where Playwright or Chromium is missing the tests skip, naming what is missing; where the shared material is
required (``DPRK_KG_REQUIRE_SHARED=1``, as in CI) a missing browser fails instead, so CI never passes by skipping
the browser. Screenshots go to ``$DPRK_KG_ARTIFACTS`` or ``tests/artifacts/`` (git-ignored, never committed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.shared_helpers import REQUIRE_VARIABLE, shared_required

#: Where screenshots are written (a CI run may point it at a folder it keeps).
ARTIFACTS_VARIABLE = "DPRK_KG_ARTIFACTS"
ARTIFACTS_DEFAULT = Path(__file__).resolve().parents[1] / "artifacts"
#: The window the pages are checked at: a laptop screen.
VIEWPORT = {"width": 1280, "height": 800}


def chromium_executable() -> str | None:
    """The system's Chromium (Debian names it ``chromium``, Ubuntu ``chromium-browser``)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    try:
        import axe_playwright_python  # noqa: F401
    except ImportError:
        return "axe-playwright-python (axe-core for Playwright) is not installed (pip install -e '.[test]')"
    if chromium_executable() is None:
        return "no Chromium on this machine (Debian: apt-get install chromium; .ci/run installs it)"
    return None


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``; where the browser is required (CI), fail with it."""
    if shared_required():
        pytest.fail(f"{reason} — and {REQUIRE_VARIABLE} is set, so the browser tests must run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium, one per session (started in about a second, shared by every browser test)."""
    problem = missing_browser()
    if problem:
        skip_or_fail(problem)
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # Chromium refuses root
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_executable(), args=args)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context (JavaScript on) for one test."""
    ctx = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    """A page of :func:`context`; a failed navigation or a slow page fails within 30 s, not at the suite's end."""
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    return tab


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The folder screenshots are written to."""
    folder = Path(os.environ.get(ARTIFACTS_VARIABLE) or ARTIFACTS_DEFAULT) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
