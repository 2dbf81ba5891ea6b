"""The Graph Store HTTP Protocol on /store: read, replace, add to and delete whole graphs, with the status
codes of the specification, and every refused request leaving the store unchanged."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from tests.sparql_helpers import AUTH, EX, TOKEN, buffered_client, n, seed, snapshot

TURTLE = "text/turtle"
ENTAILED = "https://w3id.org/dprk-japan-kg/graph/entailed"


@pytest.fixture
def app(make_app):
    """A fresh writable service with two small graphs (union default graph, as deployed)."""
    application = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False)
    seed(application)
    return application


@pytest.fixture
def client(app):
    return buffered_client(app)


def triples(response, rdf_format=ox.RdfFormat.TURTLE) -> set[tuple]:
    return {(q.subject, q.predicate, q.object) for q in ox.parse(response.data, rdf_format)}


# -- reads ---------------------------------------------------------------------------------------------

def test_get_a_named_graph(client):
    response = client.get(f"/store?graph={EX}g1")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert triples(response) == {(n("a"), n("p"), ox.Literal("1"))}


@pytest.mark.parametrize(("accept", "rdf_format"), [
    ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/rdf+xml", ox.RdfFormat.RDF_XML),
])
def test_get_a_graph_in_other_formats(client, accept, rdf_format):
    response = client.get(f"/store?graph={EX}g2", headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["Content-Type"] == accept
    assert triples(response, rdf_format) == {(n("b"), n("p"), ox.Literal("2"))}


def test_get_the_default_graph_is_the_union_of_the_named_graphs(client):
    response = client.get("/store?default")
    assert triples(response) == {(n("a"), n("p"), ox.Literal("1")), (n("b"), n("p"), ox.Literal("2"))}


def test_head_answers_like_get_without_a_body(client):
    response = client.head(f"/store?graph={EX}g1")
    assert response.status_code == 200 and response.data == b""
    assert response.headers["Content-Type"].startswith("text/turtle")
    assert client.head(f"/store?graph={EX}missing").status_code == 404


def test_a_missing_graph_is_a_404_naming_it(client):
    response = client.get(f"/store?graph={EX}missing")
    assert response.status_code == 404 and f"<{EX}missing>" in response.get_data(as_text=True)


@pytest.mark.parametrize(("query", "named"), [
    ("", "'?default'"),
    (f"?default&graph={EX}g1", "not both"),
    (f"?graph={EX}g1&graph={EX}g2", "'graph'"),
    ("?graph=relative", "'graph'"),
])
def test_naming_no_graph_or_two_is_a_400(client, query, named):
    for method in ("GET", "PUT", "DELETE") if query == "" else ("GET", "PUT", "POST", "DELETE"):  # POST: creation
        response = client.open(f"/store{query}", method=method, data="<a:b> <a:c> <a:d> .", content_type=TURTLE,
                               headers=AUTH)
        assert response.status_code == 400, (method, response.data)
        assert named in response.get_data(as_text=True)


def test_a_graph_result_cannot_be_had_as_csv(client):
    assert client.get(f"/store?graph={EX}g1", headers={"Accept": "text/csv"}).status_code == 406


# -- writes ----------------------------------------------------------------------------------------------

def test_put_creates_a_graph_201_then_replaces_it_204(client):
    response = client.put(f"/store?graph={EX}g9", data=f"<{EX}x> <{EX}p> 9 .", content_type=TURTLE, headers=AUTH)
    assert response.status_code == 201
    response = client.put(f"/store?graph={EX}g9", data=f"<{EX}y> <{EX}p> 10 .", content_type=TURTLE, headers=AUTH)
    assert response.status_code == 204
    assert triples(client.get(f"/store?graph={EX}g9")) == {
        (n("y"), n("p"), ox.Literal("10", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))}


def test_post_creates_a_graph_201_then_merges_into_it_204(client):
    assert client.post(f"/store?graph={EX}g9", data=f"<{EX}x> <{EX}p> \"9\" .", content_type=TURTLE,
                       headers=AUTH).status_code == 201
    assert client.post(f"/store?graph={EX}g9", data=f"<{EX}y> <{EX}p> \"10\" .",
                       content_type="application/n-triples", headers=AUTH).status_code == 204
    assert triples(client.get(f"/store?graph={EX}g9")) == {(n("x"), n("p"), ox.Literal("9")),
                                                           (n("y"), n("p"), ox.Literal("10"))}


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/rdf+xml", '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                            'xmlns:e="http://example.org/"><rdf:Description rdf:about="http://example.org/x">'
                            '<e:p>9</e:p></rdf:Description></rdf:RDF>'),
    ("application/ld+json", '{"@id": "http://example.org/x", "http://example.org/p": "9"}'),
    ("text/turtle; charset=utf-8", '@prefix e: <http://example.org/> . e:x e:p "9" .'),
    ("text/n3", '@prefix e: <http://example.org/> . e:x e:p "9" .'),
])
def test_bodies_in_every_input_format(client, content_type, body):
    assert client.put(f"/store?graph={EX}g9", data=body, content_type=content_type, headers=AUTH).status_code == 201
    assert triples(client.get(f"/store?graph={EX}g9")) == {(n("x"), n("p"), ox.Literal("9"))}


def test_relative_iris_in_a_body_resolve_against_the_graph_name(client):
    client.put(f"/store?graph={EX}docs/g9", data="<x> <p> <y> .", content_type=TURTLE, headers=AUTH)
    assert triples(client.get(f"/store?graph={EX}docs/g9")) == {(n("docs/x"), n("docs/p"), n("docs/y"))}


def test_delete_drops_the_graph_204_then_it_is_404(client):
    assert client.delete(f"/store?graph={EX}g1", headers=AUTH).status_code == 204
    assert client.get(f"/store?graph={EX}g1").status_code == 404
    assert client.delete(f"/store?graph={EX}g1", headers=AUTH).status_code == 404
    assert triples(client.get("/store?default")) == {(n("b"), n("p"), ox.Literal("2"))}


def test_writes_show_in_the_union_default_graph_and_in_queries(client):
    client.post(f"/store?graph={EX}g9", data=f"<{EX}x> <{EX}p> \"9\" .", content_type=TURTLE, headers=AUTH)
    response = client.get("/sparql", query_string={"query": f"ASK {{ <{EX}x> <{EX}p> \"9\" }}"})
    assert response.get_json(force=True)["boolean"] is True


def test_blank_nodes_of_two_posts_stay_distinct(client):
    for _ in range(2):
        client.post(f"/store?graph={EX}g9", data=f"_:b <{EX}p> \"9\" .", content_type=TURTLE, headers=AUTH)
    assert len(triples(client.get(f"/store?graph={EX}g9"))) == 2


# -- refused writes: 4xx naming the problem, nothing changed --------------------------------------------

@pytest.mark.parametrize(("method", "target", "kwargs", "status", "named"), [
    ("PUT", "?default", {"data": f"<{EX}x> <{EX}p> 1 .", "content_type": TURTLE}, 400, "name a graph"),
    ("POST", "?default", {"data": f"<{EX}x> <{EX}p> 1 .", "content_type": TURTLE}, 400, "name a graph"),
    ("DELETE", "?default", {}, 400, "name a graph"),
    ("PUT", f"?graph={ENTAILED}", {"data": f"<{EX}x> <{EX}p> 1 .", "content_type": TURTLE}, 403, ENTAILED),
    ("DELETE", f"?graph={ENTAILED}", {}, 403, ENTAILED),
    ("PUT", f"?graph={EX}g1", {"data": "a,b\n1,2\n", "content_type": "text/csv"}, 415, "text/turtle"),
    ("PUT", f"?graph={EX}g1", {"data": f"<{EX}x> <{EX}p> 1 .", "content_type": "application/n-quads"}, 415,
     "application/n-quads"),
    ("PUT", f"?graph={EX}g1", {"data": f"<{EX}x> <{EX}p> 1 ."}, 415, "(none)"),
    ("PUT", f"?graph={EX}g1", {"data": f"<{EX}x> <{EX}p> .\n", "content_type": TURTLE}, 400, "line 1"),
    ("POST", f"?graph={EX}g1", {"data": f"<{EX}x> <{EX}p> 1 .\nGRAPH <{EX}g> {{ }}", "content_type": TURTLE}, 400,
     "line 2"),
    ("PUT", "?graph=file:///etc/passwd", {"data": f"<{EX}x> <{EX}p> 1 .", "content_type": TURTLE}, 400, "file:"),
])
def test_refused_writes_name_the_problem_and_change_nothing(app, client, method, target, kwargs, status, named):
    before = snapshot(app)
    response = client.open(f"/store{target}", method=method, headers=AUTH, **kwargs)
    assert response.status_code == status, response.data
    assert named in response.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({"Authorization": "Bearer nope"}, 403)])
def test_writes_need_the_token(app, client, headers, status):
    before = snapshot(app)
    for method in ("PUT", "POST", "DELETE"):
        response = client.open(f"/store?graph={EX}g1", method=method, data=f"<{EX}x> <{EX}p> 1 .",
                               content_type=TURTLE, headers=headers)
        assert response.status_code == status
    assert snapshot(app) == before


def test_a_read_only_service_refuses_graph_store_writes(make_app):
    app = make_app(LOAD_DATA=False)
    seed(app)
    before = snapshot(app)
    response = buffered_client(app).put(f"/store?graph={EX}g1", data=f"<{EX}x> <{EX}p> 1 .", content_type=TURTLE,
                                        headers=AUTH)
    assert response.status_code == 403 and "read-only" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_a_body_above_the_limit_is_a_413(make_app):
    app = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False, MAX_BODY_BYTES=100)
    before = snapshot(app)
    body = "".join(f"<{EX}x{i}> <{EX}p> {i} .\n" for i in range(20))
    response = buffered_client(app).put(f"/store?graph={EX}g9", data=body, content_type=TURTLE, headers=AUTH)
    assert response.status_code == 413 and "MAX_BODY_BYTES" in response.get_data(as_text=True)
    assert snapshot(app) == before


# -- without the union default graph, the default graph is a graph like the others -----------------------

def test_the_default_graph_is_writable_when_it_is_not_the_union(make_app):
    app = make_app(WRITE_TOKEN=TOKEN, LOAD_DATA=False, UNION_DEFAULT_GRAPH=False, ENTAILMENT="none")
    client = buffered_client(app)
    assert client.put("/store?default", data=f"<{EX}x> <{EX}p> 1 .", content_type=TURTLE, headers=AUTH
                      ).status_code == 204
    assert client.post("/store?default", data=f"<{EX}y> <{EX}p> 2 .", content_type=TURTLE, headers=AUTH
                       ).status_code == 204
    assert len(triples(client.get("/store?default"))) == 2
    assert client.delete("/store?default", headers=AUTH).status_code == 204
    assert triples(client.get("/store?default")) == set()


# -- direct graph identification: the request URL is the graph IRI ---------------------------------------

DIRECT = "http://localhost/store/person/1.ttl"


def test_direct_put_creates_201_then_get_head_post_put_and_delete_work_on_the_url(client):
    response = client.put("/store/person/1.ttl", data="<#me> a <http://xmlns.com/foaf/0.1/Person> .",
                          content_type=TURTLE, headers=AUTH)
    assert response.status_code == 201 and response.headers["Location"] == DIRECT
    me = ox.NamedNode(DIRECT + "#me")  # relative IRIs in the body resolve against the graph IRI
    assert triples(client.get("/store/person/1.ttl")) == {
        (me, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
         ox.NamedNode("http://xmlns.com/foaf/0.1/Person"))}
    head = client.head("/store/person/1.ttl")
    assert head.status_code == 200 and head.data == b"" and head.headers["Content-Type"].startswith("text/turtle")
    assert client.post("/store/person/1.ttl", data='<#me> <#name> "Jane" .', content_type=TURTLE,
                       headers=AUTH).status_code == 204
    assert len(triples(client.get("/store/person/1.ttl"))) == 2
    assert client.put("/store/person/1.ttl", data='<#me> <#name> "Joe" .', content_type=TURTLE,
                      headers=AUTH).status_code == 204
    assert triples(client.get("/store/person/1.ttl")) == {
        (me, ox.NamedNode(DIRECT + "#name"), ox.Literal("Joe"))}
    assert client.delete("/store/person/1.ttl", headers=AUTH).status_code == 204
    assert client.get("/store/person/1.ttl").status_code == 404
    assert client.head("/store/person/1.ttl").status_code == 404
    assert client.delete("/store/person/1.ttl", headers=AUTH).status_code == 404


def test_a_direct_graph_is_an_ordinary_named_graph(client):
    client.post("/store/person/2", data=f'<{EX}x> <{EX}p> "9" .', content_type=TURTLE, headers=AUTH)
    by_parameter = client.get("/store", query_string={"graph": "http://localhost/store/person/2"})
    assert triples(by_parameter) == {(n("x"), n("p"), ox.Literal("9"))}
    assert (n("x"), n("p"), ox.Literal("9")) in triples(client.get("/store?default"))  # the union default graph
    response = client.get("/sparql", query_string={
        "query": f'ASK {{ GRAPH <http://localhost/store/person/2> {{ <{EX}x> <{EX}p> "9" }} }}'})
    assert response.get_json(force=True)["boolean"] is True


def test_a_missing_direct_graph_is_a_404_naming_it(client):
    response = client.get("/store/person/404")
    assert response.status_code == 404 and "<http://localhost/store/person/404>" in response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "url", "kwargs", "status", "named"), [
    ("PUT", "/store/person/1?graph=http://example.org/g1", {"data": f"<{EX}x> <{EX}p> 1 .", "content_type": TURTLE},
     400, "query string"),
    ("GET", "/store/person/1?default", {}, 400, "query string"),
    ("DELETE", "/store/g1?x=1", {}, 400, "query string"),
    ("PUT", "/store/a%3Cb%3E", {"data": f"<{EX}x> <{EX}p> 1 .", "content_type": TURTLE}, 400, "not a valid graph IRI"),
    ("PUT", "/store/person/1", {"data": f"<{EX}x> <{EX}p> .", "content_type": TURTLE}, 400, "line 1"),
    ("PUT", "/store/person/1", {"data": "a,b", "content_type": "text/csv"}, 415, "text/csv"),
])
def test_refused_direct_requests_name_the_problem_and_change_nothing(app, client, method, url, kwargs, status,
                                                                     named):
    before = snapshot(app)
    response = client.open(url, method=method, headers=AUTH, **kwargs)
    assert response.status_code == status, response.data
    assert named in response.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({"Authorization": "Bearer nope"}, 403)])
def test_direct_writes_need_the_token(app, client, headers, status):
    before = snapshot(app)
    for method in ("PUT", "POST", "DELETE"):
        response = client.open("/store/person/1", method=method, data=f"<{EX}x> <{EX}p> 1 .",
                               content_type=TURTLE, headers=headers)
        assert response.status_code == status
    assert snapshot(app) == before


# -- multipart/form-data POST: every part is an RDF document merged into the graph ------------------------

BOUNDARY = "a6fe4cd636164618814be9f8d3d1a0de"


def multipart(*parts: tuple[str, str | None, str]) -> str:
    """A multipart/form-data body: each part is (name, Content-Type or None, content)."""
    text = ""
    for name, content_type, content in parts:
        text += f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n"
        text += f"Content-Type: {content_type}\r\n" if content_type else ""
        text += f"\r\n{content}\r\n"
    return text + f"--{BOUNDARY}--\r\n"


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def test_a_multipart_post_merges_every_part_in_its_own_syntax(client):
    # UTF-8 in a part survives the multipart parsing
    body = multipart(("last.ttl", "text/turtle; charset=utf-8", f'@prefix e: <{EX}> . e:a e:family "Dö 김" .'),
                     ("first.nt", "application/n-triples", f'<{EX}a> <{EX}given> "Jane" .'))
    assert client.post(f"/store?graph={EX}g1", data=body, content_type=MULTIPART, headers=AUTH).status_code == 204
    assert triples(client.get(f"/store?graph={EX}g1")) == {
        (n("a"), n("p"), ox.Literal("1")), (n("a"), n("family"), ox.Literal("Dö 김")),
        (n("a"), n("given"), ox.Literal("Jane"))}
    assert client.post("/store/people", data=body, content_type=MULTIPART, headers=AUTH).status_code == 201
    assert len(triples(client.get("/store/people"))) == 2


@pytest.mark.parametrize(("method", "body", "content_type", "status", "named"), [
    ("POST", multipart(("a.ttl", "text/turtle", f"<{EX}x> <{EX}p> 1 ."), ("b.csv", "text/csv", "a,b")),
     MULTIPART, 415, "part 2 ('b.csv')"),
    ("POST", multipart(("a.ttl", "text/turtle", f"<{EX}x> <{EX}p> 1 ."), ("b.ttl", None, f"<{EX}x> <{EX}p> 2 .")),
     MULTIPART, 415, "part 2 ('b.ttl')"),
    ("POST", multipart(("a.ttl", "text/turtle", f"<{EX}x> <{EX}p> 1 ."), ("b.ttl", "text/turtle", f"<{EX}x> <{EX}p>")),
     MULTIPART, 400, "part 2 ('b.ttl') is not valid"),
    ("POST", multipart(("a.ttl", "text/turtle", f"<{EX}x> <{EX}p> 1 .")), "multipart/form-data", 400, "boundary"),
    ("POST", f"--{BOUNDARY}--\r\n", MULTIPART, 400, f"no part delimited by the boundary '--{BOUNDARY}'"),
    ("PUT", multipart(("a.ttl", "text/turtle", f"<{EX}x> <{EX}p> 1 .")), MULTIPART, 415, "for POST"),
])
def test_a_refused_multipart_body_names_the_part_and_changes_nothing(app, client, method, body, content_type,
                                                                      status, named):
    before = snapshot(app)
    response = client.open(f"/store?graph={EX}g1", method=method, data=body, content_type=content_type,
                           headers=AUTH)
    assert response.status_code == status, response.data
    assert named in response.get_data(as_text=True)
    assert snapshot(app) == before


# -- POST to the store itself creates a graph with a fresh IRI --------------------------------------------

def test_post_to_the_store_creates_a_new_graph_named_in_location(client):
    body = f'[] <{EX}p> [ <{EX}name> "Alice" ] .'
    first = client.post("/store", data=body, content_type=TURTLE, headers=AUTH)
    assert first.status_code == 201
    location = first.headers["Location"]
    assert location.startswith("http://localhost/store/") and len(location) > len("http://localhost/store/")
    direct = triples(client.get(location.removeprefix("http://localhost")))
    assert len(direct) == 2 and ox.Literal("Alice") in {o for _, _, o in direct}
    assert triples(client.get("/store", query_string={"graph": location})) == direct
    second = client.post("/store", data=body, content_type=TURTLE, headers=AUTH)
    assert second.status_code == 201 and second.headers["Location"] != location


@pytest.mark.parametrize(("kwargs", "headers", "status", "named"), [
    ({"data": f"<{EX}x> <{EX}p> .", "content_type": TURTLE}, AUTH, 400, "line 1"),
    ({"data": "a,b", "content_type": "text/csv"}, AUTH, 415, "text/csv"),
    ({"data": f"<{EX}x> <{EX}p> 1 .", "content_type": TURTLE}, {}, 401, "Bearer"),
])
def test_a_refused_graph_creation_names_the_problem_and_creates_nothing(app, client, kwargs, headers, status,
                                                                         named):
    before = snapshot(app)
    response = client.post("/store", headers=headers, **kwargs)
    assert response.status_code == status, response.data
    assert named in response.get_data(as_text=True)
    assert snapshot(app) == before
