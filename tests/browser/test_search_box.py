"""Search in a real browser: the box on every page finds a person by the Chinese form of his name, and the
canned-query forms suggest IRIs of the parameter's class as one types."""

from __future__ import annotations

from typing import Any


def test_the_box_finds_the_chinese_form_and_the_form_suggests(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/stats")
    page.fill("#site-search-q", "宋日昊")
    page.press("#site-search-q", "Enter")
    page.wait_for_selector(".search-results")
    assert page.inner_text(".search-results li:first-child .search-title a") == "Song Il-ho"
    page.goto(live_server.url + "/queries/contacts-timeline")
    page.fill("input[name=participant]", "song")
    options = "#suggest-contacts-timeline-participant option"
    page.wait_for_function(f"document.querySelectorAll('{options}').length > 0", timeout=10_000)
    assert page.get_attribute(options, "value") == "djr:song-il-ho"
    assert page.get_attribute(options, "label") == "Song Il-ho (person)"
