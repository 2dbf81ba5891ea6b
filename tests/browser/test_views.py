"""The timeline and chart views in Chromium: on the query page (Yasr views beside the table, the choice and the
measure in the URL) and on the canned-query pages with dates or counts (the *-timeline queries open on the timeline,
issue-frequency on the chart). As many items as the answer has dated rows, the undated rows listed apart, a bar per
row, items linked to their pages here, dates at their own precision, SVG and PNG downloads, nothing fetched from
elsewhere. Screenshots in tests/artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.browser import watch
from tests.browser.watch import Watched

chromium_browser = watch.chromium_browser  # the fixture, shared with test_editor.py

REPO = Path(__file__).resolve().parents[2]
XSD = "http://www.w3.org/2001/XMLSchema#"
DATE_TYPES = {XSD + "date", XSD + "dateTime", XSD + "gYearMonth", XSD + "gYear"}


def _answer(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def _dated(answer: dict[str, Any], columns: tuple[str, ...]) -> tuple[int, int]:
    """(rows with a date in one of ``columns``, rows without)."""
    rows = answer["results"]["bindings"]
    dated = sum(1 for row in rows if any(row.get(c, {}).get("datatype") in DATE_TYPES for c in columns))
    return dated, len(rows) - dated


@pytest.fixture
def watched(chromium_browser: Any, live_server: Any):
    page = Watched(chromium_browser, live_server.url)
    yield page
    page.close()
    assert page.outside == [], f"requests left 127.0.0.1: {page.outside}"
    assert page.console_errors == [], page.console_errors


def _items(page: Any) -> int:
    return int(page.get_attribute("figure.timeline", "data-items"))


def test_the_query_page_offers_the_timeline_beside_the_table_with_its_state_in_the_url(watched: Watched,
                                                                                        tmp_path: Path) -> None:
    body = (REPO / "queries" / "contacts-timeline.rq").read_text()
    dated, undated = _dated(_answer(watched.base + "/sparql?" + urllib.parse.urlencode({"query": body})),
                            ("start", "end"))
    assert dated > 5 and undated > 0
    page = watched.page
    page.goto(watched.base + "/query?" + urllib.parse.urlencode({"query": body, "view": "timeline"}))
    watched.wait_for_rows()
    page.wait_for_selector("figure.timeline svg")
    assert _items(page) == dated, "one item per dated row"
    assert page.locator(".timeline-undated li").count() == undated, "undated rows listed apart"
    links = page.locator("figure.timeline svg a")
    assert links.count() >= dated and links.first.get_attribute("href").startswith("/id/")
    assert page.locator("figure.timeline svg style").count() == 0, "Plot's style rules come from views.css"
    watched.screenshot("timeline-query-page")

    with page.expect_download() as svg_download:
        page.click("figure.timeline >> text=Download SVG")
    svg = Path(svg_download.value.path()).read_text()
    assert svg.startswith("<svg") and svg.count("<a ") >= dated and "<style>" in svg
    with page.expect_download() as png_download:
        page.click("figure.timeline >> text=Download PNG")
    png = Path(png_download.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert svg_download.value.suggested_filename == "query-timeline.svg"

    page.click("#yasr .select_table")
    page.wait_for_selector("#yasr table.dataTable")
    assert "view=" not in page.url, "the table is the default view"
    page.click("#yasr .select_timeline")
    page.wait_for_selector("figure.timeline svg")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["view"] == ["timeline"]


def test_dates_span_their_precision(watched: Watched) -> None:
    page = watched.page
    page.goto(watched.base + "/query")
    page.wait_for_selector(".CodeMirror")
    spans = page.evaluate("""() => [['gYear', '2012'], ['gYearMonth', '2012-11'], ['date', '2012-11-15'],
                                    ['gYear', '0099']].map(([type, value]) => DprkTimeline.span(
        {type: 'literal', datatype: 'http://www.w3.org/2001/XMLSchema#' + type, value})
        .slice(0, 2).map(d => d.toISOString().slice(0, 10)))""")
    assert spans == [["2012-01-01", "2013-01-01"], ["2012-11-01", "2012-12-01"], ["2012-11-15", "2012-11-16"],
                     ["0099-01-01", "0100-01-01"]]


@pytest.mark.parametrize(("name", "columns"), [("contacts-timeline", ("start", "end")),
                                                ("measures-timeline", ("start",))])
def test_the_timeline_queries_open_as_timelines(watched: Watched, name: str, columns: tuple[str, ...]) -> None:
    dated, undated = _dated(_answer(f"{watched.base}/queries/{name}.json"), columns)
    page = watched.page
    page.goto(f"{watched.base}/queries/{name}")
    page.wait_for_selector("details.result-view[open] figure.timeline svg")
    assert _items(page) == dated
    assert page.locator("details.result-view .timeline-undated li").count() == undated
    assert page.locator("table.results tbody tr").count() == dated + undated, "the table is still there"
    watched.screenshot(f"timeline-{name}")


def test_a_canned_page_with_dates_offers_the_timeline_and_keeps_it_in_the_url(watched: Watched) -> None:
    page = watched.page
    page.goto(watched.base + "/queries/commitments")
    page.wait_for_selector("details.result-view:not([hidden])")
    assert page.get_attribute("details.result-view", "open") is None, "offered, not forced"
    page.click("details.result-view summary")
    page.wait_for_selector("details.result-view figure.timeline svg, details.result-view .view-body:has-text('date')")
    assert page.url.endswith("#timeline")
    again = page.context.new_page()
    again.goto(page.url)
    again.wait_for_selector("details.result-view[open] .view-body *")
    again.close()


def test_without_javascript_a_canned_page_is_its_table(chromium_browser: Any, live_server: Any) -> None:
    plain = Watched(chromium_browser, live_server.url, java_script_enabled=False)
    try:
        plain.page.goto(live_server.url + "/queries/contacts-timeline")
        assert plain.page.locator("table.results tbody tr").count() > 5
        views = plain.page.locator("details.result-view")
        assert views.count() == 3 and not any(views.nth(i).is_visible() for i in range(3))
    finally:
        plain.close()


def test_issue_frequency_opens_as_a_chart_with_a_bar_per_row(watched: Watched) -> None:
    rows = _answer(f"{watched.base}/queries/issue-frequency.json")["results"]["bindings"]
    page = watched.page
    page.goto(f"{watched.base}/queries/issue-frequency")
    page.wait_for_selector("details.result-view[data-view=chart][open] figure.chart svg")
    assert page.locator("details.result-view[data-view=timeline]").count() == 0, "no dates, no timeline"
    assert int(page.get_attribute("figure.chart", "data-items")) == len(rows) > 3
    assert page.get_attribute("figure.chart", "data-kind") == "bar"
    assert page.locator("figure.chart svg a").count() == len(rows), "one linked bar per row"
    assert page.locator("figure.chart svg a").first.get_attribute("href").startswith("/id/")
    page.select_option("figure.chart select", "events")
    assert "events by" in page.inner_text("figure.chart figcaption")
    assert page.url.endswith("#chart=events"), "the measure is in the URL"
    watched.screenshot("chart-issue-frequency")
    page.goto(f"{watched.base}/queries/issue-frequency#chart=documents")
    page.reload()
    page.wait_for_selector("figure.chart svg")
    assert "documents by" in page.inner_text("figure.chart figcaption"), "the URL reopens the measure"


def test_the_query_page_offers_the_chart_with_its_measure_in_the_url(watched: Watched) -> None:
    body = (REPO / "queries" / "issue-frequency.rq").read_text()
    page = watched.page
    page.goto(watched.base + "/query?" + urllib.parse.urlencode({"query": body, "view": "chart", "measure": "events"}))
    watched.wait_for_rows()
    page.wait_for_selector("figure.chart svg")
    assert "events by" in page.inner_text("figure.chart figcaption")
    page.select_option("figure.chart select", "documents")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["measure"] == ["documents"]
    with page.expect_download() as png_download:
        page.click("figure.chart >> text=Download PNG")
    assert Path(png_download.value.path()).read_bytes()[:4] == b"\x89PNG"
    year_query = ("PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>\n"
                  "SELECT ?year (COUNT(DISTINCT ?round) AS ?rounds) WHERE {\n"
                  "  ?round a dj:NegotiationRound ; dj:startDate ?d BIND(YEAR(?d) AS ?year)\n} GROUP BY ?year\n")
    page.goto(watched.base + "/query?" + urllib.parse.urlencode({"query": year_query, "view": "chart"}))
    watched.wait_for_rows()
    page.wait_for_selector("figure.chart svg")
    assert page.get_attribute("figure.chart", "data-kind") == "line", "counts by year are a line"
    watched.screenshot("chart-by-year")


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _graph_nodes(ntriples: str) -> int:
    """Distinct resources of an N-Triples answer: subjects and non-literal objects (classes give colours)."""
    nodes = set()
    for line in ntriples.splitlines():
        parts = line.split(" ", 2)
        if len(parts) < 3:
            continue
        subject, predicate, rest = parts
        nodes.add(subject)
        if predicate != f"<{RDF_TYPE}>" and not rest.startswith('"'):
            nodes.add(rest.rsplit(" .", 1)[0].strip())
    return len(nodes)


def test_a_construct_page_opens_as_a_network_with_a_node_per_resource(watched: Watched) -> None:
    url = f"{watched.base}/queries/round-in-full.nt?round=djr:ev-2012-11-mongolia-talks"
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/n-triples"}),
                                timeout=60) as response:
        expected = _graph_nodes(response.read().decode())
    page = watched.page
    page.goto(f"{watched.base}/queries/round-in-full?round=djr:ev-2012-11-mongolia-talks")
    page.wait_for_selector("details.result-view[data-view=network][open] figure.network svg")
    assert int(page.get_attribute("figure.network", "data-nodes")) == expected > 5
    assert page.locator("figure.network svg a.network-node").first.get_attribute("href").startswith("/id/")
    assert page.locator(".network-legend li").count() >= 2, "nodes coloured by type, with a legend"
    watched.screenshot("network-round-in-full")


def test_two_iri_columns_open_as_a_network_and_labels_are_fetched(watched: Watched) -> None:
    rows = _answer(f"{watched.base}/queries/sub-organizations.json")["results"]["bindings"]
    iris = {row[v]["value"] for row in rows for v in ("organization", "parent") if v in row}
    page = watched.page
    page.goto(f"{watched.base}/queries/sub-organizations")
    page.wait_for_selector("details.result-view[data-view=network][open] figure.network svg")
    assert int(page.get_attribute("figure.network", "data-nodes")) == len(iris)
    # A CONSTRUCT without labels on the query page: the names come from the service.
    body = ("PREFIX dj: <https://w3id.org/dprk-japan-kg/ontology#>\n"
            "CONSTRUCT { ?e dj:participant ?a } WHERE { ?e dj:participant ?a }\n")
    page.goto(watched.base + "/query?" + urllib.parse.urlencode({"query": body, "view": "network"}))
    page.wait_for_selector("figure.network svg")
    titles = page.locator("figure.network svg a.network-node title").all_text_contents()
    assert any(title.startswith("Japan (dj:") for title in titles), titles[:5]
    assert page.locator("figure.network svg line title").first.text_content() == "dj:participant", "edges by property"
    watched.screenshot("network-query-page")


def test_a_large_answer_keeps_the_page_responsive(watched: Watched) -> None:
    """10,000 rows: the status and the whole-answer downloads come first, the table and the views get the first
    2,000 rows (and say so), each drawn within seconds; the network of a large graph draws within its cap."""
    page = watched.page
    body = "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 10000\n"
    page.goto(watched.base + "/query?" + urllib.parse.urlencode({"query": body}))
    status = watched.wait_for_rows()
    assert status.startswith("10,000 rows") and "hold the first 2,000" in status
    started = page.evaluate("performance.now()")
    assert len(watched.table()) == 50, "the table pages what it holds"
    assert page.evaluate("performance.now()") - started < 8000
    assert "2,000" in page.inner_text("#yasr"), "the table holds the first 2,000 rows"
    link = page.locator("#downloads a", has_text="CSV").get_attribute("href")
    with urllib.request.urlopen(watched.base + link, timeout=60) as response:
        rows = list(csv.reader(io.StringIO(response.read().decode(), newline="")))
        assert len(rows) == 10_001, "the download holds every row"

    body = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }\n"
    page.goto(watched.base + "/query?" + urllib.parse.urlencode({"query": body, "view": "network"}))
    watched.wait_for_rows()
    started = page.evaluate("performance.now()")
    page.wait_for_selector("figure.network svg", timeout=30_000)
    assert page.evaluate("performance.now()") - started < 8000
    nodes = int(page.get_attribute("figure.network", "data-nodes"))
    assert 1000 < nodes <= 3000, "the network draws from the whole answer, up to its own cap"
    assert str(nodes) in page.inner_text("figure.network figcaption")
    watched.screenshot("network-large")


def _canned_pages_with_views() -> list[str]:
    """Every canned query whose page offers a view, with its example parameters (from the contracts)."""
    from service.canned.header import load_queries

    loaded = load_queries(REPO / "queries")
    pages = []
    for query in (loaded.values() if isinstance(loaded, dict) else loaded):
        if query.federated:
            continue
        params = urllib.parse.urlencode({k: v if isinstance(v, str) else " ".join(v)
                                         for k, v in query.example_params().items()})
        pages.append(f"{query.name}?{params}" if params else query.name)
    return sorted(pages)


@pytest.mark.parametrize("path", _canned_pages_with_views())
def test_every_canned_page_draws_the_views_it_opens(watched: Watched, path: str) -> None:
    page = watched.page
    page.goto(f"{watched.base}/queries/{path}")
    opened = page.locator("details.result-view[open]")
    if page.locator("table.results tbody tr, .graph, section.subject").count() == 0:
        pytest.skip(f"{path}: the example answers nothing")
    for index in range(opened.count()):
        body = opened.nth(index).locator(".view-body")
        body.locator("figure, :text('nothing this view can draw')").first.wait_for(timeout=30_000)
        figure = body.locator("figure")
        if figure.count():
            drawn = figure.get_attribute("data-items") or figure.get_attribute("data-nodes")
            assert int(drawn) > 0, path


def test_entity_pages_show_their_events_as_a_timeline_and_their_organizations_as_a_network(watched: Watched) -> None:
    page = watched.page
    page.goto(f"{watched.base}/id/north-korea")
    events = page.locator("section[aria-labelledby=s-events] tbody tr").count()
    timeline = page.locator("details.result-view[data-view=timeline]")
    timeline.locator("summary").click()
    timeline.locator("figure.timeline svg").first.wait_for()
    drawn = int(timeline.locator("figure.timeline").get_attribute("data-items"))
    assert drawn + timeline.locator(".timeline-undated li").count() == events > 5, "every event listed, dated or not"
    network = page.locator("details.result-view[data-view=network]")
    answer = _answer(watched.base + network.get_attribute("data-answer"))
    iris = {row[v]["value"] for row in answer["results"]["bindings"] for v in ("organization", "parent")}
    network.locator("summary").click()
    network.locator("figure.network svg.network-svg").wait_for()
    assert int(network.locator("figure.network").get_attribute("data-nodes")) == len(iris) > 3
    assert page.url.endswith("#network")
    watched.screenshot("entity-north-korea-views")
    page.goto(f"{watched.base}/id/ev-2012-11-mongolia-talks#network")
    participants = page.locator("details.result-view[data-view=network][open]")
    participants.locator("figure.network svg.network-svg").wait_for()
    answer = _answer(watched.base + participants.get_attribute("data-answer"))
    iris = {row[v]["value"] for row in answer["results"]["bindings"] for v in ("event", "participant")}
    assert int(participants.locator("figure.network").get_attribute("data-nodes")) == len(iris) > 2
    watched.screenshot("entity-round-participants")


def test_an_entity_timeline_draws_each_event_at_its_most_precise_stated_date_and_span(watched: Watched) -> None:
    """Sources state the Pyongyang summit's date as 2002 and as 2002-09: the timeline draws the month, not
    whichever the store returns first; the détente, stated from 2002 to 2006, is drawn as that span."""
    page = watched.page
    page.goto(f"{watched.base}/id/north-korea#timeline")
    figure = page.locator("details.result-view[data-view=timeline][open] figure.timeline")
    figure.locator("svg").first.wait_for()
    tips = page.evaluate("""() => {
        const found = {};
        for (const link of document.querySelectorAll('figure.timeline svg a')) {
            const title = link.querySelector('title');
            const href = link.getAttribute('href') || link.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
            if (title) found[href] = title.textContent;
        }
        return found;
    }""")
    assert tips["/id/ev-2002-09-koizumi-pyongyang"].endswith("\n2002-09"), tips["/id/ev-2002-09-koizumi-pyongyang"]
    assert tips["/id/ev-detente-2002-2006"].endswith("\n2002 – 2006"), tips["/id/ev-detente-2002-2006"]
    assert watched.console_errors == []


def test_the_network_zooms_and_moves_from_the_keyboard(watched: Watched) -> None:
    """The drawing takes the focus (Tab reaches it) and answers + and - (zoom), 0 (reset) and the arrow keys
    (move), as the caption says; Ctrl with + is left to the browser."""
    page = watched.page
    page.goto(f"{watched.base}/id/ev-2012-11-mongolia-talks#network")
    svg = page.locator("details.result-view[data-view=network][open] svg.network-svg")
    svg.wait_for()
    assert "+ and - keys" in page.inner_text("figure.network figcaption")
    world = svg.locator("> g").first
    assert svg.get_attribute("tabindex") == "0", "in the Tab order"
    svg.focus()
    assert page.evaluate("() => document.activeElement.classList.contains('network-svg')"), "the drawing takes focus"
    page.keyboard.press("+")
    assert "scale(1.5)" in world.get_attribute("transform")
    page.keyboard.press("ArrowLeft")
    moved = world.get_attribute("transform")
    assert "scale(1.5)" in moved and not moved.startswith("translate(0,0)"), moved
    page.keyboard.press("-")
    page.keyboard.press("0")
    assert world.get_attribute("transform") == "translate(0,0) scale(1)"
    page.keyboard.press("Control+Minus")  # the browser's own zoom, not the drawing's
    assert world.get_attribute("transform") == "translate(0,0) scale(1)"
    page.keyboard.press("Tab")  # from the drawing to its first node, a link to the node's page
    assert page.evaluate("() => document.activeElement.classList.contains('network-node')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/id/**")
    assert watched.console_errors == []


#: 10,000 rows, each with a year (from 1000 to 1900, made from the length of its object) and a number.
LARGE_DATED = ("PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
               "SELECT ?s ?year ?n WHERE { GRAPH ?g { ?s ?p ?o }\n"
               "  BIND(STRLEN(SUBSTR(STR(?o), 1, 900)) AS ?n)\n"
               "  BIND(STRDT(STR(1000 + ?n), xsd:gYear) AS ?year) } LIMIT 10000\n")


@pytest.mark.parametrize(("view", "selector", "said"), [
    ("timeline", "figure.timeline", "the first 1000 are drawn"),
    ("chart", "figure.chart", "the first 200 of"),
])
def test_a_large_answer_in_the_timeline_and_the_chart_is_capped_and_says_so(watched: Watched, view: str,
                                                                             selector: str, said: str) -> None:
    """10,000 dated rows: the view gets the first 2,000 (the status says so), draws at most its cap (1,000 timeline
    items, 200 bars) within seconds, says so in its caption, and the page still answers at once."""
    page = watched.page
    page.goto(watched.base + "/query?" + urllib.parse.urlencode({"query": LARGE_DATED, "view": view}))
    status = watched.wait_for_rows()
    assert status.startswith("10,000 rows") and "hold the first 2,000" in status
    started = page.evaluate("performance.now()")
    page.wait_for_selector(f"{selector} svg", timeout=30_000)
    assert page.evaluate("performance.now()") - started < 8000
    assert said in page.inner_text(f"{selector} figcaption")
    if view == "timeline":
        assert page.get_attribute(selector, "data-items") == "1000"
    else:
        assert page.locator(f"{selector} svg a").count() <= 200 * 2
    # responsive: a script turn on the page comes back at once
    started = page.evaluate("performance.now()")
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 0))")
    assert page.evaluate("performance.now()") - started < 1000
    watched.screenshot(f"{view}-large")
    assert watched.console_errors == []
