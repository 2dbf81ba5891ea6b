"""``GET /search``: JSON for programs and the page for people, over the served store; the index follows writes."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest
from conftest import WRITE_TOKEN

from service.rdf.vocabulary import RESOURCE_NS

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SONG = RESOURCE_NS + "song-il-ho"


def _search(client, **params):
    response = client.get("/search?" + urllib.parse.urlencode(params), headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.parametrize("q", ["Song Il-ho", "Song Ilho", "song ilho", "SONG IL HO", "宋日昊", "宋日"])
def test_every_spelling_finds_song_il_ho_first(client, q):
    body = _search(client, q=q)
    first = body["results"][0]
    assert first["iri"] == SONG and first["label"] == "Song Il-ho"
    assert first["page"] == "/id/song-il-ho"
    assert [t["label"] for t in first["types"]] == ["person"]
    assert {d["id"] for d in first["documents"]} >= {"djr:doc-000", "djr:doc-001"}, "the documents stating him"


def test_the_chinese_form_is_what_matched(client):
    first = _search(client, q="宋日昊")["results"][0]
    assert first["match"] == "exact" and first["matched"] == {"text": "宋日昊", "lang": "zh", "property": "rdfs:label"}


def test_korean_forms_are_found(client):
    first = _search(client, q="란코프")["results"][0]
    assert first["label"] == "Andrei Lankov" and first["matched"]["lang"] == "ko"
    assert _search(client, q="아시아")["results"][0]["matched"]["text"] == "아시아엔", "a prefix of a Hangul name"


def test_results_are_ranked_exact_then_prefix(client):
    body = _search(client, q="Song Il-ho", limit=3)
    assert [r["match"] for r in body["results"]] == ["exact", "prefix", "prefix"]
    assert body["total"] >= 3 and len(body["results"]) == 3 and body["limit"] == 3


def test_type_limits_results_to_a_class_and_its_subclasses(client):
    agents = _search(client, q="kim", type="dj:Agent")
    assert agents["type"] == "dj:Agent" and agents["results"]
    assert all(any(t["id"] in ("dj:Person", "dj:Organization", "dj:State", "dj:Group") for t in r["types"])
               for r in agents["results"])
    everything = _search(client, q="kim")
    assert everything["total"] > agents["total"], "memberships and events named after a Kim are not agents"
    assert _search(client, q="Song Il-ho", type=RESOURCE_NS.replace("/id/", "/ontology#") + "Person")["total"] == 1


@pytest.mark.parametrize(("params", "parameter"), [
    ({"q": ""}, "q"), ({"q": "   "}, "q"), ({}, "q"), ({"q": "x" * 201}, "q"), ({"q": "Song", "type": ""}, "type"),
    ({"q": "Song", "limit": "0"}, "limit"), ({"q": "Song", "limit": "many"}, "limit"),
    ({"q": "Song", "limit": "101"}, "limit"), ({"q": "Song", "limit": "٣"}, "limit"),
    ({"q": "Song", "type": "Person"}, "type"), ({"q": "Song", "type": "nope:Person"}, "type"),
])
def test_bad_parameters_are_a_400_naming_them(client, params, parameter):
    response = client.get("/search?" + urllib.parse.urlencode(params), headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["parameter"] == parameter and body["message"]


def test_punctuation_alone_finds_nothing(client):
    assert _search(client, q="--")["total"] == 0


def test_too_long_is_explained(client):
    response = client.get("/search?q=" + "a" * 300)
    assert response.status_code == 400 and "at most 200" in response.get_json()["message"]


def test_the_page_shows_results_with_types_and_documents(client):
    response = client.get("/search?q=song+ilho", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<a href="/id/song-il-ho" title="' + SONG + '">Song Il-ho</a>' in html
    assert ">person</a>" in html and "doc-000</a>" in html and "doc-001</a>" in html
    assert 'value="song ilho"' in html, "the layout's box keeps the query"
    assert "Accept" in response.headers["Vary"]


def test_the_page_without_a_query_offers_examples(client):
    response = client.get("/search", headers={"Accept": BROWSER})
    assert response.status_code == 200 and "宋日昊" in response.get_data(as_text=True)


def test_an_empty_query_is_a_friendly_page_for_people(client):
    response = client.get("/search?q=", headers={"Accept": BROWSER})
    assert response.status_code == 400 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Give a name to search for" in html and '<form class="search-page"' in html


def test_nothing_found_says_so(client):
    html = client.get("/search?q=zzqqxx", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "Nothing is called “zzqqxx”" in html
    assert _search(client, q="zzqqxx") == {"query": "zzqqxx", "type": None, "limit": 20, "total": 0, "results": []}


def test_search_is_in_the_openapi_document(client):
    document = client.get("/openapi.json").get_json()
    operation = document["paths"]["/search"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"q", "type", "limit"}
    assert "application/json" in operation["responses"]["200"]["content"]


def test_a_write_is_found_by_the_next_search(make_app):
    app = make_app(WRITE_TOKEN=WRITE_TOKEN, VALIDATE_WRITES=False)
    client = app.test_client()
    assert _search(client, q="Zebulon Quarrington")["total"] == 0
    turtle = (f'<{RESOURCE_NS}zebulon-quarrington> <http://www.w3.org/2000/01/rdf-schema#label> '
              '"Zebulon Quarrington"@en .').encode()
    response = client.put("/store?graph=https://example.org/extra", data=turtle, content_type="text/turtle",
                          headers={"Authorization": f"Bearer {WRITE_TOKEN}"})
    assert response.status_code == 201
    assert _search(client, q="quarrington")["results"][0]["iri"] == RESOURCE_NS + "zebulon-quarrington"


@pytest.mark.slow
def test_live_server_finds_a_label_written_with_the_token(make_live_server):
    server = make_live_server(env={"DPRK_KG_WRITE_TOKEN": WRITE_TOKEN})

    def search(q: str) -> dict:
        request = urllib.request.Request(server.url + "/search?" + urllib.parse.urlencode({"q": q}),
                                         headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    assert search("Song Il-ho")["results"][0]["iri"] == SONG
    assert search("송일호")["total"] == 0
    update = (f'INSERT DATA {{ GRAPH <https://example.org/search-test> {{ <{SONG}> '
              '<http://www.w3.org/2004/02/skos/core#altLabel> "송일호"@ko } }')
    request = urllib.request.Request(server.url + "/sparql", data=urllib.parse.urlencode({"update": update}).encode(),
                                     headers={"Authorization": f"Bearer {WRITE_TOKEN}",
                                              "Content-Type": "application/x-www-form-urlencoded"}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status in (200, 204)
    found = search("송일호")["results"][0]
    assert found["iri"] == SONG and found["matched"] == {"text": "송일호", "lang": "ko", "property": "skos:altLabel"}


def test_canned_forms_suggest_iris_of_the_parameters_class(client):
    html = client.get("/queries/contacts-timeline", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert ('list="suggest-contacts-timeline-participant" data-search="/search?type=dj:Agent&amp;limit=20&amp;q="'
            in html)
    assert '<datalist id="suggest-contacts-timeline-participant"></datalist>' in html
    assert "autocomplete.js" in html and 'name="participant"' in html, "the plain input still works without it"
    suggestions = _search(client, type="dj:Agent", limit=20, q="Song")
    assert suggestions["results"][0]["id"] == "djr:song-il-ho"
    answer = client.get("/queries/contacts-timeline.json?participant=" + suggestions["results"][0]["id"])
    assert answer.status_code == 200, "a suggested value is one the form accepts"
    assert client.get("/assets/autocomplete.js").status_code in (200, 301, 302, 308)
