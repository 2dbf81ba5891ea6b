"""axe-core, run inside each main page in Chromium, finds no serious or critical accessibility violation; each page's
screenshot is written as a test artifact (``$DPRK_KG_ARTIFACTS`` or ``tests/artifacts/``, never committed).

axe-core is the copy bundled in the PyPI package ``axe-playwright-python`` (its ``axe.min.js``, MPL-2.0, version
pinned by the package's version in the test extras), injected into the page by ``page.evaluate`` — nothing is
fetched from a CDN. Moderate and minor findings are printed, not failed: they are worth reading, not blocking.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

#: The main pages (issue 14, item 8), by the name their screenshot takes.
MAIN_PAGES = {
    "home": "/",
    "queries": "/queries",
    "canned-query": "/queries/about-entity?entity=djr:chongryon",
    "validate": "/validate",
    "api": "/api",
    "entity": "/id/song-il-ho",
    "document": "/id/doc-001",
    "browse": "/browse",
    "class": "/browse/Person",
    "class-filtered": "/browse/Event?year=2012",
    "ontology": "/ontology",
    "search": "/search?q=%E5%AE%8B%E6%97%A5%E6%98%8A",  # 宋日昊
    "not-found": "/id/no-such-resource",
}
BLOCKING = {"serious", "critical"}
#: Pages checked again on a phone's screen, where code blocks and tables scroll sideways.
PHONE_PAGES = ["home", "validate", "api", "entity", "class"]
PHONE = {"width": 390, "height": 844}


def report(violations: list[dict]) -> str:
    """One line per violation and a few of its elements: enough to find it in the template."""
    lines = []
    for violation in violations:
        targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:4])
        lines.append(f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])}×): {violation['help']} — "
                     f"{targets}")
    return "\n".join(lines)


def check(page: Any, url: str, name: str, artifacts: Path, status: int) -> None:
    """Open ``url``, keep its screenshot as ``name``.png, and fail on a serious or critical axe finding."""
    answer = page.goto(url)
    assert answer is not None
    assert answer.status == status
    assert re.search(r"\S", page.title()), "every page has a title"
    page.screenshot(path=str(artifacts / f"{name}.png"))
    from axe_playwright_python.sync_playwright import Axe  # present: the browser fixture checked

    results = Axe().run(page).response
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    others = [v for v in results["violations"] if v["impact"] not in BLOCKING]
    if others:
        print(f"\n{name}: {report(others)}")
    assert not blocking, f"{url}:\n{report(blocking)}"


@pytest.mark.parametrize("name", list(MAIN_PAGES))
def test_a_main_page_has_no_serious_accessibility_violation(page, live_server, artifacts: Path, name: str):
    check(page, live_server.url + MAIN_PAGES[name], name, artifacts, 404 if name == "not-found" else 200)


@pytest.mark.parametrize("name", PHONE_PAGES)
def test_on_a_phone_too(browser, live_server, artifacts: Path, name: str):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        check(context.new_page(), live_server.url + MAIN_PAGES[name], f"phone-{name}", artifacts, 200)
    finally:
        context.close()
