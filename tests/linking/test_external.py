"""The external panels of entity pages are bounded: a page waits half a second at most for a remote, a second page
does not wait for a fetch already running, a failure is remembered (its endpoint left alone for a while), and the
facts come out in a fixed order, one per value."""

from __future__ import annotations

import threading
import time

import pyoxigraph as ox

from service.linking.external import ExternalFacts, facts_from, query_for
from service.sparql.federation import ServiceFailure

ITEM = "http://www.wikidata.org/entity/Q17"
WDT = "http://www.wikidata.org/prop/direct/"


def test_a_slow_remote_costs_one_page_half_a_second_and_the_next_pages_nothing():
    release = threading.Event()

    def slow(endpoint, query, timeout, row_cap):
        release.wait(5)
        return ["p", "o", "name"], [(ox.NamedNode("http://schema.org/description"),
                                     ox.Literal("island country in East Asia", language="en"), None)], False

    facts = ExternalFacts({"wikidata": "http://remote.invalid/sparql"}, timeout=5, fetch=slow)
    started = time.monotonic()
    assert [p.status for p in facts.panels([ITEM])] == ["pending"]
    assert time.monotonic() - started < 1.0
    started = time.monotonic()
    assert [p.status for p in facts.panels([ITEM])] == ["pending"]
    assert time.monotonic() - started < 0.1  # a fetch already running is not waited for again
    release.set()
    deadline = time.monotonic() + 5
    while (panel := facts.panels([ITEM])[0]).status == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert panel.status == "ok" and panel.facts[0].text == "island country in East Asia"
    facts.close()


def test_a_failure_is_remembered_and_its_endpoint_left_alone():
    calls = []

    def refused(endpoint, query, timeout, row_cap):
        calls.append(query)
        raise ServiceFailure(f"SERVICE <{endpoint}> could not be reached: connection refused")

    facts = ExternalFacts({"wikidata": "http://remote.invalid/sparql"}, timeout=2, fetch=refused)
    first = facts.panels([ITEM])[0]
    assert first.status == "unavailable" and "connection refused" in first.message
    other = facts.panels(["http://www.wikidata.org/entity/Q423"])[0]
    assert other.status == "unavailable" and len(calls) == 1  # the endpoint is not asked again for a while
    facts.close()


def test_off_when_no_endpoint_or_no_time():
    assert [p.status for p in ExternalFacts({}, timeout=3).panels([ITEM])] == ["off"]
    assert [p.status for p in ExternalFacts({"wikidata": "http://x"}, timeout=0).panels([ITEM])] == ["off"]
    assert ExternalFacts({"wikidata": "http://x"}).panels(["https://example.org/not-an-item"]) == []


def test_facts_come_in_a_fixed_order_once_each_with_names_for_items():
    rows = [
        (ox.NamedNode(WDT + "P36"), ox.NamedNode("http://www.wikidata.org/entity/Q1490"),
         ox.Literal("Tokyo", language="en")),
        (ox.NamedNode("http://schema.org/description"), ox.Literal("island country", language="en"), None),
        (ox.NamedNode(WDT + "P571"),
         ox.Literal("0660-02-11T00:00:00Z", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")), None),
        (ox.NamedNode("http://schema.org/description"), ox.Literal("island country", language="en"), None),
    ]
    facts = facts_from("wikidata", rows)
    assert [(f.name, f.text) for f in facts] == [("description", "island country"), ("founded", "0660-02-11"),
                                                ("capital", "Tokyo")]
    assert facts[2].href == "http://www.wikidata.org/entity/Q1490"
    assert "<" + ITEM + ">" in query_for("wikidata", ITEM)
