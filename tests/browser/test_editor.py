"""The query page's editor in a real Chromium (Debian's, through Playwright): a run puts the query in the URL and
that URL reproduces the answer; a syntax error is marked at the line and column the endpoint reports; Escape then
Tab leaves the editor and the keyboard reaches Run and the results; completion offers our classes from this service;
no request leaves 127.0.0.1; without JavaScript the page is a form. Screenshots go to tests/artifacts/screenshots/
(git-ignored; $DPRK_KG_ARTIFACTS elsewhere).
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.browser import watch
from tests.browser.watch import Watched

chromium_browser = watch.chromium_browser  # the fixtures, shared with test_views.py
watched = watch.watched

#: The store reports this one at line 4, column 2 (the second brace).
BAD_QUERY = "PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>\nSELECT * WHERE {\n  ?s ?p \n}} "
ROUNDS_QUERY = ("PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>\n"
                "SELECT ?round WHERE { ?round a dj:NegotiationRound } ORDER BY ?round\n")



def _focused(page: Any) -> str:
    """A short description of the focused element: its id, or 'editor' inside the CodeMirror, or its tag."""
    return page.evaluate("""() => {
        const el = document.activeElement;
        if (el.closest('.CodeMirror') && el.tagName === 'TEXTAREA') return 'editor';
        if (el.classList.contains('yasqe_share')) return 'share';
        if (el.closest('#yasr')) return 'results:' + (el.textContent || el.tagName).trim().slice(0, 30);
        return el.id || el.tagName.toLowerCase();
    }""")


def test_a_run_puts_the_query_in_the_url_and_the_url_reproduces_the_answer(watched: Watched,
                                                                             chromium_browser: Any) -> None:
    page = watched.page
    page.goto(watched.base + "/query")
    page.wait_for_selector(".CodeMirror")
    watched.set_editor(ROUNDS_QUERY)
    page.click("#run")
    status = watched.wait_for_rows()
    rows = watched.table()
    expected = json.load(urllib.request.urlopen(urllib.request.Request(
        watched.base + "/sparql?" + urllib.parse.urlencode({"query": ROUNDS_QUERY}),
        headers={"Accept": "application/sparql-results+json"}), timeout=60))["results"]["bindings"]
    assert status.startswith(f"{len(expected)} rows") and len(expected) > 3
    assert len(rows) == len(expected)
    assert "djr:" in rows[0], "IRIs shown with our prefixes"
    link = page.locator("#yasr table.dataTable tbody tr a.iri").first.get_attribute("href")
    assert link.startswith("/id/"), "our IRIs link to their pages on this service"
    shared = page.url
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(shared).query)["query"] == [ROUNDS_QUERY]
    watched.screenshot("editor-run")

    again = Watched(chromium_browser, watched.base)
    try:
        again.page.goto(shared)
        again.wait_for_rows()
        assert again.editor_value() == ROUNDS_QUERY
        assert again.table() == rows, "the shared URL reproduces the answer"
        assert again.outside == []
    finally:
        again.close()
    page.go_back()
    page.wait_for_url("**/query")
    assert page.locator("#history option").count() >= 2, "the run is in the history"
    assert watched.console_errors == [], "no CSP or script errors"


def test_the_home_pages_query_box_opens_the_query_page_which_runs_it(watched: Watched) -> None:
    """/ has no editor of its own: its box is a form to /query, where the editor holds the query and runs it."""
    page = watched.page
    page.goto(watched.base + "/")
    assert page.locator(".CodeMirror").count() == 0 and page.locator("script").count() == 0
    page.locator("textarea#query").fill(ROUNDS_QUERY)
    page.get_by_role("button", name="Open in the query page").click()
    page.wait_for_url("**/query?query=*")
    assert watched.wait_for_rows().startswith(tuple(f"{n} rows" for n in range(4, 100)))
    assert watched.editor_value() == ROUNDS_QUERY
    sent = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["query"]
    assert [text.replace("\r\n", "\n") for text in sent] == [ROUNDS_QUERY]  # a form sends its lines as CRLF
    assert watched.console_errors == []


def test_a_syntax_error_is_marked_at_the_line_and_column_the_endpoint_reports(watched: Watched) -> None:
    request = urllib.request.Request(watched.base + "/sparql", data=urllib.parse.urlencode(
        {"query": BAD_QUERY}).encode(), headers={"Accept": "application/sparql-results+json, application/json;q=0.5"})
    with pytest.raises(urllib.error.HTTPError) as failure:
        urllib.request.urlopen(request, timeout=60)
    problem = json.loads(failure.value.read())
    assert failure.value.code == 400 and (problem["line"], problem["column"]) == (4, 2), problem
    page = watched.page
    page.goto(watched.base + "/query")
    page.wait_for_selector(".CodeMirror")
    watched.set_editor(BAD_QUERY)
    page.click("#run")
    page.wait_for_selector(".server-error-line", timeout=30_000)
    marked_line = page.evaluate("document.querySelector('.server-error-line').parentElement"
                                ".querySelector('.CodeMirror-linenumber').textContent")
    assert marked_line == "4"
    assert page.inner_text(".server-error") == "}", "the character at column 2 (the second brace) is marked"
    assert "line 4, column 2" in page.inner_text("#status")
    watched.screenshot("editor-syntax-error")
    page.click("#goto-error")
    cursor = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getCursor()")
    assert (cursor["line"], cursor["ch"]) == (3, 1), "the button puts the cursor at the error"
    watched.set_editor(ROUNDS_QUERY)
    assert page.locator(".server-error-line").count() == 0, "an edit clears the mark"


def test_escape_then_tab_leaves_the_editor_and_the_keyboard_reaches_run_and_the_results(watched: Watched) -> None:
    page = watched.page
    page.goto(watched.base + "/query")
    page.wait_for_selector(".CodeMirror")
    assert "Escape" in page.inner_text("#keyboard-help") and "Tab" in page.inner_text("#keyboard-help")
    page.click(".CodeMirror-line >> nth=0")
    before = watched.editor_value()
    page.keyboard.press("Tab")
    assert _focused(page) == "editor" and watched.editor_value() != before, "Tab indents inside the editor"
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    reached = [_focused(page)]
    assert reached[0] == "share", "Escape then Tab leaves the text for the next control (the editor's Share)"
    for _ in range(10):
        if reached[-1] == "run":
            break
        page.keyboard.press("Tab")
        reached.append(_focused(page))
    assert reached[-1] == "run", f"Run reached by Tab: {reached}"
    page.keyboard.press("Enter")
    watched.wait_for_rows()
    for _ in range(15):
        page.keyboard.press("Tab")
        reached.append(_focused(page))
        if reached[-1].startswith("results:"):
            break
    assert reached[-1].startswith("results:"), f"the results' controls are reached: {reached}"
    page.keyboard.press("Shift+Tab")
    for _ in range(20):
        if _focused(page) == "editor":
            break
        page.keyboard.press("Shift+Tab")
    assert _focused(page) == "editor", "Shift+Tab goes back into the editor"
    watched.screenshot("editor-keyboard")


def test_completion_offers_our_classes_from_this_service_and_nothing_leaves_127_0_0_1(watched: Watched) -> None:
    page = watched.page
    page.goto(watched.base + "/query")
    page.wait_for_selector(".CodeMirror")
    watched.set_editor("PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>\nSELECT * WHERE { ?x a dj:Negot\n}")
    page.evaluate("""() => { const cm = document.querySelector('.CodeMirror').CodeMirror;
                           cm.focus(); cm.setCursor({line: 1, ch: 1000}); }""")
    page.keyboard.press("Control+Space")
    page.wait_for_selector(".CodeMirror-hints li", timeout=15_000)
    hints = page.locator(".CodeMirror-hints li").all_inner_texts()
    assert "dj:NegotiationRound" in hints, hints
    page.keyboard.press("Enter")
    assert watched.editor_value().endswith("?x a dj:NegotiationRound\n}")
    page.click("#run")
    watched.wait_for_rows()
    page.click("#yasr .select_response")  # the raw answer, in Yasr's own CodeMirror view
    page.wait_for_selector("#yasr .CodeMirror")
    watched.screenshot("editor-completion")
    assert any(url.endswith("/query/terms.json") for url in watched.requests)
    # A prefixed name whose prefix is not declared yet gets its PREFIX line, from our prefixes.
    watched.set_editor("SELECT * WHERE { ?x a \n}")
    page.evaluate("""() => { const cm = document.querySelector('.CodeMirror').CodeMirror;
                           cm.focus(); cm.setCursor({line: 0, ch: 1000}); }""")
    page.keyboard.type("djr:j")
    page.wait_for_function("() => true")  # let the editor's change handlers run
    assert "PREFIX djr: <https://w3id.org/dprk-japan-kg/id/>" in watched.editor_value()
    assert watched.outside == [], watched.outside
    assert watched.console_errors == []


def test_without_javascript_the_page_is_a_form_that_answers(chromium_browser: Any, live_server: Any) -> None:
    plain = Watched(chromium_browser, live_server.url, java_script_enabled=False)
    try:
        plain.page.goto(live_server.url + "/query?query=" + urllib.parse.quote(ROUNDS_QUERY))
        assert plain.page.input_value("textarea#query") == ROUNDS_QUERY
        plain.page.click("#run")
        plain.page.wait_for_url("**/sparql?query=*")
        assert "NegotiationRound" in plain.page.content() or "round" in plain.page.inner_text("main").lower()
        assert plain.outside == []
    finally:
        plain.close()
