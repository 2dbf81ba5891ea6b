"""The SPARQL 1.1 Service Description of ``/sparql``, built as a graph and served in the negotiated syntax.

Why a graph rather than a Turtle template: the description depends on settings
(entailment, union default graph, SERVICE allow-list) and on the store's named graphs,
and building triples keeps every syntax (Turtle, JSON-LD, RDF/XML, N-Triples) correct
by construction. Vocabulary: https://www.w3.org/TR/sparql11-service-description/ and
the format IRIs of https://www.w3.org/ns/formats/. Extension functions: none.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from flask import Response, current_app, request, url_for

from service.rdf import vocabulary
from service.rdf.vocabulary import ENTAILED_GRAPH, ENTAILMENT, FORMATS, PREFIXES, SD
from service.web import display, negotiation, responses
from service.web.context import get_store

RDF_TYPE = ox.NamedNode(vocabulary.RDF_TYPE)
RDFS_COMMENT = ox.NamedNode(vocabulary.RDFS_COMMENT)
DCT_TITLE = ox.NamedNode(vocabulary.DCT_TITLE)

#: Our result formats, as the W3C format IRIs (https://www.w3.org/ns/formats/).
RESULT_FORMAT_IRIS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                      "Turtle", "N-Triples", "JSON-LD", "RDF_XML", "N-Quads", "TriG")

DESCRIPTION_PREFIXES = {"sd": SD, "formats": FORMATS, "ent": ENTAILMENT, "rdfs": PREFIXES["rdfs"],
                        "dct": PREFIXES["dct"], "djg": PREFIXES["djg"], "djr": PREFIXES["djr"]}


RDFS_SEEALSO = ox.NamedNode(vocabulary.RDFS_SEE_ALSO)


def _sd(local: str) -> ox.NamedNode:
    return ox.NamedNode(SD + local)


def build(endpoint: str, settings: dict[str, Any], named_graphs: list[Any]) -> list[ox.Triple]:
    """The triples describing the endpoint at ``endpoint`` under ``settings``."""
    service = ox.BlankNode("service")
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, DCT_TITLE, ox.Literal("dprk-japan-kg SPARQL endpoint", language="en")),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Update")),
    ]
    triples += [ox.Triple(service, _sd("resultFormat"), ox.NamedNode(FORMATS + f)) for f in RESULT_FORMAT_IRIS]
    if settings.get("UNION_DEFAULT_GRAPH"):
        triples.append(ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")))
    if settings.get("SERVICE_ALLOWLIST"):
        triples.append(ox.Triple(service, _sd("feature"), _sd("BasicFederatedQuery")))
        triples.append(ox.Triple(service, RDFS_COMMENT, ox.Literal(
            "SERVICE may call only these endpoints: " + ", ".join(sorted(settings["SERVICE_ALLOWLIST"])) + ".",
            language="en")))
    if settings.get("ENTAILMENT") == "rdfs":
        triples.append(ox.Triple(service, _sd("defaultEntailmentRegime"), ox.NamedNode(ENTAILMENT + "RDFS")))
        triples.append(ox.Triple(service, RDFS_COMMENT, ox.Literal(
            f"RDFS subclass and subproperty inferences (rules rdfs7 and rdfs9) are materialized in the graph "
            f"<{ENTAILED_GRAPH}>, which the default graph includes.", language="en")))
    else:
        triples.append(ox.Triple(service, _sd("defaultEntailmentRegime"), ox.NamedNode(ENTAILMENT + "Simple")))
    # The default dataset is the dataset the VoID description (/.well-known/void) describes.
    from service.web.void import DATASET_IRI, VOID_PATH

    dataset, default_graph = ox.NamedNode(DATASET_IRI), ox.BlankNode("defaultGraph")
    triples += [
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, RDFS_SEEALSO, ox.NamedNode(endpoint.rsplit("/sparql", 1)[0] + VOID_PATH)),
        ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, RDF_TYPE, _sd("Graph")),
    ]
    for index, graph in enumerate(sorted(named_graphs, key=lambda g: g.value)):
        node = ox.BlankNode(f"graph{index}")
        triples += [
            ox.Triple(dataset, _sd("namedGraph"), node),
            ox.Triple(node, RDF_TYPE, _sd("NamedGraph")),
            ox.Triple(node, _sd("name"), graph),
        ]
    return triples


def respond() -> Response:
    """The description in the negotiated syntax (or the one ``?format=`` names); a browser (HTML first in Accept)
    gets it as a readable page, with a link to the query editor and a download per syntax."""
    graph_formats = tuple(f for f in negotiation.DESCRIPTION_FORMATS if f.key != "html")
    name = request.args.get("format")
    fmt = (negotiation.by_name(name, graph_formats, "format") if name is not None
           else negotiation.description_format(request.headers.get("Accept")))
    graphs = [g for g in get_store().named_graphs() if isinstance(g, ox.NamedNode)]
    triples = build(request.base_url, dict(current_app.config), graphs)
    if fmt.key == "html":
        downloads = [(display.format_label(f.name), url_for("sparql.endpoint", format=f.name), f.media_type)
                     for f in graph_formats if f.standard]
        return responses.graph_page(triples, title="SPARQL service description", downloads=downloads,
                                    template="service_description.html", intro=(
                                        "What the SPARQL endpoint at this address supports: query and update "
                                        "languages, result formats, the default dataset and its named graphs "
                                        "(W3C SPARQL 1.1 Service Description)."))
    rdf_format = ox.RdfFormat.from_media_type(fmt.key)
    prefixes = DESCRIPTION_PREFIXES if rdf_format == ox.RdfFormat.TURTLE else None
    body = ox.serialize(triples, format=rdf_format, prefixes=prefixes)
    response = Response(body, content_type=fmt.content_type)
    response.vary.add("Accept")
    return response
