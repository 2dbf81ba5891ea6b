"""What a person sees in Chromium (issue 14, item 8): entity and document pages show the names in every script the
texts give and, for every fact, the documents that state it; the search box finds people by their Korean and
Chinese forms; the pages render whole with JavaScript turned off."""

from __future__ import annotations

import re
from typing import Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips each test, naming what is missing (and fails in CI)
    expect = None

SONG = "/id/song-il-ho"
ZHANG_ARTICLE = "Forecasting Breakthrough in DPRK-Japan Relations: Zhang Liangui"  # doc-000's title


def sources(locator: Any) -> list[str]:
    """The document badges inside ``locator``, as their text (``doc-000`` …)."""
    return [text.strip() for text in locator.locator(".sources a.badge").all_inner_texts()]


def fact(scope: Any, name: str) -> Any:
    """The ``<dd>`` holding the values of the property labelled ``name`` in a facts list inside ``scope``."""
    return scope.locator("dt", has_text=re.compile(f"^{re.escape(name)}$")).locator("xpath=following-sibling::dd[1]")


def test_an_entity_page_shows_its_names_facts_and_the_documents_stating_them(page, live_server):
    answer = page.goto(live_server.url + SONG)
    assert answer is not None and answer.status == 200
    expect(page).to_have_title(re.compile(r"^Song Il-ho\b"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Song Il-ho")
    # the Chinese form doc-000 gives, marked as Chinese for screen readers and fonts, with doc-000's badge
    chinese = page.locator(".scripts .script").filter(has=page.locator('[lang="zh"]'))
    expect(chinese.locator('[lang="zh"]')).to_have_text("宋日昊")
    assert sources(chinese) == ["doc-000"]
    # a fact, its value by name (not an IRI), and the two documents that state it
    nationality = fact(page.locator("dl.facts").first, "nationality")
    expect(nationality.get_by_role("link", name="North Korea", exact=True)).to_have_attribute("href", "/id/north-korea")
    assert sources(nationality) == ["doc-000", "doc-001"]
    # a badge names its document in its tooltip and leads to the document's page
    badge = nationality.locator(".sources a.badge", has_text="doc-000")
    expect(badge).to_have_attribute("title", ZHANG_ARTICLE)
    badge.click()
    page.wait_for_url(re.compile(r"/id/doc-000$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(ZHANG_ARTICLE)


def test_an_entity_page_shows_the_korean_form_the_text_gives(page, live_server):
    page.goto(live_server.url + "/id/andrei-lankov")
    expect(page.get_by_role("heading", level=1)).to_have_text("Andrei Lankov")
    korean = page.locator(".scripts .script").filter(has=page.locator('[lang="ko"]'))
    expect(korean.locator(".lang-name")).to_have_text("Korean")
    expect(korean.locator('[lang="ko"]')).to_have_text("란코프")
    assert sources(korean) == ["doc-002"]
    expect(page.locator(".types")).to_contain_text("person")


def test_a_document_page_shows_its_record_and_every_fact_it_states_by_subject(page, live_server):
    page.goto(live_server.url + "/id/doc-001")
    expect(page.get_by_role("heading", level=1)).to_have_text("Breakthrough on horizon for Japan-NK ties")
    record = page.locator("section[aria-labelledby=s-record]")
    expect(record.get_by_role("link", name="Zhang Liangui", exact=True).first).to_be_visible()
    expect(record.get_by_role("link", name="Global Times", exact=True).first).to_be_visible()
    expect(record).to_contain_text("22 January 2013")  # the date as people read it, not 2013-01-22T22:53:00
    # the facts it states, grouped by subject: Song Il-ho's section names his nationality by its label
    song = page.locator("section.subject#r-song-il-ho")
    expect(song.get_by_role("heading", level=3)).to_contain_text("Song Il-ho")
    nationality = fact(song, "nationality")
    expect(nationality.get_by_role("link", name="North Korea", exact=True)).to_be_visible()
    # the table of contents links every subject section on the page
    toc = page.locator("nav.toc a")
    assert toc.count() == page.locator("section.subject").count() > 50
    song_link = page.locator("nav.toc").get_by_role("link", name="Song Il-ho", exact=True)
    expect(song_link).to_have_attribute("href", "#r-song-il-ho")
    # and its passages quote the text
    expect(page.locator("section.footnotes q").first).to_be_visible()


@pytest.mark.parametrize("typed", ["宋日昊", "Song Ilho", "song il ho"])
def test_the_search_box_finds_a_person_by_any_of_his_forms(page, live_server, typed):
    page.goto(live_server.url + "/")
    box = page.get_by_role("searchbox", name=re.compile("Search"))
    box.fill(typed)
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    first = page.locator("ol.search-results > li").first
    expect(first.get_by_role("link", name="Song Il-ho", exact=True)).to_have_attribute("href", SONG)
    expect(first.locator(".search-meta")).to_contain_text("person")
    first.get_by_role("link", name="Song Il-ho", exact=True).click()
    page.wait_for_url(re.compile(re.escape(SONG) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Song Il-ho")


def test_the_search_box_finds_a_person_by_the_korean_form(page, live_server):
    page.goto(live_server.url + "/browse")
    page.get_by_role("searchbox", name=re.compile("Search")).fill("란코프")
    page.get_by_role("search", name="Site search").get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/search\?q="))
    results = page.locator("ol.search-results > li")
    expect(results).to_have_count(1)
    expect(results.get_by_role("link", name="Andrei Lankov", exact=True)).to_have_attribute("href", "/id/andrei-lankov")
    expect(results.locator('[lang="ko"]')).to_contain_text("란코프")  # what matched, shown in its script


def test_the_search_page_says_when_nothing_matches(page, live_server):
    page.goto(live_server.url + "/search?q=zzzqqq")
    expect(page.locator(".search-summary")).to_contain_text("zzzqqq")
    expect(page.locator("ol.search-results > li")).to_have_count(0)


@pytest.fixture
def no_script(browser: Any) -> Any:
    """A page whose context runs no JavaScript at all."""
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 800})
    yield ctx.new_page()
    ctx.close()


def test_the_home_page_works_without_javascript(no_script, live_server):
    no_script.goto(live_server.url + "/")
    expect(no_script.get_by_role("heading", level=1)).to_contain_text("North Korea–Japan relations")
    expect(no_script.locator(".cards .card").first).to_be_visible()  # the figures, rendered on the server
    expect(no_script.get_by_role("link", name="about-entity", exact=True)).to_be_visible()
    # the query form sends its query to the endpoint by itself: the answer is a page of labelled rows
    no_script.locator("textarea#query").fill(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        "SELECT ?label WHERE { <https://w3id.org/dprk-japan-kg/id/song-il-ho> rdfs:label ?label }")
    no_script.get_by_role("button", name="Run query").click()
    no_script.wait_for_url(re.compile(r"/sparql\?"))
    expect(no_script.locator("table")).to_contain_text("宋日昊")
    # and so does the search box
    no_script.goto(no_script.url.split("/sparql")[0] + "/")
    no_script.get_by_role("searchbox", name=re.compile("Search")).fill("宋日昊")
    no_script.get_by_role("searchbox", name=re.compile("Search")).press("Enter")
    no_script.wait_for_url(re.compile(r"/search\?q="))
    expect(no_script.get_by_role("link", name="Song Il-ho", exact=True).first).to_be_visible()


def test_an_entity_page_works_without_javascript(no_script, live_server):
    no_script.goto(live_server.url + SONG)
    expect(no_script.get_by_role("heading", level=1)).to_have_text("Song Il-ho")
    expect(no_script.locator('.scripts [lang="zh"]')).to_have_text("宋日昊")
    expect(fact(no_script.locator("dl.facts").first, "nationality")).to_contain_text("North Korea")
    expect(no_script.locator("section.footnotes q").first).to_be_visible()
